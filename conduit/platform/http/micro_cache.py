"""A short per-process micro-cache for anonymous responses, and the view decorator that uses it
(``CACHE_ANONYMOUS_SECONDS``, ADR 0016)."""

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from conduit.platform.cache import bulk


class MicroCache:
    """Whole responses kept in this process for a bounded time (anonymous reads only).

    One thread recomputes an expired entry while the others for the same key wait for it, so a
    hot key that expires under load is computed once per process, not once per request.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        # What entries expire by: tests move a clock of their own to check the staleness bound
        # without sleeping.
        self.clock: Callable[[], float] = time.monotonic

    def get_or_compute(self, key: str, seconds: float, compute: Callable[[], Any | None]) -> Any:
        """The stored value, or ``compute()``'s (stored unless it is None)."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self.clock():
            return entry[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._entries.get(key)  # another thread may have just computed it
            if entry is not None and entry[0] > self.clock():
                return entry[1]
            value = compute()
            if value is not None:
                if len(self._entries) > 10_000:  # bounded memory under many distinct URLs
                    self._entries.clear()
                    self._locks.clear()
                self._entries[key] = (self.clock() + seconds, value)
            return value

    def clear(self) -> None:
        self._entries.clear()


micro_cache = MicroCache()


def _written() -> None:
    # A write in this process drops what it may have changed at once (other processes' entries
    # expire within CACHE_ANONYMOUS_SECONDS).
    micro_cache.clear()


bulk.on_invalidation(_written)


def anonymous_micro_cached(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Serve anonymous ``GET`` responses (200s) of ``view`` from ``micro_cache`` for
    ``CACHE_ANONYMOUS_SECONDS``: the bound on how stale an anonymous read may be (ADR 0016).
    A request with an ``Authorization`` header always reaches the view."""

    @functools.wraps(view)  # keeps DRF's csrf_exempt and cls, which the schema reads
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        seconds = settings.CACHE_ANONYMOUS_SECONDS
        if seconds <= 0 or request.method != "GET" or "HTTP_AUTHORIZATION" in request.META:
            return view(request, *args, **kwargs)
        produced: HttpResponseBase | None = None

        def compute() -> tuple[bytes, str, str | None] | None:
            nonlocal produced
            produced = response = view(request, *args, **kwargs)
            render = getattr(response, "render", None)
            if render is not None:
                render()
            if response.status_code != 200 or not isinstance(response, HttpResponse):
                return None
            return response.content, response["Content-Type"], response.get("Vary")

        stored = micro_cache.get_or_compute(request.get_full_path(), seconds, compute)
        if produced is not None:
            return produced
        body, content_type, vary = stored
        response = HttpResponse(body, content_type=content_type)
        if vary:
            response["Vary"] = vary
        return response

    return wrapper
