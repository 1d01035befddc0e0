"""Publishing from the write path: best-effort, after commit, never failing the write.

A broker error is counted (``conduit_events_published_total{result="error"}``), logged at most
once a minute per process, and for ``RETRY_SECONDS`` afterwards the process does not try the
broker (``result="skipped"``), so an outage costs one timeout (``EVENTS_PUBLISH_TIMEOUT``) per
process per interval, not one per write. A reader who missed events sees them on the next load.
"""

from __future__ import annotations

import json
import threading
import time
from functools import cache
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction

from conduit.platform.events.base import EVENTS_PUBLISHED, Broker

log = structlog.get_logger(__name__)

RETRY_SECONDS = 1.0
LOG_EVERY_SECONDS = 60.0


@cache
def broker() -> Broker:
    """The process's broker, from ``EVENTS_URL`` (empty = in-process)."""
    size, seconds = settings.EVENTS_HISTORY, settings.EVENTS_HISTORY_SECONDS
    if not settings.EVENTS_URL:
        from conduit.platform.events.memory import MemoryBroker

        return MemoryBroker(history_size=size, history_seconds=seconds)
    from conduit.platform.events.redis_broker import RedisBroker

    return RedisBroker(
        settings.EVENTS_URL,
        history_size=size,
        history_seconds=seconds,
        timeout=settings.EVENTS_PUBLISH_TIMEOUT,
    )


class _Health:
    lock = threading.Lock()
    down_until = 0.0
    logged_at = 0.0


def publish_many(items: list[tuple[str, str, dict[str, Any]]]) -> bool:
    """Publish ``(channel, kind, data)`` events now; False (and counted) if they were lost."""
    if not items:
        return True
    now = time.monotonic()
    if now < _Health.down_until:
        EVENTS_PUBLISHED.labels("skipped").inc(len(items))
        return False
    encoded = [(c, k, json.dumps(d, separators=(",", ":"))) for c, k, d in items]
    try:
        broker().publish_many(encoded)
    except Exception:
        EVENTS_PUBLISHED.labels("error").inc(len(items))
        with _Health.lock:
            _Health.down_until = time.monotonic() + RETRY_SECONDS
            if now - _Health.logged_at >= LOG_EVERY_SECONDS:
                _Health.logged_at = now
                log.warning("events: publish failed; live updates lost", exc_info=True)
        return False
    EVENTS_PUBLISHED.labels("ok").inc(len(items))
    return True


def publish_on_commit(channel: str, kind: str, data: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits (at once in autocommit)."""
    transaction.on_commit(lambda: publish_many([(channel, kind, data)]), robust=True)
