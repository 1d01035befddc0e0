"""The feed scenarios' timelines (issue 18, conduit.timelines): made cold (dropped, so the feed
falls back to the read-time query of conduit/articles/feed.py) or warm (rebuilt from the
database) right before a scenario, through the app's own store, and checked after it. On a tree
without conduit.timelines every feed is the read-time query and this records that. Django must
be set up."""

from __future__ import annotations

import importlib.util
import time
from typing import Any


def available() -> bool:
    return importlib.util.find_spec("conduit.timelines") is not None


def prepare(username: str, state: str) -> dict[str, Any]:
    """Make ``username``'s timeline ``state`` ("cold" or "warm"); what was done."""
    if not available():
        return {"requested": state, "store": None,
                "note": "no conduit.timelines in this tree: the read-time query"}  # fmt: skip
    from django.db import connection

    from conduit.timelines import services
    from conduit.users.models import User

    user_id = User.objects.values_list("pk", flat=True).get(username=username)
    store = _store()
    started = time.monotonic()
    # The authors over FEED_FANOUT_MAX_FOLLOWERS are marked merged when they publish; the
    # seeded ones never published through the app, so mark them as a full rebuild would.
    marked, _ = services.merged_authors_refresh()
    if state == "cold":
        store.drop(user_id)
        _forget_head(user_id)
        entries = None
    else:
        entries = services.timeline_rebuild(user_id=user_id)
    connection.close()  # idle during the load
    return {
        "requested": state,
        "store": type(store).__name__,
        "entries": entries,
        "merged_authors_marked": marked,
        "seconds": round(time.monotonic() - started, 3),
    }


def after(username: str) -> dict[str, Any]:
    """Whether the timeline is built after the run: a cold one still cold means every read of
    the run fell back (no worker consumes the rebuild the reads enqueue)."""
    if not available():
        return {}
    from django.db import connection

    from conduit.users.models import User

    user_id = User.objects.values_list("pk", flat=True).get(username=username)
    built = _store().window(user_id, 1) is not None
    connection.close()
    return {"built_after": built}


def _forget_head(user_id: int) -> None:
    """The reader's cached timeline head (conduit/timelines/heads.py), read again: this reaches
    a shared cache (``BENCH_CACHE=redis``); the in-process cache is the app's own, which is why
    a feed scenario's first request comes after this (load.py)."""
    try:
        from conduit.timelines import heads
    except ImportError:  # a tree from before the heads
        return
    heads.renew([user_id])


def _store() -> Any:
    from conduit.timelines.stores import timeline_store

    return timeline_store()


WATCHED = ("conduit_cache_requests_total", "conduit_timeline_fallbacks_total")


def scrape(base: str) -> dict[str, float]:
    """The app's cache lookups and timeline fallbacks (``GET /metrics``), by label set. With
    more than one worker and no ``PROMETHEUS_MULTIPROC_DIR`` this is one worker's."""
    from benchkit.net import http

    status, body = http("GET", f"{base}/metrics")
    if status != 200:
        return {}
    values: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line.startswith(WATCHED):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """What changed between two scrapes, and the card cache's hit ratio over it."""
    changed = {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}
    hits = sum(v for k, v in changed.items() if "cache_requests" in k and 'result="hit"' in k)
    misses = sum(v for k, v in changed.items() if "cache_requests" in k and 'result="miss"' in k)
    fallbacks = sum(v for k, v in changed.items() if "fallbacks" in k)
    return {"changed": changed, "cache_hits": hits, "cache_misses": misses,
            "cache_hit_ratio": round(hits / (hits + misses), 4) if hits + misses else None,
            "timeline_fallbacks": fallbacks}  # fmt: skip
