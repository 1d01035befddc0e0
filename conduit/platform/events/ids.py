"""Event ids: ``<milliseconds>-<sequence>``, Redis streams' own format, in both backends.

An id is a time: a page rendered at ``t`` asks for the events after ``now_id()`` and misses
nothing published between its render and its stream opening; a reconnecting ``EventSource``
sends the last id it saw (``Last-Event-ID``). Ids only grow within a channel.
"""

import time


def parse(event_id: str | None) -> tuple[int, int] | None:
    """``(ms, seq)``, or None for a missing or malformed id (the stream then starts from now)."""
    if not event_id or len(event_id) > 41:
        return None
    ms, _, seq = event_id.partition("-")
    if not ms.isdigit() or not (seq or "0").isdigit():
        return None
    return int(ms), int(seq or "0")


MAX_SEQ = 2**64 - 1  # Redis's largest sequence number


def now_id() -> str:
    """The id just before any event published from now on: the last one of the previous
    millisecond (an event published in this millisecond has this millisecond's id)."""
    return f"{time.time_ns() // 1_000_000 - 1}-{MAX_SEQ}"
