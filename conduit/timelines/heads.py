"""A viewer's timeline head in the cache (ADR 0034): the window of their timeline with the
followed authors' counters and the merged authors' newest ids (``reads.Joint``), so that a warm
read asks the database nothing.

A head is served while three tokens are what they were when it was read from the database:

- the viewer's timeline token, renewed by this app's writes to their timeline (a fan-out, a
  follow's backfill, an unfollow's scrub, a delete's removal, a rebuild), which are also the
  writes that change their fanned-out authors' counters: a publish reaches a cached head when
  its fan-out has run, the publish-to-visible lag ``make bench`` measures;
- the viewer's relations token (a follow or an unfollow, at once: ``profiles.invalidation``;
  an erasure removes the erased user's follows one by one first);
- the merged epoch, renewed when a merged author publishes and when who is merged changes:
  one token for every reader, as merged authors are few (a busy one renews every reader's
  head, which then costs the statement it saves, no more).

The tokens are kept in the head's value and compared, so the tokens and the head are one cache
read. Anything no write here announces (an account deleted outside the erasure, counters
repaired by hand) shows when the head expires, after ``FEED_HEAD_SECONDS`` (0: no head is
kept). With the card cache off (``CACHE_ARTICLES=false``) no head is kept either.
"""

from collections.abc import Callable, Iterable

from django.conf import settings

from conduit.articles.entries import enabled
from conduit.platform.cache import bulk
from conduit.platform.cache.safe import cache
from conduit.profiles.invalidation import RELATIONS_SECONDS, relations_key
from conduit.timelines.reads import Joint

TOKEN_SECONDS = RELATIONS_SECONDS
MERGED_EPOCH = "tl-merged"


def _token_key(user_id: int) -> str:
    return f"tl-token:{user_id}"


def _head_key(user_id: int, window: int) -> str:
    return f"tl-head:{user_id}:{window}"


def cached(viewer_id: int, window: int, read: Callable[[], Joint | None]) -> Joint | None:
    """The viewer's head for ``window`` entries: from the cache when its tokens still hold,
    else ``read()`` (None: the store did not answer), kept when the timeline is built."""
    seconds = settings.FEED_HEAD_SECONDS
    if not seconds or not enabled():
        return read()
    tokens = {
        _token_key(viewer_id): TOKEN_SECONDS,
        relations_key(viewer_id): RELATIONS_SECONDS,
        MERGED_EPOCH: TOKEN_SECONDS,
    }
    key = _head_key(viewer_id, window)
    found = cache.get_many([*tokens, key])
    current = tuple(bulk.tokens(tokens, found))
    stored = found.get(key)
    if stored is not None and stored[0] == current:
        head: Joint = stored[1]
        return head
    head_read = read()
    if head_read is not None and head_read.ids is not None:
        cache.set(key, (current, head_read), seconds)
    return head_read


def renew(user_ids: Iterable[int]) -> None:
    """These users' timelines or counters changed: their heads are read again."""
    bulk.renew({_token_key(user_id): TOKEN_SECONDS for user_id in user_ids})


def renew_merged() -> None:
    """A merged author published, or who is merged changed: every head is read again."""
    bulk.renew({MERGED_EPOCH: TOKEN_SECONDS})
