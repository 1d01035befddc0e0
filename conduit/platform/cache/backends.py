"""The cache backends ``CACHE_URL`` can name, and the URL parsing (ADR 0016).

``cache_config(url)`` is the ``CACHES`` entry: empty = Django's LocMemCache with a one-pass
``get_many`` (``locmem.py``; in-process, the embedded default), ``redis://``, ``rediss://`` or
``unix://`` = ``RedisCache`` below,
``pymemcache://host:port`` = Django's PyMemcacheCache. The settings import this module before
Django is configured: at import time it needs only Django's ``BaseCache``, which reads no
setting; redis-py (~150 ms to import) is imported when the first Redis backend is built.

``RedisCache`` is Django's cache API on redis-py's public API (``ConnectionPool.from_url``,
``redis.Redis``, pipelines) and ``BaseCache``'s (``make_key``, ``get_backend_timeout``). It
replaces Django's RedisCache, whose per-call path cost more CPU than the round trip on a warm
signed-in list (about 25 keys over two round trips a request; docs/performance.md):

* Django's client builds a new ``redis.Redis`` for every operation, and redis-py's constructor
  fills a table of ~170 response callbacks each time. Here: one per backend, built on first use
  (building one connects, and SafeCache must see that fail inside a call). Django's backends are
  per thread (``caches`` is thread-local), so this is one client per thread, as django-redis
  keeps one per server.
* That client holds one connection (``single_connection_client``): borrowing and returning a
  pooled connection on every command costs ~17 µs of CPU a round trip (redis-py 8 checks each
  ``get_connection`` call for deprecated arguments), a fifth of a 21-key ``MGET``. The client
  takes its own lock around each command, so it stays correct should a backend ever be shared
  between threads (the tests share one between eight).
* Integers are stored raw, so ``incr``/``decr`` work in Redis; everything else is pickled.
  ``Serializer.loads`` tells the two apart by the pickle header, where Django's tries ``int()``
  first and catches the ``ValueError`` for every pickled value (~3 µs each).
* No key is checked for what Memcached would reject (Django's ``validate_key``: one character
  at a time in Python, ~3 µs a key). Redis takes any key; Conduit's keys are kept Memcached-safe
  by the Memcached backend itself, which refuses a bad key, in the tests that run on it.

``add_many`` stores many values where their keys are absent (``SET NX EX``) in one pipelined
round trip, so that a fill never overwrites a tombstone. The one thing redis-py's public API
cannot do here: run a pipeline on a single-connection client's connection. A ``Pipeline``
always borrows one from the pool, so a thread that writes many keys holds a second connection,
and each ``add_many``/``set_many`` pays the pool's checkout once.

One server: Django's RedisCache took a list and read from the others as replicas; Conduit's
caches are not replicated, and a list here is refused rather than half-used.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache, default_key_func
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    import redis

REDIS_BACKEND = f"{__name__}.RedisCache"


def cache_config(
    url: str, *, key_prefix: str, socket_timeout: float, locmem_max_entries: int = 20_000
) -> dict[str, Any]:
    """A ``CACHES`` entry from a URL: empty = in-process (the embedded default),
    ``redis://host:port/db`` = ``RedisCache``, ``pymemcache://host:port`` = Memcached."""
    common: dict[str, Any] = {"KEY_PREFIX": key_prefix, "TIMEOUT": 300}
    if not url:
        # Django's default of 300 entries is fewer than one page of cards per list filter: at
        # that size it culls (a scan of every key) on almost every fill and serves mostly misses.
        return {
            "BACKEND": "conduit.platform.cache.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": locmem_max_entries},
            **common,
        }
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss", "unix"):
        return {
            "BACKEND": REDIS_BACKEND,
            "LOCATION": url,
            # redis-py's connection arguments. No retry: a timeout is one timeout, which
            # SafeCache turns into a miss and a pause of the backend.
            "OPTIONS": {
                "socket_connect_timeout": socket_timeout,
                "socket_timeout": socket_timeout,
                "retry_on_timeout": False,
            },
            **common,
        }
    if parts.scheme == "pymemcache":
        return {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": parts.netloc or parts.path,
            "OPTIONS": {
                "connect_timeout": socket_timeout,
                "timeout": socket_timeout,
                "no_delay": True,
            },
            **common,
        }
    raise ValueError(
        f"CACHE_URL: unsupported scheme {parts.scheme!r} (use redis:// or pymemcache://)"
    )


_PICKLE_HEADER = b"\x80"  # every pickle of protocol 2 or later starts with the PROTO opcode


class Serializer:
    """Integers raw (Redis counts them), everything else pickled; told apart by the header."""

    def dumps(self, value: Any) -> int | bytes:
        if type(value) is int:  # not bool: True must come back as True
            return value
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes | str) -> Any:
        if isinstance(data, bytes) and data[:1] == _PICKLE_HEADER:
            return pickle.loads(data)  # noqa: S301  (our own values, from our own cache)
        return int(data)


class RedisCache(BaseCache):
    """Django's cache API on one Redis server. ``LOCATION`` is its URL, ``OPTIONS`` are
    redis-py's connection arguments (``socket_timeout``, ...). See the module doc."""

    serializer = Serializer()

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        if not isinstance(server, str) or not server or any(c in server for c in ",;"):
            raise ImproperlyConfigured(
                f"{REDIS_BACKEND}: LOCATION must be the URL of one Redis server, got {server!r}"
            )
        self.url = server
        self.options = dict(params.get("OPTIONS", {}))
        self._client: redis.Redis | None = None
        self._client_lock = threading.Lock()

    @property
    def client(self) -> redis.Redis:
        """The backend's one client, with its one connection (built on first use)."""
        client = self._client
        if client is None:
            import redis  # not at import time (see the module doc)

            with self._client_lock:
                if self._client is None:
                    pool = redis.ConnectionPool.from_url(self.url, **self.options)
                    self._client = redis.Redis(connection_pool=pool, single_connection_client=True)
                client = self._client
        return client

    def validate_key(self, key: Any) -> None:
        """Any key is valid in Redis (see the module doc)."""

    def get_backend_timeout(self, timeout: Any = DEFAULT_TIMEOUT) -> int | None:
        """Seconds from now, as Redis counts them: None = no expiry, 0 = expired at once."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else max(0, int(timeout))

    # --- one key -----------------------------------------------------------------------------

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        data = self.client.get(self.make_key(key, version))
        return default if data is None else self.serializer.loads(data)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        ttl = self.get_backend_timeout(timeout)
        if ttl == 0:
            self.client.delete(self.make_key(key, version))
        else:
            self.client.set(self.make_key(key, version), self.serializer.dumps(value), ex=ttl)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        ttl = self.get_backend_timeout(timeout)
        key = self.make_key(key, version)
        if ttl == 0:  # it would expire at once: stored or not, only whether it was absent
            return not self.client.exists(key)
        return bool(self.client.set(key, self.serializer.dumps(value), nx=True, ex=ttl))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        ttl = self.get_backend_timeout(timeout)
        key = self.make_key(key, version)
        return bool(self.client.persist(key) if ttl is None else self.client.expire(key, ttl))

    def delete(self, key: Any, version: int | None = None) -> bool:
        return bool(self.client.delete(self.make_key(key, version)))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return bool(self.client.exists(self.make_key(key, version)))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Add ``delta`` in Redis (the value stays a Redis integer; its expiry is kept). As in
        Django, a missing key is a ``ValueError``, not a new counter."""
        key = self.make_key(key, version)
        client = self.client
        if not client.exists(key):
            raise ValueError(f"Key {key!r} not found.")
        return int(client.incrby(key, delta))

    def count(self, key: Any, seconds: int, version: int | None = None) -> int:
        """Add one to the counter ``key`` (made at 0 when missing, living ``seconds`` from its
        first count): the rate limits' windows. One round trip on the client's connection, two
        for a window's first count (its expiry). A process that dies between the two leaves a
        counter without expiry, which its window's key never names again."""
        made = self.make_key(key, version)
        count = int(self.client.execute_command("INCR", made))
        if count == 1:
            self.client.execute_command("EXPIRE", made, seconds)
        return count

    # --- many keys: one round trip each ------------------------------------------------------
    # Commands go through ``execute_command``: redis-py 8 wraps ``set`` in a check of every call's
    # arguments for experimental ones, ~3 µs a key in a pipeline (a third of a 20-key fill).

    def make_keys(self, keys: Iterable[Any], version: int | None) -> list[str]:
        """``make_key`` for many keys; with Django's key function, one prefix for all of them
        instead of a call per key."""
        if self.key_func is not default_key_func:
            return [self.make_key(key, version) for key in keys]
        prefix = f"{self.key_prefix}:{self.version if version is None else version}:"
        return [f"{prefix}{key}" for key in keys]

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        if not keys:
            return {}
        values = self.client.execute_command("MGET", *self.make_keys(keys, version))
        loads = self.serializer.loads
        return {
            key: loads(data) for key, data in zip(keys, values, strict=True) if data is not None
        }

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        ttl = self.get_backend_timeout(timeout)
        if ttl == 0:
            self.delete_many(data, version)
        elif data:
            pipe = self.client.pipeline(transaction=False)
            dumps, expiry = self.serializer.dumps, () if ttl is None else ("EX", ttl)
            for key, value in zip(self.make_keys(data, version), data.values(), strict=True):
                pipe.execute_command("SET", key, dumps(value), *expiry)
            pipe.execute()
        return []  # Redis stores every value: no key failed

    def set_groups(
        self, groups: Iterable[tuple[Mapping[Any, Any], Any, bool]], version: int | None = None
    ) -> None:
        """For each ``(values, timeout, only_absent)`` in order, ``set_many`` (or ``add_many``
        when only where absent), all in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        dumps = self.serializer.dumps
        for data, timeout, only_absent in groups:
            ttl = self.get_backend_timeout(timeout)
            if ttl == 0 and only_absent:  # an add that would expire at once stores nothing
                continue
            absent = ("NX",) if only_absent else ()
            for key, value in zip(self.make_keys(data, version), data.values(), strict=True):
                if ttl == 0:
                    pipe.execute_command("DEL", key)
                else:
                    expiry = () if ttl is None else ("EX", ttl)
                    pipe.execute_command("SET", key, dumps(value), *absent, *expiry)
        if len(pipe):
            pipe.execute()

    def add_many(
        self, values: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        """Store each value whose key is absent (``SET NX EX``), all in one round trip, and
        return the keys that were present (they keep their value and expiry). Timeout 0 stores
        nothing: the value would expire at once, as with Django's ``add``."""
        if not values:
            return []
        ttl = self.get_backend_timeout(timeout)
        pipe = self.client.pipeline(transaction=False)
        keys = self.make_keys(values, version)
        if ttl == 0:  # nothing would stay: only which keys are present
            for key in keys:
                pipe.execute_command("EXISTS", key)
            return [key for key, found in zip(values, pipe.execute(), strict=True) if found]
        dumps, expiry = self.serializer.dumps, () if ttl is None else ("EX", ttl)
        for key, value in zip(keys, values.values(), strict=True):
            pipe.execute_command("SET", key, dumps(value), "NX", *expiry)
        return [key for key, added in zip(values, pipe.execute(), strict=True) if not added]

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = self.make_keys(keys, version)
        if keys:
            self.client.delete(*keys)

    # --- the whole cache ---------------------------------------------------------------------

    def clear(self) -> None:
        """Empty the Redis database (``FLUSHDB``), whatever the key prefix, as Django's does."""
        self.client.flushdb()

    def close(self, **kwargs: Any) -> None:
        """Keep the connection: Django calls this after every request, and reconnecting each
        time would cost a TCP handshake a request (Django's RedisCache keeps its pool too)."""
