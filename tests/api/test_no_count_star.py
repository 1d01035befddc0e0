"""Lists never run ``COUNT(...)``, and the counts they report instead are right.

``articlesCount`` comes from counters the write services maintain (``SiteCounter "articles"``,
``Tag.articles_count``, ``User.articles_count``, ``User.favorites_count``, and for the feed the
sum of the followed authors' ``articles_count``), so a list costs the same on a site with ten
articles and on one with ten million. Combining two filters has no counter: that path counts by
fetching the matching ids (bounded), still without ``COUNT``.

The first part captures the SQL of every list request and looks for ``COUNT(`` anywhere in it.
The second part moves the counters through creates, edits, deletes, favorites and follows and
checks each filter's ``articlesCount`` against the articles actually listed, and each counter
column against the rows it counts.
"""

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conduit.articles.favorites import favorite_remove
from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
from conduit.articles.services import article_delete, article_update
from conduit.profiles.models import Follow
from conduit.profiles.services import follow_remove
from conduit.users.models import User
from tests.factories import UserFactory, favorite, follow, make_article, make_comment

pytestmark = pytest.mark.django_db

COUNT_CALL = re.compile(r"\bCOUNT\s*\(", re.IGNORECASE)

Capture = Callable[[], AbstractContextManager[CaptureQueriesContext]]


def count_statements(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if COUNT_CALL.search(q["sql"])]


def get_without_count(client: APIClient, capture_sql: Capture, path: str, **params: Any) -> Any:
    """GET ``path`` and fail if any statement it ran calls ``COUNT(``."""
    with capture_sql() as ctx:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    assert ctx.captured_queries, "the request ran no SQL at all: nothing was checked"
    assert count_statements(ctx) == [], f"GET {path} {params} ran COUNT"
    return response.json()


def test_the_check_sees_a_count(db: None, capture_sql: Capture) -> None:
    """The pattern catches what Django emits for ``.count()`` and ``Count()``; otherwise the tests
    below would pass vacuously."""
    with capture_sql() as ctx:
        Article.objects.count()
        list(User.objects.annotate(n=Count("favorites")).values("n"))
    assert len(count_statements(ctx)) == 2


# --- No COUNT in any list ------------------------------------------------------------------------


@pytest.fixture
def site(user: User) -> dict[str, Any]:
    """A small site: two authors with tagged articles, favorites, follows and comments."""
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    a1 = make_article(alice, title="A1", tags=["python", "django"])
    make_article(alice, title="A2", tags=["python"])
    b1 = make_article(bob, title="B1", tags=["django"])
    favorite(user, a1)
    favorite(bob, a1)
    favorite(alice, b1)
    follow(user, alice)
    follow(user, bob)
    make_comment(bob, a1, "first")
    make_comment(user, a1, "second")
    return {"slug": a1.slug}


LIST_REQUESTS = [
    pytest.param("/api/articles", {}, id="global"),
    pytest.param("/api/articles", {"tag": "python"}, id="tag"),
    pytest.param("/api/articles", {"tag": "nope"}, id="unknown-tag"),
    pytest.param("/api/articles", {"author": "alice"}, id="author"),
    pytest.param("/api/articles", {"author": "nobody"}, id="unknown-author"),
    pytest.param("/api/articles", {"favorited": "bob"}, id="favorited"),
    pytest.param("/api/articles", {"tag": "django", "author": "alice"}, id="tag+author"),
    pytest.param("/api/articles", {"tag": "django", "favorited": "bob"}, id="tag+favorited"),
    pytest.param(
        "/api/articles",
        {"tag": "python", "author": "alice", "favorited": "bob"},
        id="tag+author+favorited",
    ),
    pytest.param("/api/articles", {"limit": 1, "offset": 1}, id="paged"),
    pytest.param("/api/articles/{slug}/comments", {}, id="comments"),
    pytest.param("/api/tags", {}, id="tags"),
    pytest.param("/api/profiles/alice", {}, id="profile"),
]


@pytest.mark.parametrize(("path", "params"), LIST_REQUESTS)
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed_in"])
def test_no_count_in_lists(
    path, params, signed_in, site, user, api, client_for, capture_sql
) -> None:
    client = client_for(user) if signed_in else api
    get_without_count(client, capture_sql, path.format(**site), **params)


@pytest.mark.parametrize("params", [{}, {"limit": 1, "offset": 1}], ids=["first-page", "paged"])
def test_no_count_in_feed(params, site, user, client_for, capture_sql) -> None:
    body = get_without_count(client_for(user), capture_sql, "/api/articles/feed", **params)
    assert body["articlesCount"] == 3


# --- articlesCount follows the writes ----------------------------------------------------------


def assert_counters_match_rows() -> None:
    """Every maintained counter equals a ``COUNT`` of the rows it stands for (computed here, in
    the test, which is the one place allowed to count)."""
    assert SiteCounter.objects.get(name=SiteCounter.ARTICLES).value == Article.objects.count()
    for tag in Tag.objects.all():
        assert tag.articles_count == ArticleTag.objects.filter(tag=tag).count(), tag.name
    for u in User.objects.all():
        assert u.articles_count == Article.objects.filter(author=u).count(), u.username
        assert u.favorites_count == Favorite.objects.filter(user=u).count(), u.username
        assert u.followers_count == Follow.objects.filter(followee=u).count(), u.username
        assert u.following_count == Follow.objects.filter(follower=u).count(), u.username
    for article in Article.objects.all():
        assert article.favorites_count == Favorite.objects.filter(article=article).count()


class Lists:
    """Reads every list through the API (no ``COUNT`` allowed) and checks that ``articlesCount``
    is both the expected number and the number of articles actually listed."""

    def __init__(self, client: APIClient, capture_sql: Capture) -> None:
        self.client = client
        self.capture_sql = capture_sql

    def count(self, path: str = "/api/articles", **params: Any) -> int:
        body = get_without_count(self.client, self.capture_sql, path, limit=100, **params)
        assert body["articlesCount"] == len(body["articles"]), (path, params, body)
        # Paging does not change the total.
        paged = get_without_count(self.client, self.capture_sql, path, limit=1, offset=1, **params)
        assert paged["articlesCount"] == body["articlesCount"], (path, params)
        assert len(paged["articles"]) == min(1, max(0, body["articlesCount"] - 1))
        return int(body["articlesCount"])

    def feed(self) -> int:
        return self.count("/api/articles/feed")

    def tags(self) -> list[str]:
        return list(get_without_count(self.client, self.capture_sql, "/api/tags")["tags"])

    def snapshot(self) -> dict[str, int]:
        return {
            "all": self.count(),
            "tag:python": self.count(tag="python"),
            "tag:django": self.count(tag="django"),
            "tag:go": self.count(tag="go"),
            "tag:rust": self.count(tag="rust"),
            "author:alice": self.count(author="alice"),
            "author:bob": self.count(author="bob"),
            "favorited:carol": self.count(favorited="carol"),
            "favorited:viewer": self.count(favorited="viewer"),
            "python+alice": self.count(tag="python", author="alice"),
            "python+carol": self.count(tag="python", favorited="carol"),
            "feed": self.feed(),
        }


@pytest.fixture
def lists(client_for: Callable[[User], APIClient], capture_sql: Capture) -> Lists:
    viewer = UserFactory(username="viewer")
    return Lists(client_for(viewer), capture_sql)


def test_articles_count_follows_every_write(lists: Lists) -> None:
    viewer = User.objects.get(username="viewer")
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    carol = UserFactory(username="carol")

    a1 = make_article(alice, title="A1", tags=["python", "django"])
    a2 = make_article(alice, title="A2", tags=["python"])
    a3 = make_article(alice, title="A3")
    b1 = make_article(bob, title="B1", tags=["django"])
    b2 = make_article(bob, title="B2", tags=["python", "go"])
    for article in (a1, b1, b2):
        favorite(carol, article)
    favorite(viewer, a2)
    follow(viewer, alice)
    follow(viewer, bob)
    follow(carol, alice)  # someone else's follow must not leak into the viewer's feed

    assert lists.snapshot() == {
        "all": 5,
        "tag:python": 3,
        "tag:django": 2,
        "tag:go": 1,
        "tag:rust": 0,
        "author:alice": 3,
        "author:bob": 2,
        "favorited:carol": 3,
        "favorited:viewer": 1,
        "python+alice": 2,
        "python+carol": 2,
        "feed": 5,
    }
    assert lists.tags() == ["python", "django", "go"]
    assert_counters_match_rows()

    # Deleting a tagged, favorited article takes it out of every count it was in.
    article_delete(article=b2, user=bob)
    # Unfavoriting and re-tagging.
    favorite_remove(user=carol, slug=a1.slug)
    article_update(article=a2, editor=alice, tags=["go", "rust"], fields={"tagList"})
    # A new article by someone the viewer does not follow is not in the feed.
    make_article(carol, title="C1", tags=["rust"])
    # The viewer stops following bob.
    follow_remove(follower=viewer, followee=bob)

    assert lists.snapshot() == {
        "all": 5,  # a1 a2 a3 b1 c1
        "tag:python": 1,  # a1
        "tag:django": 2,  # a1 b1
        "tag:go": 1,  # a2
        "tag:rust": 2,  # a2 c1
        "author:alice": 3,
        "author:bob": 1,
        "favorited:carol": 1,  # b1
        "favorited:viewer": 1,  # a2
        "python+alice": 1,  # a1
        "python+carol": 0,
        "feed": 3,  # alice's three
    }
    assert lists.tags() == ["django", "rust", "go", "python"]
    assert_counters_match_rows()

    # Deleting an author's every article, and an article the viewer favorited.
    for article in (a1, a2, a3):
        article_delete(article=article, user=alice)
    assert lists.snapshot() == {
        "all": 2,  # b1 c1
        "tag:python": 0,
        "tag:django": 1,
        "tag:go": 0,
        "tag:rust": 1,
        "author:alice": 0,
        "author:bob": 1,
        "favorited:carol": 1,
        "favorited:viewer": 0,
        "python+alice": 0,
        "python+carol": 0,
        "feed": 0,
    }
    # Tags nobody uses any more drop out of the tag list.
    assert lists.tags() == ["django", "rust"]
    assert_counters_match_rows()


def test_articles_count_through_the_api(
    lists: Lists, client_for: Callable[[User], APIClient]
) -> None:
    """The same counters, moved by API requests instead of service calls."""
    alice = UserFactory(username="alice")
    carol = UserFactory(username="carol")
    as_alice, as_carol = client_for(alice), client_for(carol)

    slugs = []
    for i, tags in enumerate([["python"], ["python", "django"], []]):
        payload = {"article": {"title": f"T{i}", "description": "d", "body": "b", "tagList": tags}}
        response = as_alice.post("/api/articles", payload, format="json")
        assert response.status_code == 201, response.content
        slugs.append(response.json()["article"]["slug"])
    for slug in slugs[:2]:
        assert as_carol.post(f"/api/articles/{slug}/favorite").status_code == 200
    assert lists.client.post("/api/profiles/alice/follow").status_code == 200

    counts = lists.snapshot()
    assert (counts["all"], counts["tag:python"], counts["tag:django"]) == (3, 2, 1)
    assert (counts["author:alice"], counts["favorited:carol"], counts["feed"]) == (3, 2, 3)
    assert counts["python+carol"] == 2

    assert as_carol.delete(f"/api/articles/{slugs[0]}/favorite").status_code == 200
    assert as_alice.delete(f"/api/articles/{slugs[1]}").status_code == 204
    payload = {"article": {"tagList": ["django"]}}
    assert as_alice.put(f"/api/articles/{slugs[2]}", payload, format="json").status_code == 200

    counts = lists.snapshot()
    assert (counts["all"], counts["tag:python"], counts["tag:django"]) == (2, 1, 1)
    assert (counts["author:alice"], counts["favorited:carol"], counts["feed"]) == (2, 0, 2)
    assert counts["python+carol"] == 0
    assert lists.tags() == ["django", "python"]
    assert_counters_match_rows()
