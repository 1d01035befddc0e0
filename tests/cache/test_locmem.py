"""conduit/platform/cache/locmem.py: the in-process cache's one-pass ``get_many`` answers what
Django's ``LocMemCache`` answers key by key, expiry and recency included."""

import time

import pytest
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache

from conduit.platform.cache.locmem import LocMemCache


@pytest.fixture(params=["ours", "django"])
def local(request: pytest.FixtureRequest) -> DjangoLocMemCache:
    kind = LocMemCache if request.param == "ours" else DjangoLocMemCache
    backend = kind(
        f"test-locmem-{request.param}", {"OPTIONS": {"MAX_ENTRIES": 3, "CULL_FREQUENCY": 3}}
    )
    backend.clear()
    return backend


def test_get_many_answers_present_keys_only(local):
    local.set_many({"a": 1, "b": (b"x", 2), "c": None})
    assert local.get_many(["a", "b", "c", "missing"]) == {"a": 1, "b": (b"x", 2), "c": None}
    assert local.get_many([]) == {}
    assert local.get_many(["a"], version=2) == {}


def test_an_expired_entry_is_a_miss_and_is_dropped(local, monkeypatch):
    local.set("short", 1, timeout=10)
    local.set("long", 2, timeout=100)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 50)
    assert local.get_many(["short", "long"]) == {"long": 2}
    assert local.make_key("short") not in local._cache


def test_a_read_entry_is_the_last_culled(local):
    local.set_many({"a": 1, "b": 2, "c": 3})
    assert local.get_many(["a"]) == {"a": 1}  # now the most recent
    local.set("d", 4)  # full: culls a third, the least recently used first
    assert local.get("a") == 1
    assert local.get("b") is None


def test_values_are_copies(local):
    local.set("list", [1])
    local.get_many(["list"])["list"].append(2)
    assert local.get_many(["list"]) == {"list": [1]}
