"""The in-process broker: the embedded default (``EVENTS_URL`` unset, ADR 0007 and 0030).

Publishers run in request threads (WSGI or ASGI's sync threads, inline tasks); each stream's
subscription lives on an event loop. A publish appends to the channel's bounded history and
hands the event to each subscriber's loop with ``call_soon_threadsafe``. It spans one process
only, which is why ``make run`` serves its streams from a thread of its one app process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conduit.platform.events.base import Event, Subscription
from conduit.platform.events.ids import parse


class MemoryBroker:
    def __init__(self, *, history_size: int, history_seconds: float) -> None:
        self._lock = threading.Lock()
        self._history: dict[str, deque[tuple[float, Event]]] = {}
        self._subscribers: dict[str, set[Subscription]] = {}
        self._history_size = history_size
        self._history_seconds = history_seconds
        self._last = (0, 0)

    def _next_id(self) -> str:
        ms = time.time_ns() // 1_000_000
        last_ms, last_seq = self._last
        self._last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self._last[0]}-{self._last[1]}"

    def publish_many(self, items: list[tuple[str, str, str]]) -> None:
        now = time.monotonic()
        deliveries = []
        with self._lock:
            for channel, kind, data in items:
                event = Event(self._next_id(), kind, data)
                kept = self._history.setdefault(channel, deque(maxlen=self._history_size))
                kept.append((now, event))
                deliveries += [(sub, event) for sub in self._subscribers.get(channel, ())]
            self._expire(now)
        for subscription, event in deliveries:
            subscription.loop.call_soon_threadsafe(subscription.push, event)

    def _expire(self, now: float) -> None:
        """Drop whole channels whose newest event is older than the history keeps (one
        comparison per channel published to; a channel nobody writes ages out on the next)."""
        cutoff = now - self._history_seconds
        stale = [name for name, kept in self._history.items() if kept[-1][0] < cutoff]
        for name in stale[:64]:
            del self._history[name]

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel, set())
                subscribers.discard(subscription)
                if not subscribers:
                    self._subscribers.pop(channel, None)

    async def history(self, channel: str, after: tuple[int, int]) -> list[Event]:
        cutoff = time.monotonic() - self._history_seconds
        with self._lock:
            kept = list(self._history.get(channel, ()))
        return [e for t, e in kept if t >= cutoff and (parse(e.id) or (0, 0)) > after]
