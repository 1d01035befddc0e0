"""Articles picked by id, as a viewer sees them, from the card cache: a page whose ids come from
elsewhere (the home timelines, ADR 0034). Two cache round trips when warm: the viewer's
relations token with the cards, then the authors with the viewer's flags (their key needs the
token); missing cards are loaded in one query. ``articles_by_ids`` reads the entries,
``articles_by_ids_rendered`` a channel's renderings of them (as ``article_list_rendered`` does for
the lists). Both return None with ``CACHE_ARTICLES`` off: the caller then runs a query."""

from typing import Protocol

from conduit.articles.data import ArticleData
from conduit.articles.entries import CARDS, article_of, enabled, public_of, viewer_flags
from conduit.articles.invalidation import flags_key
from conduit.platform.cache import bulk
from conduit.platform.cache.safe import cache
from conduit.profiles.invalidation import RELATIONS_SECONDS, relations_key
from conduit.users.selectors import PUBLIC_PROFILES, PublicProfile, public_profiles


class Authored(Protocol):
    """A rendering of a card that knows its author (for the author's rendering and the flags)."""

    @property
    def author_id(self) -> int: ...


def articles_by_ids(*, ids: list[int], viewer_id: int) -> list[ArticleData] | None:
    """The articles of ``ids`` in that order, as ``viewer_id`` sees them. An id that no longer
    exists is left out."""
    if not enabled():
        return None
    if not ids:
        return []
    token_key = relations_key(viewer_id)
    found = cache.get_many([token_key, *(CARDS.key(i) for i in ids)])
    relations = bulk.tokens({token_key: RELATIONS_SECONDS}, found)[0]
    cards = bulk.fetch(CARDS, ids, found)
    author_ids = list(dict.fromkeys(c["authorId"] for c in cards.values()))
    fresh = {c["authorId"]: public_of(c["author"]) for c in cards.values() if "author" in c}
    if fresh:  # loaded with their cards: kept for the next read, as a list's query keeps them
        cache.add_many(
            {PUBLIC_PROFILES.key(a): p for a, p in fresh.items()}, PUBLIC_PROFILES.seconds
        )
    flags_at = flags_key(viewer_id, relations, ids)
    found = cache.get_many(
        [*(PUBLIC_PROFILES.key(a) for a in author_ids if a not in fresh), flags_at]
    )
    authors = fresh | public_profiles((a for a in author_ids if a not in fresh), found)
    shown = [cards[i] for i in ids if i in cards and cards[i]["authorId"] in authors]
    favorited, followed = viewer_flags(
        viewer_id,
        flags_at,
        [(c["id"], c["authorId"]) for c in shown],
        found,
        store=len(shown) == len(ids),
    )
    return [
        article_of(c, authors[c["authorId"]], c["id"] in favorited, c["authorId"] in followed)
        for c in shown
    ]


def articles_by_ids_rendered[C: Authored, A](
    *,
    ids: list[int],
    viewer_id: int,
    cards: bulk.Rendering[int, ArticleData, C],
    authors: bulk.Rendering[int, PublicProfile, A],
) -> list[tuple[C, A, bool, bool]] | None:
    """The articles of ``ids`` in that order as ``[(card, author, favorited, following), ...]``
    in a channel's renderings of cards and authors. An id that no longer exists is left out."""
    if not enabled():
        return None
    if not ids:
        return []
    token_key = relations_key(viewer_id)
    found = cache.get_many([token_key, *(cards.family.key(i) for i in ids)])
    relations = bulk.tokens({token_key: RELATIONS_SECONDS}, found)[0]
    rendered = bulk.fetch(cards.family, ids, found)
    author_ids = list(dict.fromkeys(c.author_id for c in rendered.values()))
    flags_at = flags_key(viewer_id, relations, ids)
    found = cache.get_many([*(authors.family.key(a) for a in author_ids), flags_at])
    by_author = bulk.fetch(authors.family, author_ids, found)
    shown = [
        (i, rendered[i].author_id)
        for i in ids
        if i in rendered and rendered[i].author_id in by_author
    ]
    favorited, followed = viewer_flags(
        viewer_id, flags_at, shown, found, store=len(shown) == len(ids)
    )
    return [(rendered[i], by_author[a], i in favorited, a in followed) for i, a in shown]
