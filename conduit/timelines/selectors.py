"""The home feed read from timelines (ADR 0034), byte for byte the answer of the feed's query
(``conduit.articles.feed.article_feed``, which stays the fallback).

A warm read: the viewer's timeline head, that is the window ``[0, offset + limit)`` of their
timeline (one store round trip), the followed authors' article counters (the count, as the
query gives it, and whether any of them is a merged author) and the merged authors' newest ids
when there are any, from the cache while its tokens hold (``heads.py``: no database round trip)
or else from the stores; then the page's cards, authors and the viewer's flags from the cache
(``articles_by_ids``; by id from the database with the card cache off). It falls back to the
query, counted in ``conduit_timeline_fallbacks_total``, when the window is past the timeline's bound
(``past_bound``), the timeline is not built (``cold``: its rebuild is enqueued), the store does
not answer (``unavailable``), the timeline holds fewer entries than the counters of the authors
fanned out to say it should (``short``: a write not applied yet, or a delete in a trimmed
timeline; the merged authors' ids do not count), or an id in the page no longer belongs
there (``stale``: deleted, or its author unfollowed; its rebuild is enqueued). Slower, never
wrong.
"""

import time

import structlog
from django.conf import settings

from conduit.articles import selectors as article_selectors
from conduit.articles.by_ids import Authored
from conduit.articles.data import ArticleData, ArticlePage
from conduit.articles.feed import article_feed
from conduit.articles.models import Article
from conduit.articles.queries import page_of
from conduit.platform.cache.bulk import Rendering
from conduit.platform.tasks.enqueue import enqueue_on_commit
from conduit.profiles.models import Follow
from conduit.timelines import heads, reads
from conduit.timelines.metrics import FALLBACKS
from conduit.timelines.stores import StoreUnavailable, timeline_store
from conduit.users.selectors import PublicProfile

logger = structlog.get_logger(__name__)


def home_feed(*, viewer_id: int, limit: int, offset: int) -> ArticlePage:
    """Articles by the authors ``viewer_id`` follows, newest first, from their timeline."""
    found = _page_ids(viewer_id, limit, offset)
    if isinstance(found, ArticlePage):
        return found
    page_ids, count = found
    page = article_selectors.articles_by_ids(ids=page_ids, viewer_id=viewer_id)
    if page is None:
        return _page_by_query(viewer_id, page_ids, count, limit, offset)
    if len(page) != len(page_ids) or not all(a["author"]["following"] for a in page):
        return _stale(viewer_id, limit, offset)
    return ArticlePage(page, count)


def home_feed_rendered[C: Authored, A](
    *,
    viewer_id: int,
    limit: int,
    offset: int,
    cards: Rendering[int, ArticleData, C],
    authors: Rendering[int, PublicProfile, A],
) -> tuple[list[tuple[C, A, bool, bool]], int] | ArticlePage:
    """``home_feed`` in a channel's renderings of cards and authors, as
    ``([(card, author, favorited, following), ...], count)``; the page itself when it did not
    come from them (a fallback, or no card cache)."""
    found = _page_ids(viewer_id, limit, offset)
    if isinstance(found, ArticlePage):
        return found
    page_ids, count = found
    items = article_selectors.articles_by_ids_rendered(
        ids=page_ids, viewer_id=viewer_id, cards=cards, authors=authors
    )
    if items is None:
        return _page_by_query(viewer_id, page_ids, count, limit, offset)
    if len(items) != len(page_ids) or not all(following for *_, following in items):
        return _stale(viewer_id, limit, offset)
    return items, count


def _page_ids(viewer_id: int, limit: int, offset: int) -> tuple[list[int], int] | ArticlePage:
    """The page's ids from the timeline and the feed's count; or the page itself (the
    fallback's, or an empty one)."""
    window = offset + limit
    if window > settings.FEED_TIMELINE_SIZE:
        return _fallback("past_bound", viewer_id, limit, offset)
    head = heads.cached(viewer_id, window, lambda: _head(viewer_id, window))
    if head is None:
        return _fallback("unavailable", viewer_id, limit, offset)
    ids, totals = head.ids, head.counters
    if ids is None:
        _request_rebuild(viewer_id)
        return _fallback("cold", viewer_id, limit, offset)
    # The timeline must hold its own share: the merged authors' ids cannot stand in for
    # entries of the others that a delete or an unfollow took out of a trimmed timeline.
    if len(ids) < min(window, totals.fanned_out):
        return _fallback("short", viewer_id, limit, offset)
    if totals.merged:
        ids = sorted(set(ids) | set(head.merged_ids), reverse=True)[:window]
    if len(ids) <= offset:
        return ArticlePage([], totals.articles)
    return ids[offset:window], totals.articles


def _head(viewer_id: int, window: int) -> reads.Joint | None:
    """The timeline's window, the counters and the merged authors' ids from the stores (one
    statement when the timelines live in PostgreSQL); None when the store does not answer."""
    if reads.in_one_statement():
        return reads.window_and_counters(viewer_id, window)
    ids = _window(viewer_id, window)
    if ids is UNAVAILABLE:
        return None
    if ids is None:
        return reads.Joint(None, reads.Counters(0, False, 0), [])
    totals = reads.counters(viewer_id)
    merged = reads.merged_ids(viewer_id, window) if totals.merged else []
    return reads.Joint(ids, totals, merged)


def _page_by_query(
    viewer_id: int, page_ids: list[int], count: int, limit: int, offset: int
) -> ArticlePage:
    """No card cache: the page by id, its authors still followed."""
    followees = Follow.objects.filter(follower_id=viewer_id).values("followee_id")
    articles = Article.objects.filter(id__in=page_ids, author_id__in=followees)
    page = page_of(articles, viewer_id, limit=limit)
    if len(page) != len(page_ids):
        return _stale(viewer_id, limit, offset)
    return ArticlePage(page, count)


def _stale(viewer_id: int, limit: int, offset: int) -> ArticlePage:
    _request_rebuild(viewer_id)
    return _fallback("stale", viewer_id, limit, offset)


# After a store error this process reads the query for TIMELINE_RETRY_SECONDS without trying
# the store: a dead node costs one read its timeout, not every read.
_store_down_until = 0.0
UNAVAILABLE: list[int] = []


def _window(viewer_id: int, window: int) -> list[int] | None:
    global _store_down_until
    if time.monotonic() < _store_down_until:
        return UNAVAILABLE
    try:
        return timeline_store().window(viewer_id, window)
    except StoreUnavailable as exc:
        _store_down_until = time.monotonic() + settings.TIMELINE_RETRY_SECONDS
        logger.warning("timeline store unavailable", error=str(exc))
        return UNAVAILABLE


def _fallback(reason: str, viewer_id: int, limit: int, offset: int) -> ArticlePage:
    FALLBACKS.labels(reason).inc()
    return article_feed(viewer_id=viewer_id, limit=limit, offset=offset)


# Cold timelines whose rebuild this process enqueued, and when: readers of a cold timeline
# (many, after a Redis node was lost) enqueue one rebuild each per REBUILD_AGAIN_SECONDS.
_rebuilds: dict[int, float] = {}
REBUILD_AGAIN_SECONDS = 30.0


def _request_rebuild(user_id: int) -> None:
    from conduit.timelines.tasks import timeline_rebuild

    now = time.monotonic()
    if now - _rebuilds.get(user_id, -REBUILD_AGAIN_SECONDS) < REBUILD_AGAIN_SECONDS:
        return
    if len(_rebuilds) > 10_000:
        _rebuilds.clear()
    _rebuilds[user_id] = now
    enqueue_on_commit(timeline_rebuild, user_id)


def forget_failures() -> None:
    """Try the store at the next read, and forget the rebuilds enqueued (tests)."""
    global _store_down_until
    _store_down_until = 0.0
    _rebuilds.clear()
