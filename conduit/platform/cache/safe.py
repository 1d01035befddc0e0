"""The cache (configured from ``CACHE_URL`` by ``backends.py``): a wrapper that turns a failing
backend into misses, and a short per-process micro-cache for anonymous responses (ADR 0016).

``SafeCache`` is what domain code uses. A backend that raises or times out is a *miss* for reads
and a *no-op* for writes; the error is counted (``conduit_cache_errors_total``), logged at most
once per ``CACHE_ERROR_LOG_SECONDS``, and the backend is left alone for ``CACHE_RETRY_SECONDS``
so that a Redis that times out costs one timeout per process per interval, not one per call.

``reading_ahead(keys)`` saves a round trip where a request's reads come one after another but
their keys are known up front: the next read inside the block fetches ``keys`` along with its
own, and the read of those keys later in the block is answered from what was fetched. A warm
signed-in list is then two round trips, not three: the token's user and the page's generations
come in one (conduit/api/views/articles.py). What is answered is what the backend held a moment
earlier in the same request, which is what a read at that moment would have returned.

A write or invalidation lost to an outage could leave a stale entry behind once the backend is
back (a network partition keeps Redis's data). So a lost write marks the process, and the first
call that succeeds afterwards moves every process to a new *epoch*: the epoch is the version of
every key, and each process re-reads it at most once per ``EPOCH_CHECK_SECONDS``.
"""

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import caches
from prometheus_client import Counter

from conduit.platform.cache import portable

log = structlog.get_logger(__name__)

CACHE_ERRORS = Counter(
    "conduit_cache_errors_total",
    "Cache calls that failed or timed out (each is served as a miss or skipped).",
    ["cache"],
)
CACHE_REQUESTS = Counter(
    "conduit_cache_requests_total",
    "Keys looked up in the cache, by result (hit or miss).",
    ["cache", "result"],
)

EPOCH_KEY = "epoch"
EPOCH_CHECK_SECONDS = 1.0


@dataclass
class _ReadAhead:
    keys: list[str]
    found: dict[str, Any] | None = None  # None until the block's first read fetched them


_read_ahead: ContextVar[_ReadAhead | None] = ContextVar("conduit_cache_read_ahead", default=None)
# set_many and add_many calls collected by ``pipelined``, in order.
_pipeline: ContextVar[list[portable.Group] | None] = ContextVar(
    "conduit_cache_pipeline", default=None
)


class SafeCache:
    """The subset of Django's cache API the domain uses, never raising (see the module doc)."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self._down_until = 0.0
        self._last_logged = 0.0
        self._suppressed = 0
        self._lost_writes = False
        self._epoch: int | None = None
        self._epoch_checked = 0.0
        self._lock = threading.Lock()
        # The labelled counters, looked up once: .labels() cost more than the hit it counts.
        self._hits = CACHE_REQUESTS.labels(alias, "hit")
        self._misses = CACHE_REQUESTS.labels(alias, "miss")

    # --- failure handling ------------------------------------------------------------------

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, operation: str, exc: BaseException, *, write: bool) -> None:
        now = time.monotonic()
        CACHE_ERRORS.labels(self.alias).inc()
        self._down_until = now + settings.CACHE_RETRY_SECONDS
        if write:
            self._lost_writes = True
        with self._lock:
            if now - self._last_logged < settings.CACHE_ERROR_LOG_SECONDS and self._last_logged:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last_logged = self._suppressed, 0, now
        log.warning(
            "cache_error",
            cache=self.alias,
            operation=operation,
            error=f"{type(exc).__name__}: {exc}",
            suppressed_since_last=suppressed,
            retry_after_seconds=settings.CACHE_RETRY_SECONDS,
        )

    def _call(self, operation: str, call: Callable[[], Any], *, write: bool, default: Any) -> Any:
        if not self._available():
            if write:
                self._lost_writes = True
            return default
        try:
            result = call()
        except Exception as exc:  # any backend failure is a miss, by design
            self._failed(operation, exc, write=write)
            return default
        if self._lost_writes:
            self._new_epoch()
            if not write:
                # Read under the old epoch: it may be an entry a lost invalidation left behind.
                return default
        return result

    # --- the epoch: the version of every key -------------------------------------------------

    def _version(self) -> int:
        now = time.monotonic()
        if self._epoch is not None and now - self._epoch_checked < EPOCH_CHECK_SECONDS:
            return self._epoch
        backend = caches[self.alias]
        if self._available():
            try:
                epoch = backend.get(EPOCH_KEY, version=0)
                if epoch is None:
                    fresh = _new_epoch_number()
                    epoch = fresh if backend.add(EPOCH_KEY, fresh, None, version=0) else None
                    epoch = epoch or backend.get(EPOCH_KEY, version=0)
            except Exception as exc:
                self._failed("epoch", exc, write=False)
                epoch = None
            if epoch is not None:
                self._epoch, self._epoch_checked = int(epoch), now
        return self._epoch or 0

    def _new_epoch(self) -> None:
        self._lost_writes = False
        fresh = _new_epoch_number()
        try:
            caches[self.alias].set(EPOCH_KEY, fresh, None, version=0)
        except Exception as exc:
            self._failed("epoch", exc, write=True)
            return
        self._epoch, self._epoch_checked = fresh, time.monotonic()
        log.info("cache_epoch_renewed", cache=self.alias, reason="writes lost while unavailable")

    # --- the API -----------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """False while the backend is being skipped after an error: an empty answer then means
        "unknown", not "absent" (callers that share results between requests check this)."""
        return self._available()

    @contextlib.contextmanager
    def reading_ahead(self, keys: Iterable[str]) -> Iterator[None]:
        """Fetch ``keys`` with the next read in this block, and answer their read from it (see
        the module doc). Reads of other keys, and everything after the block, are as usual."""
        reset = _read_ahead.set(_ReadAhead(list(keys)))
        try:
            yield
        finally:
            _read_ahead.reset(reset)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = list(keys)
        if not keys:
            return {}
        ahead = _read_ahead.get()
        if ahead is not None:
            if ahead.found is None:  # this read fetches them too
                wanted = set(keys)
                extra = [k for k in ahead.keys if k not in wanted]
                found = self._fetch([*keys, *extra])
                ahead.found = {k: found[k] for k in ahead.keys if k in found}
                return {k: found[k] for k in keys if k in found}
            if set(keys) <= set(ahead.keys):  # fetched already: answered once, from there
                found, ahead.keys = ahead.found, []
                return {k: found[k] for k in keys if k in found}
        return self._fetch(keys)

    def _fetch(self, keys: list[str]) -> dict[str, Any]:
        version = self._version()
        found: dict[str, Any] = self._call(
            "get_many",
            lambda: caches[self.alias].get_many(keys, version=version),
            write=False,
            default={},
        )
        hits = len(found)
        self._hits.inc(hits)
        self._misses.inc(len(keys) - hits)
        return found

    def get(self, key: str) -> Any:
        return self.get_many([key]).get(key)

    @contextlib.contextmanager
    def pipelined(self) -> Iterator[None]:
        """``set_many`` and ``add_many`` calls in the block are sent when it ends, in order and
        together: one round trip on Redis (a write's invalidations, ``bulk.batch``; what a
        read's miss stores)."""
        if _pipeline.get() is not None:  # nested: the outer block sends
            yield
            return
        groups: list[portable.Group] = []
        reset = _pipeline.set(groups)
        try:
            yield
        finally:
            _pipeline.reset(reset)
        if groups:
            version = self._version()
            backend = caches[self.alias]
            self._call(
                "set_many",
                lambda: portable.set_groups(backend, groups, version),
                write=True,
                default=None,
            )

    def set_many(self, values: Mapping[str, Any], timeout: float | None) -> None:
        if values:
            groups = _pipeline.get()
            if groups is not None:
                groups.append(portable.Group(dict(values), timeout))
                return
            version = self._version()
            self._call(
                "set_many",
                lambda: caches[self.alias].set_many(dict(values), timeout, version=version),
                write=True,
                default=None,
            )

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self.set_many({key: value}, timeout)

    def add_many(self, values: Mapping[str, Any], timeout: float | None) -> None:
        """Store each value only where the key is absent (a fill never overwrites a tombstone)."""
        if not values:
            return
        groups = _pipeline.get()
        if groups is not None:
            groups.append(portable.Group(dict(values), timeout, only_absent=True))
            return
        version = self._version()
        backend = caches[self.alias]
        self._call(
            "add_many",
            lambda: portable.add_many(backend, values, timeout, version),
            write=True,
            default=None,
        )

    def count(self, key: str, seconds: int) -> int | None:
        """Add one to the counter ``key`` (which lives ``seconds`` from its first count) and
        return it; None when the backend is unavailable (a rate limit then lets the request
        through: failing open)."""
        version = self._version()
        backend = caches[self.alias]
        return self._call(
            "count",
            lambda: portable.count(backend, key, seconds, version),
            write=False,
            default=None,
        )

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if keys:
            version = self._version()
            self._call(
                "delete_many",
                lambda: caches[self.alias].delete_many(keys, version=version),
                write=True,
                default=None,
            )

    def clear(self) -> None:
        """Tests only: forget everything, the process's state included."""
        caches[self.alias].clear()
        self._down_until = 0.0
        self._lost_writes = False
        self._epoch = None
        self._last_logged = 0.0
        self._suppressed = 0


def _new_epoch_number() -> int:
    return 1 + secrets.randbelow(2**31)  # 0 is never an epoch: it is "not known yet"


cache = SafeCache()
