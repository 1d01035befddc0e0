"""What both brokers share: the event, the subscription's queue, and the per-process metrics."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import Counter, Gauge

EVENTS_PUBLISHED = Counter(
    "conduit_events_published_total", "Events published, by result (ok or error).", ["result"]
)
EVENT_STREAMS = Gauge(
    "conduit_event_streams", "Event streams open in this process.", multiprocess_mode="livesum"
)
# A subscriber whose queue holds this many undelivered events is cut off: its client reconnects
# and resumes from the history, so a slow reader cannot grow the process.
QUEUE_LIMIT = 256


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    data: str  # JSON text, sent as the event's data line


class Closed(Exception):
    """The subscription was cut off (its queue filled up, or the broker lost its connection)."""


class Subscription:
    """Events of one channel for one stream: live ones pushed into ``queue`` by the broker."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.loop = asyncio.get_running_loop()

    def push(self, event: Event | None) -> None:
        """Called on the subscription's loop. None, or a full queue, ends the stream."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    async def next(self, timeout: float) -> Event | None:
        """The next live event, or None when ``timeout`` passed without one."""
        try:
            event = await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None
        if event is None:
            raise Closed
        return event


class Broker(Protocol):
    def publish_many(self, items: list[tuple[str, str, str]]) -> None:
        """Publish ``(channel, kind, data)`` items; raises on failure (``publish`` catches)."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """An async context manager: a subscription while inside it."""

    async def history(self, channel: str, after: tuple[int, int]) -> list[Event]:
        """The channel's kept events with ids after ``after``, oldest first."""
