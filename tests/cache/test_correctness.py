"""After a write returns, every later read shows it: no stale favoritesCount, title, author bio,
following flag, deleted article, tag list or list membership (issue 8, part 3).

Each test warms the cache first and checks that it is warm (the second read of each path runs
no query), then writes through the API and reads through the API and the pages, signed in and
anonymously, on each backend (``cache_backend``: LocMem, real Redis, real Memcached). A read in
the process that wrote is never stale, anonymous ones included: the write clears this process's
micro-cache. (The 1 s bound for anonymous reads after a write in *another* process is checked by
the state machine in test_state_machine.py, with a controlled clock.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conduit.articles.models import Article
from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache
from conduit.users.models import User
from tests.factories import UserFactory, make_article

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]

LIST_PATHS = [
    "/api/articles",
    "/api/articles?tag=common",
    "/api/articles?author=alice",
    "/api/articles?favorited=carol",
]


@dataclass
class World:
    alice: User  # the author
    bob: User  # the signed-in reader
    carol: User  # another writer: favorites
    article: Article
    as_alice: APIClient
    as_bob: APIClient
    as_carol: APIClient
    anonymous: APIClient
    bob_pages: Client
    visitor_pages: Client

    @property
    def readers(self) -> list[APIClient]:
        return [self.as_bob, self.anonymous]


@pytest.fixture
def world(cache_backend: str, client_for: Callable[[User], APIClient]) -> World:
    alice = UserFactory(username="alice", bio="Alice writes.")
    bob = UserFactory(username="bob")
    carol = UserFactory(username="carol")
    article = make_article(alice, title="First title", tags=["common", "first"])
    make_article(carol, title="Carol's", tags=["common"])
    bob_pages = Client()
    bob_pages.force_login(bob)
    world = World(
        alice=alice,
        bob=bob,
        carol=carol,
        article=article,
        as_alice=client_for(alice),
        as_bob=client_for(bob),
        as_carol=client_for(carol),
        anonymous=APIClient(),
        bob_pages=bob_pages,
        visitor_pages=Client(),
    )
    warm(world, [*LIST_PATHS, f"/api/articles/{article.slug}", "/api/tags", "/api/profiles/alice"])
    return world


def warm(world: World, paths: list[str]) -> None:
    """Fill the cache from empty (the setup's writes left short-lived tombstones), then check
    that each path is served from it: no query anonymously, only the flags signed in."""
    cache.clear()
    for path in paths:
        for client in world.readers:
            assert client.get(path).status_code == 200, path
    micro_cache.clear()
    for path in paths:
        with CaptureQueriesContext(connection) as anonymous:
            assert world.anonymous.get(path).status_code == 200
        assert len(anonymous) == 0, (path, [q["sql"] for q in anonymous.captured_queries])


def read(client: APIClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.json()


def listed(client: APIClient, path: str) -> dict[str, dict[str, Any]]:
    return {a["slug"]: a for a in read(client, path)["articles"]}


def page_text(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


# --- favoritesCount -----------------------------------------------------------------------------


def test_favorites_count_and_favorites_list(world):
    slug = world.article.slug
    assert world.as_carol.post(f"/api/articles/{slug}/favorite").status_code == 200
    for client in world.readers:
        assert read(client, f"/api/articles/{slug}")["article"]["favoritesCount"] == 1
        for path in LIST_PATHS[:3]:
            assert listed(client, path)[slug]["favoritesCount"] == 1, path
        assert slug in listed(client, "/api/articles?favorited=carol")
    assert "Favorite article (1)" in page_text(world.visitor_pages, "/")

    assert world.as_carol.delete(f"/api/articles/{slug}/favorite").status_code == 200
    for client in world.readers:
        assert read(client, f"/api/articles/{slug}")["article"]["favoritesCount"] == 0
        assert listed(client, "/api/articles")[slug]["favoritesCount"] == 0
        assert slug not in listed(client, "/api/articles?favorited=carol")
    assert "Favorite article (0)" in page_text(world.bob_pages, "/profile/alice")


def test_favorited_flag_of_the_reader(world):
    slug = world.article.slug
    assert world.as_bob.post(f"/api/articles/{slug}/favorite").status_code == 200
    assert read(world.as_bob, f"/api/articles/{slug}")["article"]["favorited"] is True
    assert listed(world.as_bob, "/api/articles")[slug]["favorited"] is True
    assert listed(world.anonymous, "/api/articles")[slug]["favorited"] is False


# --- title (and with it the slug) ---------------------------------------------------------------


def test_title_edit(world):
    old = world.article.slug
    response = world.as_alice.put(
        f"/api/articles/{old}", {"article": {"title": "Second title"}}, format="json"
    )
    assert response.status_code == 200
    new = response.json()["article"]["slug"]
    assert new != old
    for client in world.readers:
        assert read(client, f"/api/articles/{new}")["article"]["title"] == "Second title"
        assert client.get(f"/api/articles/{old}").status_code == 404
        for path in LIST_PATHS[:3]:
            titles = {a["title"] for a in listed(client, path).values()}
            assert "Second title" in titles, path
            assert "First title" not in titles, path
    for pages in (world.bob_pages, world.visitor_pages):
        home = page_text(pages, "/")
        assert "Second title" in home
        assert "First title" not in home
        assert "Second title" in page_text(pages, f"/article/{new}")


def test_description_edit_keeps_the_slug(world):
    slug = world.article.slug
    response = world.as_alice.put(
        f"/api/articles/{slug}", {"article": {"description": "Changed"}}, format="json"
    )
    assert response.status_code == 200
    for client in world.readers:
        assert read(client, f"/api/articles/{slug}")["article"]["description"] == "Changed"
        assert listed(client, "/api/articles")[slug]["description"] == "Changed"


# --- author bio ---------------------------------------------------------------------------------


def test_author_bio(world):
    slug = world.article.slug
    response = world.as_alice.put("/api/user", {"user": {"bio": "A new bio."}}, format="json")
    assert response.status_code == 200
    for client in world.readers:
        assert read(client, f"/api/articles/{slug}")["article"]["author"]["bio"] == "A new bio."
        for path in LIST_PATHS[:3]:
            assert listed(client, path)[slug]["author"]["bio"] == "A new bio.", path
        assert read(client, "/api/profiles/alice")["profile"]["bio"] == "A new bio."
    assert "A new bio." in page_text(world.visitor_pages, "/profile/alice")


def test_author_username_moves_the_author_list(world):
    slug = world.article.slug
    response = world.as_alice.put("/api/user", {"user": {"username": "alicia"}}, format="json")
    assert response.status_code == 200
    for client in world.readers:
        assert listed(client, "/api/articles")[slug]["author"]["username"] == "alicia"
        assert slug in listed(client, "/api/articles?author=alicia")
        assert listed(client, "/api/articles?author=alice") == {}
        assert read(client, "/api/profiles/alicia")["profile"]["username"] == "alicia"
        assert client.get("/api/profiles/alice").status_code == 404


# --- following flag -----------------------------------------------------------------------------


def test_following_flag(world):
    slug = world.article.slug
    assert read(world.as_bob, "/api/profiles/alice")["profile"]["following"] is False
    assert world.as_bob.post("/api/profiles/alice/follow").status_code == 200
    assert read(world.as_bob, "/api/profiles/alice")["profile"]["following"] is True
    assert read(world.anonymous, "/api/profiles/alice")["profile"]["following"] is False
    assert read(world.as_bob, f"/api/articles/{slug}")["article"]["author"]["following"] is True
    for path in LIST_PATHS[:3]:
        assert listed(world.as_bob, path)[slug]["author"]["following"] is True, path
    assert slug in listed(world.as_bob, "/api/articles/feed")
    assert listed(world.anonymous, "/api/articles")[slug]["author"]["following"] is False

    assert world.as_bob.delete("/api/profiles/alice/follow").status_code == 200
    assert read(world.as_bob, "/api/profiles/alice")["profile"]["following"] is False
    assert read(world.as_bob, f"/api/articles/{slug}")["article"]["author"]["following"] is False
    assert listed(world.as_bob, "/api/articles")[slug]["author"]["following"] is False
    assert listed(world.as_bob, "/api/articles/feed") == {}


# --- deleted article, tag list, list membership ---------------------------------------------------


def test_deleted_article(world):
    slug = world.article.slug
    before = read(world.anonymous, "/api/articles")["articlesCount"]
    assert world.as_alice.delete(f"/api/articles/{slug}").status_code in (200, 204)
    for client in world.readers:
        assert client.get(f"/api/articles/{slug}").status_code == 404
        for path in LIST_PATHS:
            assert slug not in listed(client, path), path
        assert read(client, "/api/articles")["articlesCount"] == before - 1
        assert "first" not in read(client, "/api/tags")["tags"]
    for pages in (world.bob_pages, world.visitor_pages):
        assert "First title" not in page_text(pages, "/")
        assert pages.get(f"/article/{slug}").status_code == 404


def test_new_article_joins_every_list_and_the_tags(world):
    response = world.as_alice.post(
        "/api/articles",
        {
            "article": {
                "title": "Brand new",
                "description": "d",
                "body": "b",
                "tagList": ["common", "fresh"],
            }
        },
        format="json",
    )
    assert response.status_code == 201
    slug = response.json()["article"]["slug"]
    for client in world.readers:
        for path in LIST_PATHS[:3]:
            assert slug in listed(client, path), path
        assert read(client, "/api/articles")["articlesCount"] == 3
        assert "fresh" in read(client, "/api/tags")["tags"]
    assert "Brand new" in page_text(world.visitor_pages, "/?tag=common")
    assert "fresh" in page_text(world.visitor_pages, "/")


def test_tags_edit_moves_the_article_between_tag_lists(world):
    slug = world.article.slug
    response = world.as_alice.put(
        f"/api/articles/{slug}", {"article": {"tagList": ["other"]}}, format="json"
    )
    assert response.status_code == 200
    for client in world.readers:
        assert slug not in listed(client, "/api/articles?tag=common")
        assert slug in listed(client, "/api/articles?tag=other")
        assert listed(client, "/api/articles")[slug]["tagList"] == ["other"]
        tags = read(client, "/api/tags")["tags"]
        assert "other" in tags
        assert "first" not in tags
