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

    from conduit.users.models import User

    user_id = User.objects.values_list("pk", flat=True).get(username=username)
    store = _store()
    started = time.monotonic()
    if state == "cold":
        store.drop_user(user_id)
        entries = None
    else:
        from conduit.timelines.services import rebuild_timeline

        rebuild_timeline(user_id)
        entries = len(store.window(user_id, 0, 10_000) or [])
    connection.close()  # idle during the load
    return {"requested": state, "store": type(store).__name__, "entries": entries,
            "seconds": round(time.monotonic() - started, 3)}  # fmt: skip


def after(username: str) -> dict[str, Any]:
    """Whether the timeline is built after the run: a cold one still cold means every read of
    the run fell back (no worker consumes the rebuild the reads enqueue)."""
    if not available():
        return {}
    from django.db import connection

    from conduit.users.models import User

    user_id = User.objects.values_list("pk", flat=True).get(username=username)
    built = _store().is_built(user_id)
    connection.close()
    return {"built_after": built}


def _store() -> Any:
    from conduit.timelines.stores import get_store

    return get_store()
