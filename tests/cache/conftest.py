"""The cache tests run against each backend ``CACHE_URL`` can name: the in-process LocMemCache
(the embedded default), a real Redis and a real Memcached (``services``: started by
tests/services.py on free loopback ports).

``cache_backend`` points ``settings.CACHES`` at the backend for one test; Django's test signals
drop its cache connections when ``CACHES`` changes, so ``SafeCache`` (which looks the backend up
on every call) reads and writes the real server. The key prefix is the test process's, as in
config/settings_test.py.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conduit.platform.cache.backends import cache_config
from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache
from tests.services import RedisServer, ServerProcess, make_redis

SOCKET_TIMEOUT = 0.25  # CACHE_SOCKET_TIMEOUT's default
BACKENDS = [
    "locmem",
    pytest.param("redis", marks=pytest.mark.services),
    pytest.param("memcached", marks=pytest.mark.services),
]


@pytest.fixture(scope="session")
def cache_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of the cache tests' own (the fault tests stop and pause it), with its
    append-only file on so that a restart comes back with the old entries, as after a
    network partition."""
    server = make_redis(Path(tmp_path_factory.mktemp("cache-redis")), persistent=True)
    server.start()
    yield server
    server.stop()


def backend_url(name: str, request: pytest.FixtureRequest) -> str:
    if name == "locmem":
        return ""
    if name == "redis":
        server: RedisServer = request.getfixturevalue("cache_redis")
        server.start()  # a fault test may have stopped it
        return server.url_for(1)
    memcached: ServerProcess = request.getfixturevalue("memcached_server")
    return f"pymemcache://127.0.0.1:{memcached.port}"


def use_cache(
    settings: Any, url: str, *, socket_timeout: float = SOCKET_TIMEOUT, clear: bool = True
) -> None:
    """Point the default cache at ``url`` and (``clear``: it answers) empty it and forget what
    the process knew about the last one."""
    settings.CACHES = {
        "default": cache_config(
            url, key_prefix=f"test-{os.getpid()}", socket_timeout=socket_timeout
        )
    }
    if clear:
        cache.clear()
    micro_cache.clear()


@pytest.fixture(params=BACKENDS)
def cache_backend(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """The name of the backend this test runs against (parametrized over ``BACKENDS``)."""
    use_cache(settings, backend_url(request.param, request))
    yield request.param
    cache.clear()
    micro_cache.clear()
