"""One Server-Sent Events stream of one channel, as bytes for an async streaming response.

Order of work, so that nothing published around the connect is lost or sent twice: subscribe
first, then send the history after the client's last id (``Last-Event-ID`` on a reconnect, the
page's render time on the first connect), then the live events, skipping any the history
already sent (ids grow within a channel). A comment line every ``heartbeat`` seconds keeps
proxies from closing an idle stream; after ``lifetime`` seconds the stream ends and the browser
reconnects (with its last id), which re-checks the session of a feed stream.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from conduit.platform.events.base import EVENT_STREAMS, Closed, Event
from conduit.platform.events.ids import now_id, parse
from conduit.platform.events.publish import broker

RETRY_MS = 3000


def _frame(event: Event) -> bytes:
    return f"id: {event.id}\nevent: {event.kind}\ndata: {event.data}\n\n".encode()


async def event_stream(
    channel: str, after: str | None, *, heartbeat: float, lifetime: float
) -> AsyncIterator[bytes]:
    last = parse(after) or parse(now_id())
    assert last is not None  # noqa: S101 - now_id() always parses
    source = broker()
    EVENT_STREAMS.inc()
    try:
        async with source.subscribe(channel) as subscription:
            # The retry hint, and a first line that makes every proxy send the headers now.
            yield f"retry: {RETRY_MS}\n: open\n\n".encode()
            for event in await source.history(channel, last):
                last = parse(event.id) or last
                yield _frame(event)
            deadline = time.monotonic() + lifetime
            while (left := deadline - time.monotonic()) > 0:
                try:
                    live = await subscription.next(min(heartbeat, left))
                except Closed:
                    return
                if live is None:
                    yield b": ping\n\n"
                    continue
                live_id = parse(live.id)
                if live_id is None or live_id <= last:
                    continue  # the history sent it already
                last = live_id
                yield _frame(live)
    finally:
        EVENT_STREAMS.dec()
