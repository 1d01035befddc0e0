"""Django's RedisCache with three costs of its per-call path removed (measured on a warm
signed-in list, about 25 keys over three round trips a request; docs/performance.md):

* ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every operation, and redis-py's
  constructor fills a case-insensitive table of ~170 response callbacks each time: more CPU than
  the round trip itself. A ``redis.Redis`` is safe to share between threads (each command
  borrows a connection from the pool), and django-redis keeps one per server the same way;
  Django's backend instances are per thread anyway (``caches`` is thread-local). Here: one per
  connection pool, holding one connection of it (``single_connection_client``): borrowing and
  returning a pooled connection on every command cost ~17 µs of CPU a round trip (redis-py 8
  checks each ``get_connection`` call for deprecated arguments), a fifth of a 21-key ``MGET``.
  The client's own lock keeps it correct should a backend ever be shared between threads.
* ``RedisSerializer.loads`` tries ``int(data)`` first and catches the ``ValueError`` for every
  pickled value (~3 µs each). ``Serializer`` tells the two apart by the pickle header instead;
  integers are still stored raw, so ``incr``/``decr`` keep working.
* ``validate_key`` checks every key for what Memcached would reject, one character at a time in
  Python (~3 µs a key). Redis takes any key; Conduit's keys are kept Memcached-safe by the
  Memcached backend itself, which refuses a bad key, in the tests that run on it.

Everything else is Django's.
"""

import pickle
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.core.cache.backends.redis import RedisSerializer

_PICKLE_HEADER = b"\x80"  # every pickle of protocol 2 or later starts with the PROTO opcode


class Serializer(RedisSerializer):
    def loads(self, data: Any) -> Any:
        if isinstance(data, bytes) and data[:1] == _PICKLE_HEADER:
            return pickle.loads(data)  # noqa: S301  (our own values, from our own cache)
        return int(data)


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("serializer", Serializer)
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # the private helpers below are Django's, not in django-stubs
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = django._get_connection_pool(write)
            client = self._clients[index] = django._client(
                connection_pool=pool, single_connection_client=True
            )
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def validate_key(self, key: str) -> None:
        """Any key is valid in Redis (see the module doc)."""
