"""conduit/platform/cache/redis_backend.py: Django's RedisCache with one ``redis.Redis`` per
connection pool, holding one connection, against a real Redis."""

import threading
from typing import Any

import pytest
from django.core.cache import caches

from tests.cache.conftest import use_cache
from tests.services import RedisServer

pytestmark = pytest.mark.services


def test_one_client_per_pool_shared_by_calls_and_threads(cache_redis: RedisServer, settings):
    cache_redis.start()
    use_cache(settings, cache_redis.url_for(3))
    backend: Any = caches["default"]
    client = backend._cache.get_client()
    assert backend._cache.get_client(write=True) is client  # one server: one pool, one client
    assert type(client).__name__ == "Redis"

    errors: list[BaseException] = []

    def hammer(n: int) -> None:
        try:
            for i in range(200):
                backend.set(f"k{n}:{i}", (n, i), 30)
                assert backend.get(f"k{n}:{i}") == (n, i)
                assert backend.get_many([f"k{n}:{i}"]) == {f"k{n}:{i}": (n, i)}
        except BaseException as exc:
            errors.append(exc)

    # Django's backends are per thread; one backend's client must still be safe to share.
    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert backend._cache.get_client() is client
    # It keeps one connection, not one borrowed from the pool per command (the module's doc).
    assert client.connection is not None
    assert client.connection_pool._created_connections == 1


def test_the_shared_client_reconnects_after_a_restart(cache_redis: RedisServer, settings):
    cache_redis.start()
    use_cache(settings, cache_redis.url_for(3))
    backend: Any = caches["default"]
    backend.set("before", 1, 30)
    cache_redis.stop()
    with pytest.raises(Exception):  # noqa: B017, PT011  (redis-py's ConnectionError)
        backend.get("before")
    cache_redis.start()
    backend.set("after", 2, 30)
    assert backend.get("after") == 2


@pytest.mark.parametrize(
    "value", [0, -5, 2**40, True, False, None, "12", b"\x80raw", 1.5, ("api", 1, [2, 3]), {"a": 1}]
)
def test_values_round_trip_and_integers_stay_raw(value, cache_redis: RedisServer, settings):
    # Integers are stored as Redis integers (incr works); everything else is pickled and told
    # apart from them by its header.
    cache_redis.start()
    use_cache(settings, cache_redis.url_for(3))
    backend: Any = caches["default"]
    backend.set("value", value, 30)
    assert backend.get("value", default="absent") == value
    assert type(backend.get("value", default="absent")) is type(value)
    backend.set("counter", 41, 30)
    assert backend.incr("counter") == 42
    assert backend.get("counter") == 42
