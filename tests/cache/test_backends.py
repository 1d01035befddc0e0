"""conduit/platform/cache/backends.py: ``CACHE_URL`` parsing, and ``RedisCache`` against a real
Redis (one ``redis.Redis`` per backend holding one connection, raw integers, ``add_many`` in one
round trip); ``SafeCache.add_many`` on every backend."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from redis.connection import AbstractConnection

from conduit.platform.cache.backends import REDIS_BACKEND, RedisCache, cache_config
from conduit.platform.cache.safe import cache
from tests.cache.conftest import use_cache
from tests.services import RedisServer


def test_cache_url_names_the_backend():
    def backend(url: str) -> str:
        return cache_config(url, key_prefix="p", socket_timeout=0.25)["BACKEND"]

    assert backend("").endswith("LocMemCache")
    assert backend("redis://127.0.0.1:6379/1") == REDIS_BACKEND
    assert backend("unix:///run/redis.sock?db=1") == REDIS_BACKEND
    assert backend("pymemcache://127.0.0.1:11211").endswith("PyMemcacheCache")
    with pytest.raises(ValueError, match="unsupported scheme 'memcached'"):
        backend("memcached://127.0.0.1:11211")


def test_redis_takes_one_server():
    with pytest.raises(ImproperlyConfigured, match="one Redis server"):
        RedisCache("redis://a:6379/1,redis://b:6379/1", {})


@pytest.fixture
def backend(cache_redis: RedisServer, settings: Any) -> RedisCache:
    """The default cache on db 3 of the cache tests' Redis, emptied."""
    cache_redis.start()  # a fault test may have stopped it
    use_cache(settings, cache_redis.url_for(3))
    backend = caches["default"]
    assert isinstance(backend, RedisCache)
    return backend


@pytest.fixture
def server(cache_redis: RedisServer) -> Iterator[redis.Redis]:
    """A client of the same database, to see what the backend stored."""
    with redis.Redis.from_url(cache_redis.url_for(3)) as client:
        yield client


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every write to a Redis socket: one per round trip (a pipeline packs its commands)."""
    sent: list[bytes] = []
    real = AbstractConnection.send_packed_command

    def spy(connection: Any, command: Any, check_health: bool = True) -> None:
        sent.append(b"".join(command) if isinstance(command, list) else command)
        real(connection, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", spy)
    return sent


@pytest.mark.services
def test_one_client_with_one_connection_shared_by_calls_and_threads(backend: RedisCache):
    client = backend.client
    assert type(client) is redis.Redis

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
    assert backend.client is client
    # It keeps one connection, not one borrowed from the pool per command (the module's doc).
    assert client.connection is not None
    (free, _), (in_use, _) = client.connection_pool.get_connection_count()
    assert (free, in_use) == (0, 1)


@pytest.mark.services
def test_building_the_backend_connects_to_nothing(cache_redis: RedisServer):
    # SafeCache looks the backend up outside its error handling: building it must not fail.
    cache_redis.stop()
    try:
        backend = RedisCache(cache_redis.url_for(3), {"OPTIONS": {"socket_connect_timeout": 0.25}})
        with pytest.raises(redis.ConnectionError):
            backend.get("key")
    finally:
        cache_redis.start()
    assert backend.get("key") is None  # the client is built once the server answers


@pytest.mark.services
def test_the_client_reconnects_after_a_restart(backend: RedisCache, cache_redis: RedisServer):
    backend.set("before", 1, 30)
    cache_redis.stop()
    with pytest.raises(redis.ConnectionError):
        backend.get("before")
    cache_redis.start()
    backend.set("after", 2, 30)
    assert backend.get("after") == 2


@pytest.mark.services
@pytest.mark.parametrize(
    "value", [0, -5, 2**40, True, False, None, "12", b"\x80raw", 1.5, ("api", 1, [2, 3]), {"a": 1}]
)
def test_values_round_trip_and_integers_stay_raw(value, backend: RedisCache, server):
    # Integers are stored as Redis integers (incr works); everything else is pickled and told
    # apart from them by its header.
    backend.set("value", value, 30)
    assert backend.get("value", default="absent") == value
    assert type(backend.get("value", default="absent")) is type(value)
    assert backend.get_many(["value", "absent"]) == {"value": value}
    stored = server.get(backend.make_key("value"))
    assert (stored == str(value).encode()) is (type(value) is int)


@pytest.mark.services
def test_incr_and_decr_count_in_redis(backend: RedisCache, server):
    backend.set("counter", 41, 30)
    assert backend.incr("counter") == 42
    assert backend.decr("counter", 10) == 32
    assert backend.get("counter") == 32
    assert server.get(backend.make_key("counter")) == b"32"
    assert 0 < server.ttl(backend.make_key("counter")) <= 30  # counting keeps the expiry
    with pytest.raises(ValueError, match="not found"):
        backend.incr("absent")
    assert not backend.has_key("absent")  # and made no counter of it


@pytest.mark.services
def test_add_many_is_one_round_trip_that_keeps_what_is_there(
    backend: RedisCache, server, round_trips
):
    backend.set("card:3", "tombstone", 5)
    values = {f"card:{n}": {"id": n} for n in range(20)}
    backend.add_many({"warm": 1}, 60)  # a pipeline's first connection says hello first
    round_trips.clear()
    assert backend.add_many(values, 60) == ["card:3"]
    assert len(round_trips) == 1
    assert round_trips[0].count(b"NX") == 20
    assert backend.get_many(values) == {**values, "card:3": "tombstone"}
    assert 0 < server.ttl(backend.make_key("card:3")) <= 5  # untouched, expiry included
    assert 55 < server.ttl(backend.make_key("card:0")) <= 60

    assert backend.add_many({"forever": 1, "card:0": 2}, None) == ["card:0"]
    assert server.ttl(backend.make_key("forever")) == -1  # no expiry
    # Timeout 0: the value would expire at once, so nothing is stored (as Django's add).
    assert backend.add_many({"now": 1, "forever": 2}, 0) == ["forever"]
    assert backend.get_many(["now", "forever"]) == {"forever": 1}
    assert backend.add_many({}, 60) == []


@pytest.mark.services
def test_the_rest_of_djangos_api(backend: RedisCache, server):
    assert backend.add("a", 1, 30) is True
    assert backend.add("a", 2, 30) is False
    assert backend.add("zero", 1, 0) is True
    assert not backend.has_key("zero")
    assert backend.get("a") == 1
    assert backend.get_or_set("b", "made", 30) == "made"
    assert backend.get_or_set("b", "again", 30) == "made"
    assert backend.set_many({"c": 3, "d": (4,)}, 30) == []
    assert 0 < server.ttl(backend.make_key("d")) <= 30
    assert backend.touch("d", None) is True
    assert server.ttl(backend.make_key("d")) == -1
    assert backend.touch("d", 10) is True
    assert 0 < server.ttl(backend.make_key("d")) <= 10
    assert backend.touch("absent", 10) is False
    backend.set_many({"c": 5}, 0)  # timeout 0 deletes, as in Django
    backend.set("a", 9, 0)
    assert backend.get_many(["a", "b", "c", "d"]) == {"b": "made", "d": (4,)}
    assert backend.delete("b") is True
    assert backend.delete("b") is False
    backend.delete_many(["d", "absent"])
    backend.delete_many([])
    assert backend.get_many(["b", "d"]) == {}
    assert backend.get("a", version=2) is None
    backend.set("a", "v2", 30, version=2)
    assert (backend.get("a"), backend.get("a", version=2)) == (None, "v2")


@pytest.mark.services
def test_clear_empties_the_database_as_djangos_does(backend: RedisCache, server, cache_redis):
    backend.set("mine", 1, 30)
    server.set("not-mine", b"x")  # another prefix, same database: FLUSHDB takes it too
    with redis.Redis.from_url(cache_redis.url_for(4)) as other_db:
        other_db.set("elsewhere", b"y")
        backend.clear()
        assert other_db.get("elsewhere") == b"y"
        other_db.delete("elsewhere")
    assert server.dbsize() == 0


@pytest.mark.services
def test_close_keeps_the_connection(backend: RedisCache):
    # Django closes every cache after each request: reconnecting each time would cost a
    # handshake a request.
    backend.set("a", 1, 30)
    connection = backend.client.connection
    assert connection is not None
    backend.close()
    assert backend.get("a") == 1
    assert backend.client.connection is connection


def test_a_fill_never_overwrites_what_is_there(cache_backend: str):
    # SafeCache.add_many: Redis's add_many, per-key add on Memcached and in process.
    cache.set("card:1", "tombstone", 30)
    cache.add_many({"card:1": "card", "card:2": "card"}, 30)
    assert cache.get_many(["card:1", "card:2"]) == {"card:1": "tombstone", "card:2": "card"}


def test_a_pipelined_fill_never_overwrites_what_is_there(cache_backend: str):
    # SafeCache.pipelined: sets and adds sent together, in order, on every backend.
    cache.set("card:1", "tombstone", 30)
    with cache.pipelined():
        cache.add_many({"card:1": "card", "card:2": "card"}, 30)
        cache.set_many({"page": "ids"}, 30)
        cache.add_many({"page": "other", "profile:1": "alice"}, 30)
        assert cache.get_many(["card:2", "page"]) == {}  # nothing sent before the block ends
    assert cache.get_many(["card:1", "card:2", "page", "profile:1"]) == {
        "card:1": "tombstone",
        "card:2": "card",
        "page": "ids",
        "profile:1": "alice",
    }


@pytest.mark.services
def test_set_groups_sets_and_adds_in_one_round_trip(backend: RedisCache, server, round_trips):
    backend.set("card:1", "tombstone", 5)
    backend.add_many({"warm": 1}, 60)  # a pipeline's first connection says hello first
    round_trips.clear()
    backend.set_groups(
        [
            ({"card:1": "card", "card:2": "card"}, 60, True),
            ({"page": "ids"}, 60, False),
            ({"never": 1}, 0, True),  # an add that would expire at once: nothing sent
        ]
    )
    assert len(round_trips) == 1
    assert round_trips[0].count(b"NX") == 2
    assert backend.get_many(["card:1", "card:2", "page", "never"]) == {
        "card:1": "tombstone",
        "card:2": "card",
        "page": "ids",
    }
    assert 0 < server.ttl(backend.make_key("card:1")) <= 5  # untouched, expiry included
    round_trips.clear()
    backend.set_groups([({"never": 1}, 0, True)])
    assert round_trips == []  # nothing to send: no round trip


@pytest.mark.services
def test_many_keys_are_made_as_make_key_makes_them(cache_redis: RedisServer, server):
    def custom(key: str, prefix: str, version: int) -> str:
        return f"{prefix}/{version}/{key}"

    server.flushdb()
    default = RedisCache(cache_redis.url_for(3), {"KEY_PREFIX": "p", "VERSION": 2})
    other = RedisCache(cache_redis.url_for(3), {"KEY_PREFIX": "p", "KEY_FUNCTION": custom})
    for backend in (default, other):
        assert backend.make_keys(["a", 7], None) == [backend.make_key("a"), backend.make_key(7)]
        assert backend.make_keys(["a"], 5) == [backend.make_key("a", 5)]
        backend.add_many({"a": 1}, 30)
        assert server.get(backend.make_key("a")) == b"1"
    assert server.get("p/1/a") == b"1"
