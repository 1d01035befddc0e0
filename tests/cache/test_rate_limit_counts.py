"""``SafeCache.count`` (the rate limits' windows, conduit/platform/ratelimit.py) on every backend:
the in-process cache, a real Redis and a real Memcached, where every app process sees the same
count."""

import time
from typing import Any

import pytest
from django.core.cache import caches

from conduit.platform import ratelimit
from conduit.platform.cache.backends import RedisCache
from conduit.platform.cache.safe import cache


def test_counts_from_one_and_expires(cache_backend):
    assert [cache.count("window-a", 1) for _ in range(3)] == [1, 2, 3]
    assert cache.count("window-b", 1) == 1
    time.sleep(2.1)  # whole seconds on every backend
    assert cache.count("window-a", 1) == 1


def test_another_process_sees_the_same_count(cache_backend):
    """A second client of the same Redis (another app server) counts in the same window."""
    if cache_backend != "redis":
        pytest.skip("the in-process cache is per process; Memcached is shared like Redis")
    backend: Any = caches["default"]
    other = RedisCache(backend.url, {"KEY_PREFIX": backend.key_prefix})
    cache.count("shared", 60)
    version = cache._version()
    assert other.count("shared", 60, version=version) == 2
    assert cache.count("shared", 60) == 3


def test_a_limit_refuses_past_its_count_on_every_backend(cache_backend, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "writes_per_user": "2/m"}
    ratelimit.hit("writes_per_user", 7)
    ratelimit.hit("writes_per_user", 7)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit("writes_per_user", 7)
    assert 1 <= refused.value.retry_after <= 61
    ratelimit.hit("writes_per_user", 8)  # another user's own count


def test_an_unavailable_cache_lets_requests_through(cache_backend, settings, monkeypatch):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "writes_per_user": "1/m"}
    backend: Any = caches["default"]

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    for name in ("count", "add", "incr"):
        if hasattr(backend, name):
            monkeypatch.setattr(backend, name, down)
    for _ in range(3):
        ratelimit.hit("writes_per_user", 7)  # failing open: no count, no refusal
