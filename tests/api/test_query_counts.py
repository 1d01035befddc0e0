"""Exact SQL query counts for every API endpoint.

Each test builds the same shape of data at two sizes, ``n = 1`` and ``n = 20`` (articles in a
list, comments on an article, favoriters, followers, tags...), and asserts one hard-coded number
of queries for both. A list whose query count grows with its page size (an N+1), or a request
that picks up an extra lookup, fails here with the captured SQL in the message.

What the numbers include:

* Signing in with ``Authorization: Token`` is one query (the user's id, username and
  ``is_active``), on every request that sends a token, including reads that allow anonymous
  use, unless the user is in the cache (``conduit.users.selectors.active_user``). The cold tests
  start without it (the cache is emptied per test); the warm tests read once before counting,
  so the user comes from the cache. The views that show or change more of the account (``GET``
  and ``PUT /api/user``) read it once more, by primary key.
* The tests run inside pytest-django's per-test transaction, so every ``transaction.atomic()``
  in a service is a ``SAVEPOINT`` and its exit a ``RELEASE SAVEPOINT``; Django logs and counts
  those as queries, on SQLite and PostgreSQL alike. In production (autocommit) the outermost
  block is a transaction instead: its ``BEGIN`` is logged on SQLite (Django sends
  ``BEGIN IMMEDIATE`` through a cursor) but not on PostgreSQL, and its ``COMMIT`` on neither.
  The counts below are the test-transaction counts, which agree on SQLite and PostgreSQL, so one
  number serves both backends.
"""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from conduit.articles import favorites
from conduit.articles.models import TAGS_PER_ARTICLE_MAX, Article, Favorite
from conduit.comments.models import Comment
from conduit.platform.cache.bulk import with_renderings
from conduit.profiles.models import Follow
from conduit.timelines import heads
from conduit.users.models import User
from tests.factories import (
    UserFactory,
    favorite,
    follow,
    make_article,
    make_articles,
    make_comment,
)
from tests.support import by_path

pytestmark = pytest.mark.django_db

SIZES = pytest.mark.parametrize("n", [1, 20])
VIEWERS = pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed_in"])
# An audit entry (ADR 0032): SAVEPOINT, INSERT, RELEASE in the test's transaction; one INSERT live
# (tests/audit/test_services.py::test_outside_a_transaction_an_entry_is_one_insert).
AUDIT_ENTRY = 3

ClientFor = Callable[[User], APIClient]


def tags_for(n: int) -> list[str]:
    """``n`` tags, capped at the most an article may have."""
    return [f"tag{i}" for i in range(min(n, TAGS_PER_ARTICLE_MAX))]


@pytest.fixture
def viewer_api(signed_in: bool, user: User, api: APIClient, client_for: ClientFor) -> APIClient:
    return client_for(user) if signed_in else api


# --- Data shapes -------------------------------------------------------------------------------


def articles_by_many_authors(viewer: User, n: int) -> list[Article]:
    """``n`` articles, each by its own author, tagged ``common`` plus one tag of its own; the
    viewer follows every author and favorites every article, and so does a second user, so the
    list's ``favorited``/``following`` flags and counters are all non-trivial."""
    fan = UserFactory(username="fan")
    articles = []
    for i in range(n):
        author = UserFactory(username=f"author{i}")
        article = make_article(author, title=f"Article {i}", tags=["common", f"own{i}"])
        follow(viewer, author)
        favorite(viewer, article)
        favorite(fan, article)
        articles.append(article)
    return articles


def articles_by_one_author(viewer: User, n: int) -> list[Article]:
    """``n`` articles by ``alice``, all tagged ``common``; the viewer follows her and favorites
    every article."""
    alice = UserFactory(username="alice")
    articles = make_articles(alice, n, tags=["common", "alice-tag"])
    follow(viewer, alice)
    for article in articles:
        favorite(viewer, article)
    return articles


def assert_list(response: Any, n: int, *, signed_in: bool) -> None:
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["articles"]) == n
    assert body["articlesCount"] == n
    for article in body["articles"]:
        assert article["favorited"] is signed_in
        assert article["author"]["following"] is signed_in


# --- Article lists -----------------------------------------------------------------------------
# One query: the page, with the filter resolved and its maintained count read by uncorrelated
# subqueries in the same statement; plus one to sign in. (An empty page reads the count on its
# own; no test here has an empty page.)

LIST_QUERIES = {False: 1, True: 2}
# No counter covers an intersection of filters: one more query fetches the matching ids.
COMBINED_QUERIES = {False: 2, True: 3}


@SIZES
@VIEWERS
def test_articles_global(n, signed_in, user, viewer_api, django_assert_num_queries):
    articles_by_many_authors(user, n)
    with django_assert_num_queries(LIST_QUERIES[signed_in]):
        response = viewer_api.get("/api/articles")
    assert_list(response, n, signed_in=signed_in)


@SIZES
@VIEWERS
def test_articles_by_tag(n, signed_in, user, viewer_api, django_assert_num_queries):
    articles_by_many_authors(user, n)
    with django_assert_num_queries(LIST_QUERIES[signed_in]):
        response = viewer_api.get("/api/articles", {"tag": "common"})
    assert_list(response, n, signed_in=signed_in)


@SIZES
@VIEWERS
def test_articles_by_author(n, signed_in, user, viewer_api, django_assert_num_queries):
    articles_by_one_author(user, n)
    with django_assert_num_queries(LIST_QUERIES[signed_in]):
        response = viewer_api.get("/api/articles", {"author": "alice"})
    assert_list(response, n, signed_in=signed_in)


@SIZES
@VIEWERS
def test_articles_favorited_by(n, signed_in, user, viewer_api, django_assert_num_queries):
    articles_by_many_authors(user, n)
    with django_assert_num_queries(LIST_QUERIES[signed_in]):
        response = viewer_api.get("/api/articles", {"favorited": "fan"})
    assert_list(response, n, signed_in=signed_in)


@SIZES
@VIEWERS
def test_articles_by_tag_and_author(n, signed_in, user, viewer_api, django_assert_num_queries):
    # No counter covers an intersection: one query fetches the matching ids to count them.
    articles_by_one_author(user, n)
    with django_assert_num_queries(COMBINED_QUERIES[signed_in]):
        response = viewer_api.get("/api/articles", {"tag": "common", "author": "alice"})
    assert_list(response, n, signed_in=signed_in)


# The feed from timelines (ADR 0034). In these tests no transaction commits, so no timeline task
# runs: a timeline is cold unless the test builds it. Sign in, then:
# * cold: the timeline's window (its marker missing; on PostgreSQL with the followed authors'
#   counters, one statement), then the feed's query: the counters (count and plan choice,
#   ADR 0010) and the page;
# * warm: the window and the followed authors' counters (count and merged authors: one
#   statement on PostgreSQL, two elsewhere), then the page from the card cache, empty here: the
#   cards, their authors' profiles, the viewer's flags;
# * merged: warm, plus the newest ids of the followed authors merged at read (in the same
#   statement on PostgreSQL);
# * unavailable (the store does not answer): the feed's query only.
def feed_queries(state: str) -> int:
    window = by_path(1, 2) if state in ("warm", "merged") else 1
    return {
        "cold": 1 + window + 2,
        "warm": 1 + window + 3,
        "merged": 1 + window + by_path(0, 1) + 3,
        "unavailable": 1 + 2,
    }[state]


FEED_STATES = ["cold", "warm", "merged", "unavailable"]


@SIZES
@pytest.mark.parametrize("state", FEED_STATES)
def test_feed(n, state, user, auth_api, timeline_state, django_assert_num_queries):
    articles_by_many_authors(user, n)
    timeline_state(state, user)
    with django_assert_num_queries(feed_queries(state)):
        response = auth_api.get("/api/articles/feed")
    assert_list(response, n, signed_in=True)


@SIZES
@VIEWERS
def test_tags(n, signed_in, user, viewer_api, django_assert_num_queries):
    make_articles(user, n, tags=tags_for(n))
    with django_assert_num_queries(1 + signed_in):
        response = viewer_api.get("/api/tags")
    assert response.status_code == 200
    assert len(response.json()["tags"]) == len(tags_for(n))


# --- Warm cache (ADR 0016) ------------------------------------------------------------------------
# The tests above read with an empty cache (the cold path: the same queries as without a cache).
# Read again, the list comes from the cache: ids, cards, and for a signed-in viewer their
# ``favorited`` and ``following`` flags, kept by the first read under their relations token (the
# user is cached too): no query, signed in or not. After the viewer's own favorite or follow the
# flags are one query (the "flags cold" tests).
# The anonymous micro-cache is cleared between the two reads, so the card cache is what answers.
# The cache is emptied before the first read: the writes that built the data left short-lived
# tombstones on their cards (conduit/platform/cache/bulk.py), as if their few seconds were over.

WARM_QUERIES = {False: 0, True: 0}


def read_twice(client: APIClient, path: str, params: dict[str, str] | None = None) -> None:
    from conduit.platform.cache.safe import cache
    from conduit.platform.http.micro_cache import micro_cache

    cache.clear()
    assert client.get(path, params).status_code == 200
    micro_cache.clear()


@SIZES
@VIEWERS
@pytest.mark.parametrize(
    "params",
    [{}, {"tag": "common"}, {"author": "author0"}, {"favorited": "fan"}],
    ids=["global", "tag", "author", "favorited"],
)
def test_articles_warm(n, signed_in, params, user, viewer_api, django_assert_num_queries):
    articles_by_many_authors(user, n)
    expected = 1 if params.get("author") else n
    read_twice(viewer_api, "/api/articles", params)
    with django_assert_num_queries(WARM_QUERIES[signed_in]):
        response = viewer_api.get("/api/articles", params)
    assert_list(response, expected, signed_in=signed_in)


# A warm timeline with a warm card cache: the viewer's head (conduit/timelines/heads.py) from
# the cache, no query; once a write renewed it, the window, the followed authors' counters and,
# merged, the merged authors' newest ids (one statement on PostgreSQL). The page's cards,
# authors and flags come from the cache (issue 18: "one round trip for the ids, then the cached
# cards").
def feed_warm_queries(state: str, head: str) -> int:
    if head == "cached":
        return 0
    return by_path(1, 2) + (by_path(0, 1) if state == "merged" else 0)


@SIZES
@pytest.mark.parametrize("state", ["warm", "merged"])
@pytest.mark.parametrize("head", ["cached", "renewed"])
def test_feed_warm(n, state, head, user, auth_api, timeline_state, django_assert_num_queries):
    articles_by_many_authors(user, n)
    timeline_state(state, user)
    read_twice(auth_api, "/api/articles/feed")
    if head == "renewed":
        heads.renew([user.pk])
    with django_assert_num_queries(feed_warm_queries(state, head)):
        response = auth_api.get("/api/articles/feed")
    assert_list(response, n, signed_in=True)


@SIZES
@VIEWERS
def test_articles_some_cards_cold(n, signed_in, user, viewer_api, django_assert_num_queries):
    # The page's ids are cached but one card was invalidated (a favorite elsewhere): one query
    # loads the missing cards, whatever their number.
    articles = articles_by_many_authors(user, n)
    read_twice(viewer_api, "/api/articles")
    from conduit.articles import invalidation

    invalidation.invalidate_article(article_id=articles[0].pk)
    with django_assert_num_queries(WARM_QUERIES[signed_in] + 1):
        response = viewer_api.get("/api/articles")
    assert_list(response, n, signed_in=signed_in)


@SIZES
@pytest.mark.parametrize("change", ["favorite", "follow"])
def test_articles_flags_cold(n, change, user, auth_api, django_assert_num_queries):
    # The viewer's own favorite or follow renews their relations token: the next list reads
    # their flags again, in one query whatever the page size, and shows the change; the list
    # after it has them from the cache again.
    from conduit.profiles import services as profile_services

    articles = articles_by_many_authors(user, n)
    read_twice(auth_api, "/api/articles")
    newest = articles[-1]
    if change == "favorite":
        favorites.favorite_remove(user=user, slug=newest.slug)
    else:
        profile_services.follow_remove(follower=user, followee=newest.author)
    # A favorite also buried the article's card for a few seconds, as it must (tests/cache
    # covers it); as if those seconds were over. The signed-in user holds no counter, so
    # neither write buried it: it still comes from the cache.
    from conduit.platform.cache.safe import cache

    if change == "favorite":
        cache.delete_many(with_renderings([f"card:{newest.pk}"]))
    # The flags; after a favorite also the article's card (its favoritesCount changed), stored
    # again by this read.
    with django_assert_num_queries(2 if change == "favorite" else 1):
        response = auth_api.get("/api/articles")
    first = response.json()["articles"][0]
    assert first["slug"] == newest.slug
    assert first["favorited"] is (change != "favorite")
    assert first["author"]["following"] is (change != "follow")
    with django_assert_num_queries(0):
        again = auth_api.get("/api/articles")
    assert again.json() == response.json()


@SIZES
@VIEWERS
def test_article_get_warm(n, signed_in, user, viewer_api, django_assert_num_queries):
    article = busy_article(user, n)
    read_twice(viewer_api, f"/api/articles/{article.slug}")
    with django_assert_num_queries(WARM_QUERIES[signed_in]):
        response = viewer_api.get(f"/api/articles/{article.slug}")
    data = response.json()["article"]
    assert (data["favoritesCount"], data["favorited"]) == (n, signed_in)
    assert data["author"]["following"] is signed_in


@SIZES
@VIEWERS
def test_tags_warm(n, signed_in, user, viewer_api, django_assert_num_queries):
    make_articles(user, n, tags=tags_for(n))
    read_twice(viewer_api, "/api/tags")
    with django_assert_num_queries(0):  # the signed-in user comes from the cache too
        response = viewer_api.get("/api/tags")
    assert len(response.json()["tags"]) == len(tags_for(n))


# --- One article and its comments ------------------------------------------------------------


def busy_article(viewer: User, n: int) -> Article:
    """An article with ``n`` tags (at most 10), ``n`` favoriters including the viewer and ``n``
    comments by ``n`` commenters the viewer follows; the viewer also follows its author."""
    author = UserFactory(username="alice")
    article = make_article(author, title="Busy", tags=tags_for(n))
    follow(viewer, author)
    favorite(viewer, article)
    for i in range(n):
        other = UserFactory(username=f"other{i}")
        if i:
            favorite(other, article)
        make_comment(other, article, body=f"Comment {i}")
        follow(viewer, other)
    return article


@SIZES
@VIEWERS
def test_article_get(n, signed_in, user, viewer_api, django_assert_num_queries):
    article = busy_article(user, n)
    with django_assert_num_queries(1 + signed_in):
        response = viewer_api.get(f"/api/articles/{article.slug}")
    assert response.status_code == 200
    data = response.json()["article"]
    assert data["favoritesCount"] == n
    assert data["favorited"] is signed_in
    assert data["author"]["following"] is signed_in
    assert len(data["tagList"]) == len(tags_for(n))


@SIZES
@VIEWERS
def test_comments_list(n, signed_in, user, viewer_api, django_assert_num_queries):
    # One query for the article, one for the whole thread.
    article = busy_article(user, n)
    with django_assert_num_queries(2 + signed_in):
        response = viewer_api.get(f"/api/articles/{article.slug}/comments")
    assert response.status_code == 200
    comments = response.json()["comments"]
    assert len(comments) == n
    assert all(c["author"]["following"] is signed_in for c in comments)


# --- Profiles and the current user -----------------------------------------------------------


def popular_author(viewer: User, n: int) -> User:
    """``alice`` with ``n`` articles and ``n`` followers, the viewer among them."""
    alice = UserFactory(username="alice")
    make_articles(alice, n)
    follow(viewer, alice)
    for i in range(n - 1):
        follow(UserFactory(username=f"follower{i}"), alice)
    return alice


@SIZES
@VIEWERS
def test_profile_get(n, signed_in, user, viewer_api, django_assert_num_queries):
    # Cold: the profile by name; signed in, the viewer's account and their `following` flag
    # too. Warm: the profile and the flag are cached (ADR 0016), the account too: no query.
    popular_author(user, n)
    for expected in (1 + 2 * signed_in, 0):
        with django_assert_num_queries(expected):
            response = viewer_api.get("/api/profiles/alice")
        assert response.status_code == 200
        assert response.json()["profile"]["following"] is signed_in


def busy_viewer(viewer: User, n: int) -> None:
    """The viewer has written ``n`` articles, favorited ``n`` and follows ``n`` authors."""
    make_articles(viewer, n)
    articles_by_many_authors(viewer, n)
    assert Favorite.objects.filter(user=viewer).count() == n


@SIZES
def test_current_user_get(n, user, auth_api, django_assert_num_queries):
    # Cold: sign-in reads the whole account (it keeps only the signed-in fields in the cache) and
    # the view shows it. Warm: the cached signed-in user holds no email, bio or image, so the
    # account is read by its key.
    busy_viewer(user, n)
    for _ in ("cold", "warm"):
        with django_assert_num_queries(1):
            response = auth_api.get("/api/user")
        assert response.status_code == 200
        assert response.json()["user"]["username"] == user.username


@SIZES
def test_current_user_update(n, user, auth_api, django_assert_num_queries):
    # Sign in (the whole account, cold); check the new username and email are free (one query
    # each); the UPDATE in its savepoint. Whatever the number of their articles: the cards do
    # not hold the profile, so its invalidation is one cache entry
    # (conduit/users/invalidation.py), not one per card. Then the audit entry of the email
    # change, in its own savepoint (ADR 0032: its failure must not undo the change).
    busy_viewer(user, n)
    payload = {"user": {"username": "renamed", "email": "renamed@example.com", "bio": "Hi"}}
    with django_assert_num_queries(6 + AUDIT_ENTRY):
        response = auth_api.put("/api/user", payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["username"] == "renamed"


@SIZES
@pytest.mark.parametrize("names", ["none", "unchanged"])
def test_current_user_update_of_bio_and_image(n, names, user, auth_api, django_assert_num_queries):
    # One UPDATE ... RETURNING (in its savepoint here: the test runs in a transaction), whose
    # WHERE checks that the username and email sent are the stored ones; no account read
    # before it. Cold, sign-in reads the account first; warm, the cached signed-in user is enough.
    busy_viewer(user, n)
    sent = {"username": user.username, "email": user.email} if names == "unchanged" else {}
    for turn, queries in (("cold", 4), ("warm", 3)):
        payload = {
            "user": {**sent, "bio": f"Bio {turn}", "image": f"https://example.com/{turn}.png"}
        }
        with django_assert_num_queries(queries):
            response = auth_api.put("/api/user", payload, format="json")
        assert response.status_code == 200, response.content
        shown = response.json()["user"]
        assert (shown["username"], shown["email"]) == (user.username, user.email)
        assert (shown["bio"], shown["image"]) == (f"Bio {turn}", f"https://example.com/{turn}.png")


def test_current_user_update_of_bio_with_another_email_takes_the_full_path(
    user, auth_api, django_assert_num_queries
):
    # The in-place UPDATE finds no row with the email sent (its case changed), so the account is
    # read, the email checked free, and the UPDATE made with every change.
    auth_api.get("/api/user")  # warm
    payload = {"user": {"email": user.email.upper(), "bio": "Moved"}}
    with django_assert_num_queries(8):
        response = auth_api.put("/api/user", payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["email"] == user.email.upper()
    user.refresh_from_db()
    assert (user.email, user.bio) == (payload["user"]["email"], "Moved")


@SIZES
def test_register(n, db, api, django_assert_num_queries):
    # Username taken? Email taken? Then the INSERT in its savepoint.
    UserFactory.create_batch(n)
    payload = {"user": {"username": "newbie", "email": "newbie@example.com", "password": "x" * 8}}
    with django_assert_num_queries(5):
        response = api.post("/api/users", payload, format="json")
    assert response.status_code == 201, response.content


@SIZES
def test_login(n, user, api, django_assert_num_queries):
    # The account by its email; the audit entry of the sign-in in its savepoint.
    UserFactory.create_batch(n)
    payload = {"user": {"email": user.email, "password": "password123"}}
    with django_assert_num_queries(1 + AUDIT_ENTRY):
        response = api.post("/api/users/login", payload, format="json")
    assert response.status_code == 200, response.content


# --- Article writes ----------------------------------------------------------------------------


@SIZES
def test_article_create(n, user, auth_api, django_assert_num_queries):
    # ``n`` earlier articles share the tags, half of the new article's tags are new: tags are
    # inserted, looked up and counted in one statement each, whatever their number.
    # Sign in; on PostgreSQL one statement (ADR 0025), which returns what the response shows.
    # Elsewhere SAVEPOINT; SAVEPOINT, INSERT article, RELEASE (the slug's unique index decides);
    # INSERT tags (conflicts ignored), their ids (locked in name order), INSERT links, increment
    # tags; increment the author and the site counter; RELEASE. No read for the response: the
    # service returns the article with its author.
    tags = tags_for(n)
    make_articles(user, n, tags=tags[: len(tags) // 2])
    payload = {"article": {"title": "Fresh", "description": "d", "body": "b", "tagList": tags}}
    with django_assert_num_queries(by_path(2, 12)):
        response = auth_api.post("/api/articles", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["article"]["tagList"] == tags


@SIZES
def test_article_update(n, user, auth_api, django_assert_num_queries):
    # A new title (so a new slug), a new body and a completely new tag list:
    # sign in, find the article (1 each); SAVEPOINT, SELECT ... FOR UPDATE; unlink the old tags
    # (locked ids, DELETE links, decrement: 3); link the new ones (insert, locked ids, links,
    # increment: 4); SAVEPOINT, UPDATE under the new slug, RELEASE; RELEASE; the article.
    article = make_article(user, title="Old title", tags=tags_for(n))
    for i in range(n):
        favorite(UserFactory(username=f"fan{i}"), article)
    new_tags = [f"new{t}" for t in tags_for(n)]
    payload = {"article": {"title": "New title", "body": "New body", "tagList": new_tags}}
    with django_assert_num_queries(16):
        response = auth_api.put(f"/api/articles/{article.slug}", payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["article"]["slug"] == "new-title"


@SIZES
def test_article_delete(n, user, auth_api, django_assert_num_queries):
    # The article has ``n`` tags (at most 10), ``n`` favoriters and ``n`` comments: each kind of
    # dependent row goes in one statement. Sign in, find the article; SAVEPOINT, SELECT ... FOR
    # UPDATE; tag ids (locked in id order), DELETE tag links, decrement tags; lock the author and
    # the favoriters in id order (one SELECT ... FOR UPDATE, against deadlocks between deletes
    # sharing fans), decrement the favoriters (one UPDATE with a subquery), the author, the site
    # counter; the cascade (tag links, favorites, comments, email delivery records, the article:
    # 5 DELETEs); RELEASE.
    article = make_article(user, title="Doomed", tags=tags_for(n))
    for i in range(n):
        other = UserFactory(username=f"other{i}")
        favorite(other, article)
        make_comment(other, article)
    with django_assert_num_queries(17):
        response = auth_api.delete(f"/api/articles/{article.slug}")
    assert response.status_code == 204, response.content
    assert not Article.objects.filter(pk=article.pk).exists()


# --- Favorites, follows, comments --------------------------------------------------------------


def favorited_article(n: int) -> Article:
    article = make_article(UserFactory(username="alice"), title="Liked")
    for i in range(n):
        favorite(UserFactory(username=f"fan{i}"), article)
    return article


@SIZES
def test_favorite(n, user, auth_api, django_assert_num_queries):
    # Sign in, then on PostgreSQL one statement that finds the article by slug and returns it
    # (ADR 0025); the article's id, for the invalidations before it, was cached by the fans'
    # favorites of the same slug. Elsewhere find the article; SAVEPOINT; SAVEPOINT, INSERT
    # favorite, RELEASE (the unique index tells a repeat); increment the user and the article;
    # the article; RELEASE.
    article = favorited_article(n)
    with django_assert_num_queries(by_path(2, 10)):
        response = auth_api.post(f"/api/articles/{article.slug}/favorite")
    assert response.status_code == 200, response.content
    assert response.json()["article"]["favoritesCount"] == n + 1


def test_the_first_favorite_of_a_slug_looks_up_its_article(
    user, auth_api, django_assert_num_queries
):
    article = make_article(UserFactory(username="alice"), title="Fresh")
    # Sign in, the article's id (for the invalidations before the statement), the statement;
    # then the user and the id come from the cache, with one read: the statement alone.
    with django_assert_num_queries(by_path(3, 10)):
        response = auth_api.post(f"/api/articles/{article.slug}/favorite")
    assert response.status_code == 200, response.content
    with django_assert_num_queries(by_path(1, 7)):
        response = auth_api.delete(f"/api/articles/{article.slug}/favorite")
    assert response.json()["article"]["favoritesCount"] == 0


@SIZES
def test_unfavorite(n, user, auth_api, django_assert_num_queries):
    article = favorited_article(n)
    favorite(user, article)
    # Sign in; one statement (the article's id cached by the favorites), or find the article,
    # SAVEPOINT, DELETE favorite, decrement the user and the article, the article, RELEASE.
    with django_assert_num_queries(by_path(2, 8)):
        response = auth_api.delete(f"/api/articles/{article.slug}/favorite")
    assert response.status_code == 200, response.content
    assert response.json()["article"]["favoritesCount"] == n


def followed_author(n: int) -> User:
    alice = UserFactory(username="alice")
    for i in range(n):
        follow(UserFactory(username=f"follower{i}"), alice)
    return alice


@SIZES
def test_follow(n, user, auth_api, django_assert_num_queries):
    # Sign in, find alice; one statement that also returns her profile; or SAVEPOINT;
    # SAVEPOINT, INSERT follow, RELEASE; increment both users' counters; alice's profile with
    # the viewer's flag (a second lookup by username); RELEASE.
    alice = followed_author(n)
    with django_assert_num_queries(by_path(3, 10)):
        response = auth_api.post("/api/profiles/alice/follow")
    assert response.status_code == 200, response.content
    assert response.json()["profile"]["following"] is True
    alice.refresh_from_db()
    assert alice.followers_count == n + 1


@SIZES
def test_unfollow(n, user, auth_api, django_assert_num_queries):
    alice = followed_author(n)
    follow(user, alice)
    # Sign in, find alice; one statement, or SAVEPOINT, DELETE follow, decrement both counters,
    # profile, RELEASE.
    with django_assert_num_queries(by_path(3, 8)):
        response = auth_api.delete("/api/profiles/alice/follow")
    assert response.status_code == 200, response.content
    assert response.json()["profile"]["following"] is False
    assert Follow.objects.filter(followee=alice).count() == n


def commented_article(n: int) -> Article:
    article = make_article(UserFactory(username="alice"), title="Discussed")
    for i in range(n):
        make_comment(UserFactory(username=f"commenter{i}"), article, body=f"Comment {i}")
    return article


@SIZES
def test_comment_create(n, user, auth_api, django_assert_num_queries):
    article = commented_article(n)
    payload = {"comment": {"body": "Me too"}}
    # Sign in, then the INSERT that finds the article by slug (one statement); the response is
    # the row as written and the signed-in user as its author, nothing read back. The second
    # comment finds the signed-in user in the cache: the INSERT alone.
    for expected in (2, 1):
        with django_assert_num_queries(expected):
            response = auth_api.post(
                f"/api/articles/{article.slug}/comments", payload, format="json"
            )
        assert response.status_code == 201, response.content
        assert response.json()["comment"]["author"]["username"] == user.username


@SIZES
def test_comment_delete(n, user, auth_api, django_assert_num_queries):
    article = commented_article(n)
    mine = make_comment(user, article, body="Mine")
    # Sign in, find the article, find the comment (author check), DELETE.
    with django_assert_num_queries(4):
        response = auth_api.delete(f"/api/articles/{article.slug}/comments/{mine.pk}")
    assert response.status_code == 204, response.content
    assert Comment.objects.filter(article=article).count() == n


# --- OAuth (ADR 0031) --------------------------------------------------------------------------
# A Bearer OAuth token is one query (the token with its version row, by checksum) plus the user,
# who comes from the cache as for a JWT once read; the endpoint's own queries are a JWT's.


def _oauth_token(user: User, scope: str) -> str:
    from tests.oauth import helpers as oauth

    return oauth.tokens_for(user, oauth.register("Counted"), scope)["access_token"]


@SIZES
def test_articles_with_an_oauth_token(n, user, django_assert_num_queries):
    make_articles(UserFactory(), n)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_oauth_token(user, 'read')}")
    from conduit.platform.cache.safe import cache

    cache.clear()
    # The token, the user (cold), the page.
    with django_assert_num_queries(3):
        response = api.get("/api/articles")
    assert len(response.json()["articles"]) == n
    # Warm: the user and the page's renderings from the cache; the token is read every time.
    with django_assert_num_queries(1):
        api.get("/api/articles")


@SIZES
def test_oauth_metadata(n, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = APIClient().get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200


@SIZES
def test_oauth_token_refresh_and_introspection(n, user, django_assert_num_queries):
    from tests.oauth import helpers as oauth

    app = oauth.register("Counted")
    for _ in range(n):  # n earlier grants of the same user to the same app
        tokens = oauth.tokens_for(user, app, "read")
    # The toolkit's refresh with rotation, the same for any number of earlier grants: the
    # application (twice), the refresh token, the user, its version row (ours); then in its
    # transaction the refresh token and access token read and locked (twice: the toolkit's
    # revoke reads them again), the old access token deleted with its version row (ours), the
    # old refresh token revoked, the new pair inserted with their two version rows (ours), and
    # the savepoints a test transaction shows.
    with django_assert_num_queries(REFRESH_QUERIES):
        renewed = oauth.refresh(app, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.content
    token = renewed.json()["access_token"]
    body = {"token": token, "client_id": app.client_id, "client_secret": app.secret}
    # The client, the token with its version, the user.
    with django_assert_num_queries(3):
        answer = APIClient().post("/oauth/introspect/", body)
    assert answer.json()["active"] is True


REFRESH_QUERIES = 22
