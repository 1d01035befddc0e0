"""Load Conduit's demo content. Idempotent: running it again adds nothing that is there."""

import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from conduit.articles.favorites import favorite_add
from conduit.articles.models import Article, Favorite
from conduit.articles.services import article_create
from conduit.comments.models import Comment
from conduit.comments.services import comment_create
from conduit.demo import data
from conduit.profiles.models import Follow
from conduit.profiles.services import follow_add
from conduit.users.models import User
from conduit.users.services import user_register, user_update


class Command(BaseCommand):
    help = "Load the demo users, articles, follows, favorites and comments (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = {u["username"]: self._user(u) for u in data.USERS}
        articles: dict[str, Article] = {}
        for spec in data.ARTICLES:
            author = users[spec["author"]]
            article = Article.objects.filter(author=author, title=spec["title"]).first()
            if article is None:
                article = article_create(
                    author=author,
                    title=spec["title"],
                    description=spec["description"],
                    body=spec["body"],
                    tags=spec["tags"],
                )
            articles[spec["title"]] = article
        for follower, followee in data.FOLLOWS:
            if not Follow.objects.filter(
                follower=users[follower], followee=users[followee]
            ).exists():
                follow_add(follower=users[follower], followee=users[followee])
        for username, title in data.FAVORITES:
            if not Favorite.objects.filter(user=users[username], article=articles[title]).exists():
                favorite_add(user=users[username], slug=articles[title].slug)
        for username, title, body in data.COMMENTS:
            if not Comment.objects.filter(
                author=users[username], article=articles[title], body=body
            ).exists():
                comment_create(author=users[username], slug=articles[title].slug, body=body)
        self.stdout.write(
            f"demo data ready: {len(users)} users (password {data.DEMO_PASSWORD!r}), "
            f"{len(articles)} articles"
        )

    def _user(self, spec: data.DemoUser) -> User:
        user = User.objects.filter(username=spec["username"]).first()
        if user is None:
            # Registered as anyone would be, then given the documented demo password, which
            # the password rules refuse from a user (it is like the demo emails and known).
            user = user_register(
                username=spec["username"], email=spec["email"], password=secrets.token_urlsafe(24)
            )
            user.set_password(data.DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user_update(user=user, bio=spec["bio"], image=spec["image"], fields={"bio", "image"})
        return user
