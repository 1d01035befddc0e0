"""The articles app's cache keys and their invalidation, which its write services call (ADR
0016). A leaf: it imports the platform only, so a service of any app can call it without an
import cycle through the reads.

What the articles app caches (the selectors read it, ``conduit/platform/cache/bulk.py`` keeps the
rules):

* ``card:<id>``: an article as a list shows it, without its author's profile (``profile:<id>``,
  the users app's) and without the viewer's flags; ``article:<slug>``: the same with the body.
  A channel's renderings of a card (the API's JSON) are buried with it.
* ``ids:<list>:<offset>:<limit>``: a list page's ids, their authors and the total, with the
  *generation* it was read under. Every write changing list membership renews ``gen:lists``; the
  favorites of one user also ``gen:fav:<user>``; lists filtered by a username also depend on the
  users app's generation of that name (a rename renews it).
* ``tags:<generation>:<limit>``: the tag list.
* ``flags:<viewer>:<relations>:<ids>``: a signed-in viewer's ``favorited``/``following`` flags
  for one set of cards, under their relations token (the profiles app's ``rel:<viewer>``).
* ``slugid:<slug>``: the id of the article a slug named when a favorite last looked, for its
  invalidations before its statement (``favorites.py``). Never buried: the statement finds the
  article by slug itself and puts a stale id right.
"""

from collections.abc import Iterable, Mapping

from conduit.platform.cache import bulk
from conduit.platform.cache.keys import digest

CARD_SECONDS = 3600
SLUG_ID_SECONDS = 86400
PAGE_SECONDS = 600
FLAGS_SECONDS = 600
CARD_PREFIX = "card"
DETAIL_PREFIX = "article"
LISTS_GENERATION = "gen:lists"


def card_key(article_id: int) -> str:
    return f"{CARD_PREFIX}:{article_id}"


def detail_key(slug: str) -> str:
    return f"{DETAIL_PREFIX}:{digest(slug)}"


def slug_id_key(slug: str) -> str:
    return f"slugid:{digest(slug)}"


def favorites_generation(username_key: str) -> str:
    return f"gen:fav:{digest(username_key)}"


def page_key(kind: str, text: str | None, offset: int, limit: int) -> str:
    return f"ids:{kind}:{digest(text or '')}:{offset}:{limit}"


def flags_key(viewer_id: int, relations: str, article_ids: Iterable[int]) -> str:
    return f"flags:{viewer_id}:{relations}:{digest(','.join(map(str, article_ids)))}"


def invalidate_article(*, article_id: int, slugs: Iterable[str] = ()) -> None:
    """The article's card and detail changed (edit, favorite count, deletion)."""
    invalidate_articles(slugs_by_id={article_id: slugs})


def invalidate_articles(*, slugs_by_id: Mapping[int, Iterable[str]]) -> None:
    """Several articles' cards and details changed (a bulk deletion): ``slugs_by_id`` maps each
    article's id to the slugs its detail was cached under."""
    bulk.bury(
        key
        for article_id, slugs in slugs_by_id.items()
        for key in (card_key(article_id), *(detail_key(slug) for slug in slugs))
    )


def invalidate_lists(*, favorites_of: str | None = None) -> None:
    """List membership or counts changed (an article added or removed, tags changed); with
    ``favorites_of`` (a username's identity key) only that user's favorites list."""
    key = LISTS_GENERATION if favorites_of is None else favorites_generation(favorites_of)
    bulk.renew({key: None})
