"""The article caches' key scheme and their invalidation, which the write services call (ADR
0016). A leaf module: it imports the platform and this app's models only, so any app's services
can call it without an import cycle through the reads (``cards.py``).

Invalidation happens twice: at once, and again when the transaction commits. The second one covers
a reader that read the old rows while the write was in flight. An invalidated card is replaced by
a short-lived *tombstone* rather than deleted, and cards are filled with "add" (never overwriting):
a reader that read the row before the commit cannot put the old version back afterwards. A
tombstone carries a fresh token, so that a read after a write never shares a load that started
before it.
"""

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from conduit.articles.models import Article
from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache

CARD_SECONDS = 3600
PAGE_SECONDS = 600
FLAGS_SECONDS = 600
# A relations token outlives the flags stored under it; when it expires a new one is made, and
# the flags under the old one are never read again.
RELATIONS_SECONDS = 86400
# Longer than any read takes from its query to storing what it read (see the module doc).
TOMBSTONE_SECONDS = 5
TOMBSTONE = "\x00gone:"  # + a token: each invalidation writes a new one (see _flight_key)
LISTS_GENERATION = "gen:lists"


def digest(text: str) -> str:
    # Tags, slugs and usernames may hold any script; Memcached keys must be short ASCII.
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def card_key(article_id: int) -> str:
    return f"card:{article_id}"


def rendered_key(article_id: int) -> str:
    return f"card-rendered:{article_id}"


def detail_key(slug: str) -> str:
    return f"article:{digest(slug)}"


def favorites_generation(username_key: str) -> str:
    return f"gen:fav:{digest(username_key)}"


def relations_key(user_id: int) -> str:
    return f"rel:{user_id}"


def flags_key(viewer_id: int, relations: str, article_ids: Iterable[int]) -> str:
    return f"flags:{viewer_id}:{relations}:{digest(','.join(map(str, article_ids)))}"


def is_tombstone(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TOMBSTONE)


# --- Invalidation: called by the write services ---------------------------------------------


def _now_and_on_commit(action: Any) -> None:
    action()
    transaction.on_commit(action, robust=True)


def _bury(keys: list[str]) -> None:
    """Tombstones for ``keys``, at once and on commit, in one cache write each time."""

    def bury() -> None:
        cache.set_many(dict.fromkeys(keys, TOMBSTONE + secrets.token_hex(6)), TOMBSTONE_SECONDS)
        micro_cache.clear()

    _now_and_on_commit(bury)


def invalidate_article(*, article_id: int, slugs: Iterable[str] = ()) -> None:
    """The article's card and detail changed (edit, favorite count, deletion)."""
    invalidate_articles(slugs_by_id={article_id: slugs})


def invalidate_articles(*, slugs_by_id: Mapping[int, Iterable[str]]) -> None:
    """Several articles' cards and details changed (a bulk deletion): ``slugs_by_id`` maps each
    article's id to the slugs its detail was cached under."""
    _bury(
        [
            key
            for article_id, slugs in slugs_by_id.items()
            for key in (
                card_key(article_id),
                rendered_key(article_id),
                *(detail_key(slug) for slug in slugs),
            )
        ]
    )


def invalidate_author(*, user_id: int, lists: bool = False) -> None:
    """The author's profile changed: every card of theirs shows it. ``lists``: their username
    changed, so lists filtered by it change too."""
    rows = list(Article.objects.filter(author_id=user_id).values_list("id", "slug"))
    keys = [card_key(i) for i, _ in rows] + [rendered_key(i) for i, _ in rows]
    keys += [detail_key(slug) for _, slug in rows]
    _bury(keys)
    if lists:
        invalidate_lists()


def invalidate_lists(*, favorites_of: str | None = None) -> None:
    """List membership or counts changed (an article added or removed, tags changed); with
    ``favorites_of`` (a username's identity key) only that user's favorites list."""
    key = LISTS_GENERATION if favorites_of is None else favorites_generation(favorites_of)

    def renew() -> None:
        cache.set(key, secrets.token_hex(6), None)
        micro_cache.clear()

    _now_and_on_commit(renew)


def invalidate_relations(*, user_id: int) -> None:
    """What ``user_id`` favorites or follows changed: the flags they see are read again."""
    key = relations_key(user_id)

    def renew() -> None:
        cache.set(key, secrets.token_hex(6), RELATIONS_SECONDS)

    _now_and_on_commit(renew)
