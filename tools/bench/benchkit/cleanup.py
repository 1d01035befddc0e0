"""Undoing what the write scenarios wrote, so that a kept database (``BENCH_KEEP_DB=1``) stays as
seeded. Every row goes through the domain's write services, which own the counter rules and the
cache invalidation; the bench only finds its rows and checks the counters it touched. The rows
are found from the actors, fixed by primary key (``dataset.Actors``), and from the marks the Lua
scripts leave (lua/common.lua), never from the inputs picked for a run: an interrupted run's
leftovers change what would be picked."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchkit.dataset import Actors

WRITE_TITLE = "Bench write "  # every article the bench creates has a title starting so (lua)
COMMENT_BODY = "Bench comment "  # and every comment a body
BIO = "Bench bio "  # and every bio update_user sets
REGISTERED = "bench-reg-"  # and every account register makes, its username
# Passes the validators (length, not common, unlike the username and email); erasing an account
# asks for its password.
REGISTER_PASSWORD = "wN4q-7Rt9-zLx2-Vk8p-Hc3m"  # noqa: S105 - throw-away bench accounts
CHUNK = 1_000  # articles per transaction: a bounded lock set and statement size


def undo_writes(
    actors: Actors, restore: Path, *, users: Iterable[str] = (), articles: Iterable[str] = ()
) -> dict[str, Any]:
    """Remove what the bench wrote, then check the counters it touched: those of the actors,
    of whatever the removed rows pointed at, and of ``users`` and ``articles`` (usernames,
    slugs: the run's inputs, which a run may have left as seeded)."""
    from conduit.articles.models import Article
    from conduit.users.models import User

    touched_users, touched_articles = set(users), set(articles)
    undone = {
        "favorites_removed": _remove_favorites(actors, touched_articles),
        "articles_deleted": _delete_articles(actors.writer),
        "follows_removed": _remove_follows(actors, touched_users),
        "comments_deleted": _delete_comments(actors.comment_actor),
        "accounts_erased": _erase_registered(),
        "bio_restored": _restore_bio(restore),
    }
    user_pks = set(
        User.objects.filter(
            username__in=[*touched_users, *_names(actors), *actors.hot_users]
        ).values_list("pk", flat=True)
    )
    article_pks = set(
        Article.objects.filter(slug__in=touched_articles).values_list("pk", flat=True)
    )
    return {**undone, "counter_drift": counter_drift(actors, user_pks, article_pks)}


def _names(actors: Actors) -> list[str]:
    return [actors.writer, actors.fav_actor, actors.follow_actor, actors.comment_actor,
            actors.update_actor]  # fmt: skip


def _remove_favorites(actors: Actors, touched: set[str]) -> int:
    """``favorite_remove`` for each favorite the fav actor and the hot users made after the bulk
    data's date (the bulk data's favorites are all from that date)."""
    from conduit.articles.favorites import favorite_remove
    from conduit.articles.models import Favorite
    from conduit.demo.bulk.plan import START

    favorites = Favorite.objects.filter(
        user__username__in=[actors.fav_actor, *actors.hot_users], created_at__gt=START
    ).select_related("user", "article")
    removed = 0
    for favorite in favorites.order_by("pk"):
        favorite_remove(user=favorite.user, slug=favorite.article.slug)
        touched.add(favorite.article.slug)
        removed += 1
    return removed


def _delete_articles(writer: str) -> int:
    """The writer's "Bench write" articles, with ``article_delete_many`` in chunks."""
    from conduit.articles.models import Article
    from conduit.articles.services import article_delete_many

    ids = list(
        Article.objects.filter(author__username=writer, title__startswith=WRITE_TITLE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(
        article_delete_many(ids=ids[start : start + CHUNK]) for start in range(0, len(ids), CHUNK)
    )


def _remove_follows(actors: Actors, touched: set[str]) -> int:
    """``follow_remove`` for each follow the follow actor and the hot users made after the bulk
    data's date."""
    from conduit.demo.bulk.plan import START
    from conduit.profiles.models import Follow
    from conduit.profiles.services import follow_remove

    follows = Follow.objects.filter(
        follower__username__in=[actors.follow_actor, *actors.hot_users], created_at__gt=START
    ).select_related("follower", "followee")
    removed = 0
    for follow in follows.order_by("pk"):
        follow_remove(follower=follow.follower, followee=follow.followee)
        touched.add(follow.followee.username)
        removed += 1
    return removed


def _delete_comments(comment_actor: str) -> int:
    """The comment actor's "Bench comment" comments, with ``comment_delete`` (as their author)."""
    from conduit.comments.models import Comment
    from conduit.comments.services import comment_delete
    from conduit.users.models import User

    author = User.objects.get(username=comment_actor)
    comments = (
        Comment.objects.filter(author=author, body__startswith=COMMENT_BODY)
        .select_related("article")
        .only("pk", "article__id")
        .order_by("pk")
    )
    deleted = 0
    for comment in comments:
        comment_delete(user=author, article=comment.article, comment_id=comment.pk)
        deleted += 1
    return deleted


def _erase_registered() -> int:
    """The accounts register made, with ``account_erase`` (the account-deletion service, which
    checks the password first: an Argon2 verification each, ~30 ms)."""
    from conduit.privacy.services import account_erase
    from conduit.users.models import User

    erased = 0
    for user in User.objects.filter(username__startswith=REGISTERED).order_by("pk"):
        account_erase(user=user, password=REGISTER_PASSWORD)
        erased += 1
    return erased


def remember_bio(update_actor: str, restore: Path) -> None:
    """Write down the update actor's bio before update_user changes it: ``undo_writes`` puts it
    back from ``restore`` (next to the database: a run cut short leaves it for the next one)."""
    from conduit.users.models import User

    bio = User.objects.values_list("bio", flat=True).get(username=update_actor)
    if restore.exists() or (bio or "").startswith(BIO):
        return  # the seeded bio is already written down, or lost (counter_drift says so)
    restore.parent.mkdir(parents=True, exist_ok=True)
    restore.write_text(json.dumps({"username": update_actor, "bio": bio}) + "\n")


def _restore_bio(restore: Path) -> bool:
    """The remembered bio put back with ``user_update``; False when none was remembered."""
    from conduit.users.models import User
    from conduit.users.services import user_update

    if not restore.exists():
        return False
    saved = json.loads(restore.read_text())
    user = User.objects.get(username=saved["username"])
    if user.bio != saved["bio"]:
        user_update(user=user, bio=saved["bio"], fields={"bio"})
    restore.unlink()
    return True


def counter_drift(actors: Actors, user_pks: set[int], article_pks: set[int]) -> list[str]:
    """The counters the write scenarios move that disagree with their rows, on the rows they
    touched (manage.py check_counters checks every counter of every row), and an update actor
    whose bio is still the bench's."""
    from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
    from django.db.models.functions import Coalesce

    from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
    from conduit.profiles.models import Follow
    from conduit.users.models import User

    def count_of(model: Any, column: str) -> Coalesce:
        rows = model._default_manager.filter(**{column: OuterRef("pk")}).order_by().values(column)
        counted = rows.annotate(n=Count("*")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    checks = [
        (User, user_pks, "articles_count", Article, "author"),
        (User, user_pks, "favorites_count", Favorite, "user"),
        (User, user_pks, "followers_count", Follow, "followee"),
        (User, user_pks, "following_count", Follow, "follower"),
        (Article, article_pks, "favorites_count", Favorite, "article"),
    ]
    drift = []
    for model, pks, counter, counted, column in checks:
        wrong = (
            model._default_manager.filter(pk__in=pks)
            .annotate(actual=count_of(counted, column))
            .filter(~Q(**{counter: F("actual")}))
            .values_list("pk", flat=True)
        )
        drift += [f"{model.__name__.lower()} {pk}.{counter}" for pk in wrong]
    site = (
        SiteCounter.objects.filter(name=SiteCounter.ARTICLES)
        .values_list("value", flat=True)
        .first()
    )
    if site != Article.objects.count():
        drift.append("site articles counter")
    drift += [
        f"tag {tag.name}.articles_count"
        for tag in Tag.objects.filter(name__in=["bench", "django"])
        if tag.articles_count != ArticleTag.objects.filter(tag=tag).count()
    ]
    bio = User.objects.values_list("bio", flat=True).get(username=actors.update_actor)
    if (bio or "").startswith(BIO):
        drift.append(f"{actors.update_actor}.bio is still update_user's (the seeded one is lost)")
    return drift
