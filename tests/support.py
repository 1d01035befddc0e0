"""Assertions shared by the API and service tests: response shapes, the error body, and a
snapshot of every row count and maintained counter (to prove a failed write changed nothing)."""

import importlib.util
import re
import runpy
import secrets
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import structlog
from django.db import connection

import config.settings as production_settings
from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
from conduit.comments.models import Comment
from conduit.profiles.models import Follow
from conduit.users.models import User

JSON_UTF8 = "application/json; charset=utf-8"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

USER_KEYS = {"email", "token", "username", "bio", "image"}
PROFILE_KEYS = {"username", "bio", "image", "following"}
ARTICLE_KEYS = {
    "slug",
    "title",
    "description",
    "body",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}
ARTICLE_LIST_ITEM_KEYS = ARTICLE_KEYS - {"body"}
COMMENT_KEYS = {"id", "createdAt", "updatedAt", "body", "author"}


def assert_error(
    response: Any, status: int, key: str | None = None, message: str | None = None
) -> dict[str, list[str]]:
    """``response`` is Conduit's error: ``{"errors": {<key>: [...]}}``, field-keyed only, every
    value a non-empty list of non-empty strings, and no message repeated as another entry (as a
    ``body`` summary of "<key> <message>" sentences did: clients show each entry that way)."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert "Location" not in response
    data = response.json()
    assert set(data) == {"errors"}, data
    errors = data["errors"]
    assert isinstance(errors, dict)
    assert errors, data
    for field, messages in errors.items():
        assert isinstance(messages, list), (field, messages)
        assert messages, (field, errors)
        assert all(isinstance(m, str) and m for m in messages), (field, messages)
    sentences = {f"{field} {m}" for field, messages in errors.items() for m in messages}
    assert not sentences & {m for messages in errors.values() for m in messages}, errors
    if key is not None:
        assert key in errors, (key, errors)
        if message is not None:
            assert errors[key][0] == message, (key, errors)
    return errors


def assert_user(user: dict[str, Any]) -> None:
    assert set(user) == USER_KEYS, user
    assert isinstance(user["token"], str)
    assert user["token"]


def assert_profile(profile: dict[str, Any]) -> None:
    assert set(profile) == PROFILE_KEYS, profile
    assert isinstance(profile["following"], bool)


def assert_article(article: dict[str, Any], *, in_list: bool = False) -> None:
    assert set(article) == (ARTICLE_LIST_ITEM_KEYS if in_list else ARTICLE_KEYS), article
    assert ISO_MS.match(article["createdAt"]), article["createdAt"]
    assert ISO_MS.match(article["updatedAt"]), article["updatedAt"]
    assert isinstance(article["tagList"], list)
    assert isinstance(article["favorited"], bool)
    assert type(article["favoritesCount"]) is int
    assert_profile(article["author"])


def assert_comment(comment: dict[str, Any]) -> None:
    assert set(comment) == COMMENT_KEYS, comment
    assert type(comment["id"]) is int
    assert ISO_MS.match(comment["createdAt"]), comment["createdAt"]
    assert ISO_MS.match(comment["updatedAt"]), comment["updatedAt"]
    assert_profile(comment["author"])


def db_state() -> dict[str, Any]:
    """Every row count, every maintained counter and the editable columns of users and articles."""
    return {
        "users": sorted(
            User.objects.values_list(
                "pk",
                "username",
                "email",
                "bio",
                "image",
                "password",
                "articles_count",
                "favorites_count",
                "followers_count",
                "following_count",
            )
        ),
        "articles": sorted(
            (row[0], *row[1:-1], tuple(row[-1]))
            for row in Article.objects.values_list(
                "pk",
                "slug",
                "title",
                "description",
                "body",
                "favorites_count",
                "updated_at",
                "tag_list",
            )
        ),
        "tags": sorted(Tag.objects.values_list("name", "articles_count")),
        "article_tags": ArticleTag.objects.count(),
        "favorites": Favorite.objects.count(),
        "follows": Follow.objects.count(),
        "comments": sorted(Comment.objects.values_list("pk", "body")),
        "site_articles": site_articles(),
    }


@contextmanager
def unchanged() -> Iterator[None]:
    """Asserts that the block wrote nothing: no row, no counter, no column changed."""
    before = db_state()
    yield
    assert db_state() == before


def site_articles() -> int:
    return (
        SiteCounter.objects.filter(name=SiteCounter.ARTICLES)
        .values_list("value", flat=True)
        .first()
        or 0
    )


def assert_counters_consistent() -> None:
    """Every maintained counter equals the number of rows it counts."""
    for user in User.objects.all():
        assert user.articles_count == Article.objects.filter(author=user).count(), user
        assert user.favorites_count == Favorite.objects.filter(user=user).count(), user
        assert user.followers_count == Follow.objects.filter(followee=user).count(), user
        assert user.following_count == Follow.objects.filter(follower=user).count(), user
    for article in Article.objects.all():
        assert article.favorites_count == Favorite.objects.filter(article=article).count()
        assert sorted(article.tag_list) == sorted(
            ArticleTag.objects.filter(article=article).values_list("tag__name", flat=True)
        )
    for tag in Tag.objects.all():
        assert tag.articles_count == ArticleTag.objects.filter(tag=tag).count(), tag
    assert site_articles() == Article.objects.count()


def production_settings_with(
    monkeypatch: pytest.MonkeyPatch, unset: Iterable[str] = (), **env: str
) -> dict[str, Any]:
    """config/settings.py run afresh, as a new process would read it: a strong ``SECRET_KEY``,
    the variables in ``unset`` removed, then ``env`` set. Running the settings configures
    structlog again (the console renderer with DEBUG on), so the test run's configuration is
    put back after, or later tests' log lines would change format."""
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(50))
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    saved = structlog.get_config()
    try:
        return runpy.run_path(str(Path(production_settings.__file__)))
    finally:
        structlog.configure(**saved)


def load_tool(name: str, path: Path) -> ModuleType:
    """A script of tools/ loaded as the module ``name`` (registered in ``sys.modules``: its
    dataclasses look their module up there)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def by_path(one_statement: int, orm: int) -> int:
    """A write's exact query count by its path: a favorite or a follow is one statement on
    PostgreSQL, which also returns what the response shows, and an ORM transaction then a read
    elsewhere (SQLite; ADR 0025)."""
    return one_statement if connection.vendor == "postgresql" else orm
