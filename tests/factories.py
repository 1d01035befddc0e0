"""Test data built through the write services, so counters are as real as in production."""

from collections.abc import Sequence
from typing import Any

import factory

from conduit.articles.favorites import favorite_add
from conduit.articles.models import Article
from conduit.articles.services import article_create
from conduit.comments.models import Comment
from conduit.comments.services import comment_create
from conduit.profiles.services import follow_add
from conduit.users.models import User


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    bio = None
    image = None
    password = factory.django.Password("password123")


def make_article(
    author: User,
    *,
    title: str = "An article",
    description: str = "About something",
    body: str = "Some *markdown* body",
    tags: Sequence[str] = (),
) -> Article:
    return article_create(
        author=author, title=title, description=description, body=body, tags=list(tags)
    )


def make_articles(author: User, count: int, **kwargs: Any) -> list[Article]:
    return [make_article(author, title=f"Article {i}", **kwargs) for i in range(count)]


def make_comment(author: User, article: Article, body: str = "A comment") -> Comment:
    return comment_create(author=author, slug=article.slug, body=body)


def favorite(user: User, article: Article) -> None:
    favorite_add(user=user, slug=article.slug)


def follow(follower: User, followee: User) -> None:
    follow_add(follower=follower, followee=followee)
