"""``CACHE_URL`` to a ``CACHES`` entry (kept apart from cache.py: the settings import it, before
Django and prometheus_client are configured)."""

from typing import Any
from urllib.parse import urlsplit


def cache_config(
    url: str, *, key_prefix: str, socket_timeout: float, locmem_max_entries: int = 20_000
) -> dict[str, Any]:
    """A ``CACHES`` entry from a URL: empty = in-process (the embedded default),
    ``redis://host:port/db`` = Django's RedisCache, ``pymemcache://host:port`` = Memcached."""
    common: dict[str, Any] = {"KEY_PREFIX": key_prefix, "TIMEOUT": 300}
    if not url:
        # Django's default of 300 entries is fewer than one page of cards per list filter: at
        # that size it culls (a scan of every key) on almost every fill and serves mostly misses.
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": locmem_max_entries},
            **common,
        }
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return {
            "BACKEND": "conduit.platform.cache.redis_backend.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "socket_connect_timeout": socket_timeout,
                "socket_timeout": socket_timeout,
                "retry_on_timeout": False,
            },
            **common,
        }
    if scheme == "pymemcache":
        parts = urlsplit(url)
        location = parts.netloc or parts.path
        return {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": location,
            "OPTIONS": {
                "connect_timeout": socket_timeout,
                "timeout": socket_timeout,
                "no_delay": True,
            },
            **common,
        }
    raise ValueError(f"CACHE_URL: unsupported scheme {scheme!r} (use redis:// or pymemcache://)")
