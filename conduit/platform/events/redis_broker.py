"""The Redis broker (``EVENTS_URL=redis://...``): the stack and production (ADR 0030).

Publishing is one script call per batch (``EVALSHA``): for each event, ``XADD`` to the
channel's stream capped at ``EVENTS_HISTORY`` entries (``MAXLEN ~``) with a TTL of
``EVENTS_HISTORY_SECONDS``, then ``PUBLISH`` of ``<id> <kind> <data>``. The stream's id is the
event's id, and both happen in one script, so a subscriber can never see an id out of order,
and a resume reads exactly what it missed with ``XRANGE (<last id> +``.

Delivery: one pub/sub connection per event loop (per ASGI process), whatever the number of
streams; channels are subscribed while at least one local stream wants them, and one reader
task hands each message to the local subscribers. A lost connection closes every local stream:
their clients reconnect with ``Last-Event-ID`` and read what they missed from the history.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

import structlog

from conduit.platform.events.base import Event, Subscription

if TYPE_CHECKING:
    import redis
    import redis.asyncio

log = structlog.get_logger(__name__)

PREFIX = "conduit:events:"
_PUBLISH = """
local maxlen, ttl = ARGV[1], ARGV[2]
for i, key in ipairs(KEYS) do
  local kind, data = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
  local id = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'k', kind, 'd', data)
  redis.call('EXPIRE', key, ttl)
  redis.call('PUBLISH', key, id .. ' ' .. kind .. ' ' .. data)
end
return #KEYS
"""


class RedisBroker:
    def __init__(
        self, url: str, *, history_size: int, history_seconds: float, timeout: float
    ) -> None:
        self._url = url
        self._history_size = history_size
        self._history_seconds = max(1, int(history_seconds))
        self._timeout = timeout
        self._client: redis.Redis | None = None
        self._script: redis.commands.core.Script | None = None
        self._hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hub] = (
            weakref.WeakKeyDictionary()
        )

    # --- publishing (sync: request threads and Celery tasks) --------------------------------

    def publish_many(self, items: list[tuple[str, str, str]]) -> None:
        if not items:
            return
        if self._script is None:
            import redis

            self._client = redis.Redis.from_url(
                self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout
            )
            self._script = self._client.register_script(_PUBLISH)
        args: list[str | int] = [self._history_size, self._history_seconds]
        for _, kind, data in items:
            args += [kind, data]
        self._script(keys=[PREFIX + channel for channel, _, _ in items], args=args)

    # --- reading (async: the stream views) ----------------------------------------------------

    def _hub(self) -> _Hub:
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = self._hubs[loop] = _Hub(self._url)
        return hub

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        hub = self._hub()
        subscription = Subscription()
        await hub.add(PREFIX + channel, subscription)
        try:
            yield subscription
        finally:
            await hub.remove(PREFIX + channel, subscription)

    async def history(self, channel: str, after: tuple[int, int]) -> list[Event]:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = await self._hub().client.xrange(
            PREFIX + channel, min=f"({after[0]}-{after[1]}", max="+", count=self._history_size
        )  # type: ignore[assignment]  # redis-py's stubs: the decode_responses=False shape
        return [
            Event(entry_id.decode(), fields[b"k"].decode(), fields[b"d"].decode())
            for entry_id, fields in entries
        ]


class _Hub:
    """One pub/sub connection and its reader task, on one event loop."""

    def __init__(self, url: str) -> None:
        import redis.asyncio

        self.client = redis.asyncio.Redis.from_url(url)
        self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self._subscribers: dict[str, set[Subscription]] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    async def add(self, name: str, subscription: Subscription) -> None:
        async with self._lock:
            subscribers = self._subscribers.get(name)
            if subscribers is None:
                await self._pubsub.subscribe(name)
                subscribers = self._subscribers[name] = set()
            subscribers.add(subscription)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read())

    async def remove(self, name: str, subscription: Subscription) -> None:
        async with self._lock:
            subscribers = self._subscribers.get(name)
            if subscribers is None:
                return
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[name]
                with suppress(Exception):  # a lost connection unsubscribed it already
                    await self._pubsub.unsubscribe(name)

    async def _read(self) -> None:
        try:
            while self._subscribers:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
                if message is None or message["type"] != "message":
                    continue
                event_id, kind, data = message["data"].decode().split(" ", 2)
                event = Event(event_id, kind, data)
                for subscription in self._subscribers.get(message["channel"].decode(), ()):
                    subscription.push(event)
        except Exception:
            log.warning("events: pub/sub connection lost; closing local streams", exc_info=True)
            async with self._lock:
                for subscribers in self._subscribers.values():
                    for subscription in subscribers:
                        subscription.push(None)
                self._subscribers.clear()
                with suppress(Exception):
                    await self._pubsub.aclose()
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
