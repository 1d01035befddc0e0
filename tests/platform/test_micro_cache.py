"""The anonymous micro-cache's bounds (issue 16): its key is the path and the parameters the view
reads, normalised; it holds at most ``CACHE_ANONYMOUS_MAX_BYTES`` (least recently used out
first), never an answer over ``CACHE_ANONYMOUS_MAX_ENTRY_BYTES``; expired entries are swept out;
and nothing per key is left behind by answers it does not keep. Time is a fake clock
(``MicroCache.clock``): nothing sleeps."""

from typing import Any

import pytest
from django.urls import resolve
from rest_framework.test import APIClient, APIRequestFactory

from conduit.platform.http.micro_cache import ENTRY_OVERHEAD, MicroCache, Stored, micro_cache
from conduit.users.models import User
from tests.factories import UserFactory, make_article


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stored(size: int) -> Stored:
    return Stored(b"x" * size, "application/json", None)


def keep(cache: MicroCache, key: str, value: Stored | None, **bounds: Any) -> Stored | None:
    limits = {"seconds": 1.0, "max_bytes": 10_000, "max_entry_bytes": 10_000, **bounds}
    return cache.get_or_compute(key, lambda: value, **limits)


def cost(key: str, body: int) -> int:
    return stored(body).size(key)


# --- The cache on its own -------------------------------------------------------------------------


def test_the_least_recently_used_entry_goes_first_when_the_bytes_run_out():
    cache = MicroCache()
    bound = 3 * cost("a", 1000) - 1  # room for two entries, not three
    for key in ("a", "b"):
        keep(cache, key, stored(1000), max_bytes=bound)
    assert keep(cache, "a", None, max_bytes=bound) == stored(1000)  # a read: "a" is now recent
    keep(cache, "c", stored(1000), max_bytes=bound)
    assert len(cache) == 2
    assert cache.bytes == 2 * cost("a", 1000) <= bound
    assert keep(cache, "a", None, max_bytes=bound) == stored(1000)
    assert keep(cache, "b", None, max_bytes=bound) is None  # evicted: computed again, None


def test_an_answer_over_the_entry_cap_is_served_and_not_kept():
    cache = MicroCache()
    cap = cost("big", 500)
    assert keep(cache, "big", stored(501), max_entry_bytes=cap) == stored(501)
    assert len(cache) == 0
    assert cache.bytes == 0
    assert cache.in_flight() == 0
    assert keep(cache, "big", stored(500), max_entry_bytes=cap) == stored(500)  # at the cap: kept
    assert len(cache) == 1


def test_expired_entries_are_swept_out_without_being_asked_for():
    cache = MicroCache()
    cache.clock = clock = FakeClock()
    for key in ("a", "b", "c"):
        keep(cache, key, stored(100))
    clock.now += 0.5
    keep(cache, "d", stored(100))
    assert len(cache) == 4  # none expired yet
    clock.now += 0.6  # a, b and c are past their second; d is not
    keep(cache, "e", stored(100))
    assert len(cache) == 2
    assert cache.bytes == cost("d", 100) + cost("e", 100)
    clock.now += 0.5
    assert keep(cache, "d", stored(7)) == stored(7)  # expired on access: computed again


def test_a_cleared_cache_holds_nothing():
    cache = MicroCache()
    keep(cache, "a", stored(10))
    cache.clear()
    assert (len(cache), cache.bytes) == (0, 0)


def test_the_size_of_an_entry_counts_its_key_headers_and_overhead():
    value = Stored(b"12345", "application/json", "Accept")
    assert value.size("key") == 5 + 3 + len("application/json") + len("Accept") + ENTRY_OVERHEAD


# --- Through the API ------------------------------------------------------------------------------


@pytest.fixture
def author(db: None) -> User:
    author = UserFactory(username="writer")
    make_article(author, title="Dragons", tags=["dragons"])
    make_article(author, title="Training", tags=["training"])
    return author


@pytest.mark.parametrize(
    "path",
    ["/api/articles", "/api/articles?tag=dragons&limit=1", "/api/articles/dragons", "/api/tags"],
)
def test_junk_parameters_change_nothing_in_the_answer(api: APIClient, author, settings, path):
    # The views ignore parameters they do not read, which is what lets the key ignore them.
    settings.CACHE_ANONYMOUS_SECONDS = 0
    plain = api.get(path)
    joiner = "&" if "?" in path else "?"
    junk = api.get(f"{path}{joiner}utm_source=x&junk=1&limit2=y&format=json")
    assert plain.status_code == junk.status_code == 200
    assert plain.content == junk.content


def test_requests_that_read_the_same_answer_share_an_entry(api: APIClient, author):
    same = [
        "/api/articles?tag=dragons&limit=1",
        "/api/articles?limit=1&tag=dragons",
        "/api/articles?limit=01&tag=dragons&author=&junk=1",
        "/api/articles?tag=training&tag=dragons&limit=1",  # GET.get: the last value
    ]
    bodies = {api.get(path).content for path in same}
    assert len(bodies) == 1
    assert len(micro_cache) == 1
    api.get("/api/articles?tag=dragons&limit=2")  # another answer: another entry
    assert len(micro_cache) == 2


def test_many_junk_queries_and_422s_leave_the_cache_bounded_and_no_flight_behind(author, settings):
    # 10,000 anonymous GETs, each with a query string of its own: junk parameters (one entry
    # between them), a distinct tag (a real, empty answer each: what the byte bound is for),
    # and a limit that is not a number (a 422, never kept).
    settings.CACHE_ANONYMOUS_MAX_BYTES = 64 * 1024
    view = resolve("/api/articles").func
    factory = APIRequestFactory()
    statuses: dict[int, int] = {}
    for i in range(10_000):
        kind = i % 10
        if kind == 0:
            query = f"limit=x&junk{i}={i}"
        elif kind == 1:
            query = f"tag=t{i}&junk{i}={i}"
        else:
            query = f"junk{i}={i}&utm_source={i}"
        response = view(factory.get(f"/api/articles?{query}"))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert micro_cache.bytes <= settings.CACHE_ANONYMOUS_MAX_BYTES
    assert statuses == {422: 1000, 200: 9000}
    assert micro_cache.in_flight() == 0
    entries = micro_cache._entries  # what the byte count claims to add up
    assert micro_cache.bytes == sum(entry.size for entry in entries.values())
    assert "/api/articles?" in entries  # every junk-only request: one entry, still in use
    assert not any("limit" in key for key in entries)
    assert len(entries) < 1 + 1000  # the bound evicted tags: it was reached, not just respected


def test_an_answer_over_the_entry_cap_reaches_the_view_every_time(api: APIClient, author, settings):
    api.get("/api/articles/dragons")
    assert len(micro_cache) == 1
    micro_cache.clear()
    settings.CACHE_ANONYMOUS_MAX_ENTRY_BYTES = 100  # smaller than any answer
    first, second = api.get("/api/articles/dragons"), api.get("/api/articles/dragons")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(micro_cache) == 0
    assert micro_cache.bytes == 0
