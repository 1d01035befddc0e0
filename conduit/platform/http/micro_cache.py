"""A short per-process micro-cache for anonymous responses, and the view decorator that uses it
(``CACHE_ANONYMOUS_SECONDS``, ``CACHE_ANONYMOUS_MAX_BYTES``, ``CACHE_ANONYMOUS_MAX_ENTRY_BYTES``,
ADR 0016)."""

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from conduit.platform.cache import bulk
from conduit.platform.http.edge_cache import FRESH_COOKIE

# What an entry costs beyond its strings (the tuple, the dict slot, the object headers), so that
# many small entries are not counted as free.
ENTRY_OVERHEAD = 256


class Stored(NamedTuple):
    body: bytes
    content_type: str
    vary: str | None

    def size(self, key: str) -> int:
        return (
            len(self.body)
            + len(key)
            + len(self.content_type)
            + len(self.vary or "")
            + ENTRY_OVERHEAD
        )


class _Entry(NamedTuple):
    expires: float
    value: Stored
    size: int


class MicroCache:
    """Whole responses kept in this process for a bounded time (anonymous reads only), within a
    bounded number of bytes: least recently used entries go first, expired ones are swept out,
    and an answer bigger than the per-entry cap is never kept.

    One thread computes a missing entry while the others for the same key wait for it, so a hot
    key that expires under load is computed once per process, not once per request. Nothing
    per key outlives its computation: a key's flight is removed when it lands, whether or not
    its answer was kept.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._flights: dict[str, threading.Event] = {}
        self._guard = threading.Lock()
        self._next_sweep = 0.0
        self.bytes = 0
        # What entries expire by: tests move a clock of their own to check the staleness bound
        # without sleeping.
        self.clock: Callable[[], float] = time.monotonic

    def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Stored | None],
        *,
        seconds: float,
        max_bytes: int,
        max_entry_bytes: int,
    ) -> Stored | None:
        """The stored value, or ``compute()``'s: kept unless it is None or too big."""
        with self._guard:
            value = self._fresh(key)
            if value is not None:
                return value
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = threading.Event()
        if not leading:
            flight.wait()
            with self._guard:
                value = self._fresh(key)
            if value is not None:
                return value
            # The leader's answer was not kept (an error, or too big): compute this one without
            # queueing behind other waiters.
            return self._keep(key, compute(), seconds, max_bytes, max_entry_bytes)
        try:
            return self._keep(key, compute(), seconds, max_bytes, max_entry_bytes)
        finally:
            with self._guard:
                del self._flights[key]
            flight.set()

    def _fresh(self, key: str) -> Stored | None:
        # Under the guard. Also where expired entries are swept out, at most once per second, so
        # that a burst of distinct keys does not stay until LRU pressure pushes it out.
        now = self.clock()
        if now >= self._next_sweep:
            self._next_sweep = now + 1.0
            for stale in [k for k, entry in self._entries.items() if entry.expires <= now]:
                self._drop(stale)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= now:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    def _keep(
        self, key: str, value: Stored | None, seconds: float, max_bytes: int, max_entry_bytes: int
    ) -> Stored | None:
        if value is None:
            return None
        size = value.size(key)
        if size > max_entry_bytes or size > max_bytes:
            return value
        with self._guard:
            if key in self._entries:
                self._drop(key)
            while self._entries and self.bytes + size > max_bytes:
                self._drop(next(iter(self._entries)))
            self._entries[key] = _Entry(self.clock() + seconds, value, size)
            self.bytes += size
        return value

    def _drop(self, key: str) -> None:
        self.bytes -= self._entries.pop(key).size

    def __len__(self) -> int:
        return len(self._entries)

    def in_flight(self) -> int:
        return len(self._flights)

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
            self.bytes = 0


micro_cache = MicroCache()


def _written() -> None:
    # A write in this process drops what it may have changed at once (other processes' entries
    # expire within CACHE_ANONYMOUS_SECONDS).
    micro_cache.clear()


bulk.on_invalidation(_written)


def integer(raw: str) -> str:
    """A normaliser for a parameter read with ``int()``: ``007`` and ``7`` share an entry.
    Anything else is kept as sent (such an answer is a 422, which is never kept)."""
    try:
        return str(int(raw))
    except ValueError:
        return raw


def verbatim(raw: str) -> str:
    return raw


# Parameter name -> how its value is normalised in the key.
Parameters = Mapping[str, Callable[[str], str]]


def key_of(request: HttpRequest, parameters: Parameters) -> str:
    """The path and the parameters the view reads, normalised: others change nothing in the
    answer, so they do not make an entry of their own. A blank value is the same as none
    (the views read ``GET.get(name) or default``), and ``GET.get`` is the last value sent."""
    pairs = [
        (name, parameters[name](raw))
        for name in sorted(parameters)
        if (raw := request.GET.get(name))
    ]
    # Both parts quoted, so no path or value can pass for another's.
    return f"{quote(request.path)}?{urlencode(pairs)}"


def anonymous_micro_cached(
    view: Callable[..., HttpResponseBase], parameters: Parameters | None = None
) -> Callable[..., HttpResponseBase]:
    """Serve anonymous ``GET`` responses (200s) of ``view`` from ``micro_cache`` for
    ``CACHE_ANONYMOUS_SECONDS``: the bound on how stale an anonymous read may be (ADR 0016).
    ``parameters`` are the query parameters the view reads (no others are in the key); a
    request with an ``Authorization`` header always reaches the view."""
    parameters = parameters or {}

    @functools.wraps(view)  # keeps DRF's csrf_exempt and cls, which the schema reads
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        seconds = settings.CACHE_ANONYMOUS_SECONDS
        if (
            seconds <= 0
            or request.method != "GET"
            or "HTTP_AUTHORIZATION" in request.META
            or FRESH_COOKIE in request.COOKIES  # a writer reads its write (edge_cache.py)
        ):
            return view(request, *args, **kwargs)
        produced: HttpResponseBase | None = None

        def compute() -> Stored | None:
            nonlocal produced
            produced = response = view(request, *args, **kwargs)
            render = getattr(response, "render", None)
            if render is not None:
                render()
            if response.status_code != 200 or not isinstance(response, HttpResponse):
                return None
            return Stored(response.content, response["Content-Type"], response.get("Vary"))

        stored = micro_cache.get_or_compute(
            key_of(request, parameters),
            compute,
            seconds=seconds,
            max_bytes=settings.CACHE_ANONYMOUS_MAX_BYTES,
            max_entry_bytes=settings.CACHE_ANONYMOUS_MAX_ENTRY_BYTES,
        )
        if produced is not None:
            return produced
        assert stored is not None  # noqa: S101 -- None only when this request computed it
        response = HttpResponse(stored.body, content_type=stored.content_type)
        if stored.vary:
            response["Vary"] = stored.vary
        return response

    return wrapper
