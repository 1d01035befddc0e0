"""``SafeCache.reading_ahead`` (platform/cache/safe.py) and its use by the article list: a warm
signed-in list reads its user and its page's first keys in one cache round trip, and
authentication still decides who gets the page. The round-trip counts run on every backend
(tests/cache/conftest.py)."""

from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection

from conduit.api.authentication import token_for
from conduit.articles import pages
from conduit.platform.cache import recent
from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache
from conduit.users.models import User
from conduit.users.services import user_deactivate
from tests.factories import UserFactory, favorite, follow, make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def round_trips(cache_backend: str, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every ``get_many`` the cache backend receives, as its list of keys (on each backend:
    the in-process cache, a real Redis and a real Memcached)."""
    backend: Any = caches["default"]
    calls: list[list[str]] = []
    real = backend.get_many

    def spy(keys: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(list(keys))
        return real(keys, *args, **kwargs)

    monkeypatch.setattr(backend, "get_many", spy)
    return calls


def test_the_next_read_fetches_the_keys_read_ahead(round_trips):
    cache.set_many({"a": 1, "b": 2, "c": 3}, 30)
    with cache.reading_ahead(["b", "c", "absent"]):
        assert cache.get("a") == 1
        assert round_trips == [["a", "b", "c", "absent"]]  # one round trip for all four
        assert cache.get_many(["b", "absent"]) == {"b": 2}  # from what was fetched
        assert len(round_trips) == 1
        # Answered once: a later read of the same keys goes to the backend again.
        assert cache.get_many(["b"]) == {"b": 2}
        assert len(round_trips) == 2
    assert cache.get_many(["c"]) == {"c": 3}  # after the block, as usual
    assert round_trips[-1] == ["c"]


def test_a_read_of_other_keys_is_not_answered_from_the_read_ahead(round_trips):
    cache.set_many({"a": 1, "b": 2, "x": 9}, 30)
    with cache.reading_ahead(["b"]):
        cache.get("a")
        assert cache.get_many(["b", "x"]) == {"b": 2, "x": 9}  # x was not read ahead
    assert round_trips == [["a", "b"], ["b", "x"]]


def test_a_failing_backend_makes_the_read_ahead_keys_misses(monkeypatch):
    cache.set_many({"a": 1, "b": 2}, 30)
    backend: Any = caches["default"]

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    monkeypatch.setattr(backend, "get_many", down)
    with cache.reading_ahead(["b"]):
        assert cache.get("a") is None
        assert cache.get_many(["b"]) == {}


# --- the article list -------------------------------------------------------------------------


def signed_in_list_data() -> tuple[User, str]:
    viewer = UserFactory()
    for i in range(3):
        author = UserFactory(username=f"ahead{i}")
        article = make_article(author, title=f"Ahead {i}", tags=["common"])
        follow(viewer, author)
        favorite(viewer, article)
    return viewer, token_for(viewer)


@pytest.fixture
def viewer(api) -> User:
    """The viewer of ``signed_in_list_data``, signed in on ``api``."""
    viewer, token = signed_in_list_data()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return viewer


@pytest.mark.parametrize(
    "params",
    [{}, {"tag": "common"}, {"author": "ahead1"}, {"favorited": "nobody"}, {"limit": "2"}],
    ids=["global", "tag", "author", "favorited", "limit"],
)
def test_a_warm_signed_in_list_is_one_cache_round_trip(params, api, viewer, round_trips):
    cache.clear()  # the writes' tombstones, as if their seconds were over
    # The first read fills the page and the cards, the second the cards' renderings.
    for _ in range(2):
        assert api.get("/api/articles", params).status_code == 200
    round_trips.clear()
    response = api.get("/api/articles", params)
    assert response.status_code == 200
    # The user, the list generations, the viewer's relations token, the page's ids and what the
    # page held when this process last read it: its rendered cards, authors and the flags.
    assert len(round_trips) == 1, round_trips
    keys = round_trips[0]
    assert "user:" + str(viewer.pk) in keys
    if params.get("favorited") != "nobody":
        assert any(key.startswith("api-card:") for key in keys)
        assert any(key.startswith("flags:") for key in keys)
    articles = response.json()["articles"]
    assert all(a["favorited"] and a["author"]["following"] for a in articles)


def test_a_first_read_in_this_process_is_two_round_trips(api, viewer, round_trips):
    for _ in range(2):
        assert api.get("/api/articles").status_code == 200
    recent.forget_all()  # another process: it never read this page
    round_trips.clear()
    assert api.get("/api/articles").status_code == 200
    # 1: the user, the generations, the relations token and the page's ids;
    # 2: the page's rendered cards, authors and the viewer's flags.
    assert len(round_trips) == 2, round_trips
    assert not any(key.startswith("api-card:") for key in round_trips[0])
    assert any(key.startswith("api-card:") for key in round_trips[1])


def test_a_guess_gone_stale_is_read_again_and_never_served(api, viewer, round_trips):
    """The guessed keys are only ever read: a page changed since (a new article) or a viewer
    whose relations changed (an unfollow) reads what the guess missed in a second round trip,
    and the answer is the current one."""
    for _ in range(2):
        assert api.get("/api/articles").status_code == 200
    guesses = dict(pages.RECENT_PAGES._entries)
    newcomer = UserFactory(username="newcomer")
    fresh = make_article(newcomer, title="Fresh", tags=["common"])
    cache.clear()  # the write's tombstones, as if their seconds were over
    for _ in range(2):  # as if another process read the new page
        assert api.get("/api/articles").status_code == 200
    for page, seen in guesses.items():
        pages.RECENT_PAGES.put(page, seen)  # this process saw the page before the write
    round_trips.clear()
    articles = api.get("/api/articles").json()["articles"]
    assert [a["title"] for a in articles] == ["Fresh", "Ahead 2", "Ahead 1", "Ahead 0"]
    assert len(round_trips) == 2, round_trips
    missed = round_trips[1]  # only what the guess missed: the new card, its author, the flags
    assert {"api-card:" + str(fresh.pk), "api-author:" + str(newcomer.pk)} < set(missed)
    assert set(missed).isdisjoint(round_trips[0])
    assert api.delete("/api/profiles/ahead2/follow").status_code == 200
    round_trips.clear()
    articles = api.get("/api/articles").json()["articles"]
    assert [a["author"]["following"] for a in articles] == [False, False, True, True]
    assert len(round_trips) == 2  # the flags under the viewer's new relations token


def test_an_anonymous_warm_list_is_one_round_trip(api, round_trips):
    signed_in_list_data()
    cache.clear()
    for _ in range(2):
        assert api.get("/api/articles").status_code == 200
        micro_cache.clear()
    round_trips.clear()
    assert api.get("/api/articles").status_code == 200
    # The generation, the page's ids and the rendered cards and authors it held last time.
    assert len(round_trips) == 1, round_trips
    assert not any(key.startswith(("user:", "rel:", "flags:")) for key in round_trips[0])


@pytest.mark.parametrize(
    "path", ["/api/articles", "/api/articles/ahead-1"], ids=["list", "article"]
)
def test_a_deactivated_user_gets_401_though_their_keys_were_read_ahead(path, api, viewer):
    cache.clear()
    assert api.get(path).status_code == 200
    user_deactivate(user=viewer)
    response = api.get(path)
    assert response.status_code == 401
    assert response.json()["errors"]["token"] == ["is invalid"]
    assert api.get("/api/articles/no-such-article").status_code == 401


@pytest.mark.parametrize(
    ("header", "params", "status"),
    [
        ("Token not-a-jwt", {}, 401),
        ("Token not-a-jwt", {"limit": "x"}, 401),  # authentication answers first, as before
        (None, {"limit": "x"}, 422),
        ("signed-in", {"limit": "x"}, 422),
        ("signed-in", {"offset": "-1"}, 422),
    ],
)
def test_bad_tokens_and_bad_pages_are_answered_as_without_the_read_ahead(
    header, params, status, api
):
    _, token = signed_in_list_data()
    if header is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}" if header == "signed-in" else header)
    assert api.get("/api/articles", params).status_code == status


def test_a_warm_signed_in_article_is_two_cache_round_trips(api, viewer, round_trips):
    cache.clear()
    path = "/api/articles/ahead-1"
    assert api.get(path).status_code == 200
    round_trips.clear()
    response = api.get(path)
    assert response.status_code == 200
    # 1: the user, the article's card and the viewer's relations token; 2: the viewer's flags.
    assert len(round_trips) == 2, round_trips
    assert any(key.startswith("user:") for key in round_trips[0])
    article = response.json()["article"]
    assert article["favorited"]
    assert article["author"]["following"]


def test_an_unknown_article_is_a_404_signed_in(api, viewer):
    assert api.get("/api/articles/no-such-article").status_code == 404


@pytest.mark.parametrize("params", [{}, {"limit": "x"}], ids=["good", "bad"])
def test_a_signed_in_list_parses_its_request_once(params, api, viewer, monkeypatch):
    # The read-ahead (before authentication) and the answer share one parse; a bad page is
    # still answered by the view with its 422, not swallowed by the read-ahead.
    from conduit.api.views import articles

    calls = []
    real = articles.page_params
    monkeypatch.setattr(articles, "page_params", lambda r: calls.append(1) or real(r))
    response = api.get("/api/articles", params)
    assert response.status_code == (200 if not params else 422)
    assert calls == [1]


# --- what a miss stores -------------------------------------------------------------------------


@pytest.fixture
def operations(cache_backend: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call ``SafeCache`` makes to its backend, by operation: one round trip each on
    Redis (``set_many`` of a ``pipelined`` block sends its sets and adds together)."""
    calls: list[str] = []
    real = cache._call

    def spy(operation: str, call: Any, **kwargs: Any) -> Any:
        calls.append(operation)
        return real(operation, call, **kwargs)

    monkeypatch.setattr(cache, "_call", spy)
    return calls


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_a_cold_article_is_one_read_and_one_write(signed_in, api, operations):
    _, token = signed_in_list_data()
    if signed_in:
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    cache.clear()
    micro_cache.clear()
    recent.forget_all()
    # The user and their relations token (made by a first read), as a signed-in client has them.
    assert api.get("/api/articles/ahead-0").status_code == 200
    operations.clear()
    response = api.get("/api/articles/ahead-1")
    assert response.status_code == 200, response.content
    # The article (and the user with it), then its card, author and the viewer's flags stored
    # in one round trip: the article's query read them all.
    assert operations == ["get_many", "set_many"]
    assert response.json()["article"]["favorited"] is signed_in
    operations.clear()
    micro_cache.clear()
    assert api.get("/api/articles/ahead-1").json() == response.json()
    assert "set_many" not in operations  # warm: nothing stored


def test_a_cold_list_page_is_stored_in_one_round_trip(api, operations):
    signed_in_list_data()
    cache.clear()
    micro_cache.clear()
    recent.forget_all()
    assert api.get("/api/articles", {"limit": 1}).status_code == 200  # the lists' generations
    operations.clear()
    assert api.get("/api/articles").status_code == 200
    # The page (missed: read under the generations), then the page, its cards and their authors
    # stored together: one round trip each.
    assert operations == ["get_many", "set_many"]


# --- writes read ahead too ----------------------------------------------------------------------


def test_a_favorite_and_a_follow_read_what_they_act_on_with_their_user(api, viewer, round_trips):
    author = User.objects.get(username="ahead1")
    favorite_url = "/api/articles/ahead-1/favorite"
    assert api.delete(favorite_url).status_code == 200  # the slug's id is cached
    assert api.delete(f"/api/profiles/{author.username}/follow").status_code == 200
    round_trips.clear()
    assert api.post(favorite_url).status_code == 200
    assert api.post(f"/api/profiles/{author.username}/follow").status_code == 200
    # Each write's first (and only) read: its user, with what it acts on when the write reads
    # it from the cache (a favorite's article id on PostgreSQL, a follow's followee by name).
    assert len(round_trips) == 2, round_trips
    favorite_read, follow_read = round_trips
    assert f"user:{viewer.pk}" in favorite_read
    assert any(key.startswith("slugid:") for key in favorite_read) == (
        connection.vendor == "postgresql"
    )
    assert f"user:{viewer.pk}" in follow_read
    assert any(key.startswith("pname:") for key in follow_read)
