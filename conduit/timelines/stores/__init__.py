"""Where home timelines live (ADR 0034): one small interface, two stores.

A timeline is a user's newest article ids, newest first, bounded by ``FEED_TIMELINE_SIZE``.
A store tells a timeline never built (or lost with a Redis node) from an empty one: ``window``
answers ``None`` for the first, and writes that add to timelines skip the unbuilt ones (the
read rebuilds those), so a timeline is never a partial copy that looks whole.

``TIMELINE_URL`` unset: the database (``database.py``); ``redis-cluster://h:p,h:p``: a Redis
Cluster (``redis_cluster.py``). A store that cannot answer raises ``StoreUnavailable``.
"""

from collections.abc import Sequence
from functools import cache
from typing import Protocol

from django.conf import settings


class StoreUnavailable(ConnectionError):
    """The timeline store did not answer (a node down, a timeout): the feed reads its query, a
    task retries (a ``ConnectionError``: one of the tasks' transient errors)."""


class TimelineStore(Protocol):
    def push(self, article_id: int, user_ids: Sequence[int]) -> None:
        """Add one article to each of these users' built timelines, trimming them."""

    def add(self, user_id: int, article_ids: Sequence[int]) -> bool:
        """Add articles to one user's timeline if it is built (a backfill), trimming it;
        whether it was (and there were articles to add)."""

    def remove(self, article_ids: Sequence[int], user_ids: Sequence[int]) -> None:
        """Remove these articles from these users' timelines."""

    def replace(self, user_id: int, article_ids: Sequence[int]) -> None:
        """Make the user's timeline exactly these articles, built."""

    def window(self, user_id: int, count: int) -> list[int] | None:
        """The newest ``count`` article ids, newest first; ``None`` if the timeline is not built."""

    def drop(self, user_id: int) -> None:
        """Forget the user's timeline (it is then not built)."""


def timeline_store() -> TimelineStore:
    """The configured store: one per process and configuration."""
    return _store_for(settings.TIMELINE_URL, settings.FEED_TIMELINE_SIZE)


@cache
def _store_for(url: str, size: int) -> TimelineStore:
    if not url:
        from conduit.timelines.stores.database import DatabaseStore

        return DatabaseStore(size=size)
    from conduit.timelines.stores.redis_cluster import RedisClusterStore

    return RedisClusterStore.from_url(url, size=size)


def forget_stores() -> None:
    """Make the stores anew at the next call (tests; a client that was closed)."""
    _store_for.cache_clear()
