"""Event ids: ``<milliseconds>-<sequence>``, Redis streams' own format, in both backends.

An id is a time: a page showing what was written up to ``t`` asks for the events after
``before(t)`` and misses nothing published between its render and its stream opening; a
reconnecting ``EventSource`` sends the last id it saw (``Last-Event-ID``). Ids only grow within a
channel. A stream given no id starts from ``now_id()``.
"""

import time
from datetime import datetime


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


def before(moment: datetime) -> str:
    """The id just before any event published at ``moment`` or later. A page that shows what
    was written up to ``moment`` starts its stream here: an event's id is its publish time,
    never earlier than the write it announces."""
    ms = int(moment.timestamp() * 1000)
    return f"{ms - 1}-{MAX_SEQ}"
