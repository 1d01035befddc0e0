"""How a cached list page is read (the selectors' lists, ADR 0016): its first round trip (the
lists' generations, the viewer's relations token and the page's ids), and what the second one
asks for, guessed from what this process read last so that a page unchanged since is one round
trip (``conduit/platform/cache/recent.py``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conduit.articles import queries
from conduit.articles.data import ArticlePage, ListQuery
from conduit.articles.entries import CARDS, card_of, enabled, keep_read
from conduit.articles.invalidation import (
    CARD_SECONDS,
    LISTS_GENERATION,
    PAGE_SECONDS,
    favorites_generation,
    flags_key,
    page_key,
)
from conduit.platform.cache import bulk
from conduit.platform.cache.recent import Recent
from conduit.platform.cache.safe import cache
from conduit.platform.validation import storable
from conduit.profiles.invalidation import RELATIONS_SECONDS, relations_key
from conduit.users.invalidation import name_generation
from conduit.users.selectors import PUBLIC_PROFILES


@dataclass(frozen=True, slots=True)
class Listed:
    """A cached page: its ids and their authors, the total, the viewer's relations token, and
    what the first round trip returned of the keys it guessed the second read would ask for."""

    ids: list[int]
    authors: list[int]
    count: int
    relations: str | None
    found: Mapping[str, Any]
    guessed: frozenset[str]


# Per process, what each cached page held when last read here and each viewer's last relations
# token: they name the keys of a page's second read (its cards, its authors, the viewer's flags),
# which the first read then fetches too. A page unchanged since is one round trip; a wrong guess
# costs the second one it meant to save (platform/cache/recent.py).
RECENT_PAGES: Recent[str, tuple[list[int], list[int]]] = Recent(4096)
RECENT_RELATIONS: Recent[int, str] = Recent(4096)

type Families = tuple[bulk.Family[int, Any], bulk.Family[int, Any]]  # cards, authors


def first_keys(query: ListQuery) -> tuple[dict[str, float | None], str] | None:
    """A cached list's token keys (its generations, the viewer's relations) and its page key;
    None when the list is not cached (combined filters, a disabled cache)."""
    filters = query.filters
    if not enabled() or len(filters) > 1 or not all(storable(f) for f in filters):
        return None
    kind, text = queries.list_filter(query)
    token_keys: dict[str, float | None] = {LISTS_GENERATION: None}
    if kind in ("author", "favorited") and text is not None:
        token_keys[name_generation(text)] = None
    if kind == "favorited" and text is not None:
        token_keys[favorites_generation(text)] = None
    if query.viewer_id is not None:
        token_keys[relations_key(query.viewer_id)] = RELATIONS_SECONDS
    return token_keys, page_key(kind, text, query.offset, query.limit)


def guess(query: ListQuery, key: str, families: Families) -> list[str]:
    """The keys the page's second read asks for, if it still holds what it held last here."""
    seen = RECENT_PAGES.get(key)
    if seen is None:
        return []
    ids, authors = seen
    cards, profiles = families
    keys = [cards.key(i) for i in ids] + [profiles.key(a) for a in dict.fromkeys(authors)]
    viewer_id = query.viewer_id
    relations = None if viewer_id is None else RECENT_RELATIONS.get(viewer_id)
    if viewer_id is not None and relations is not None and ids:
        keys.append(flags_key(viewer_id, relations, ids))
    return keys


def families_of(cards: bulk.Rendering[int, Any, Any] | None, authors: Any) -> Families:
    return (
        CARDS if cards is None else cards.family,
        PUBLIC_PROFILES if authors is None else authors.family,
    )


def second_read(listed: Listed, keys: list[str]) -> Mapping[str, Any]:
    """What ``keys`` hold: from the first round trip where it guessed them and found them, the
    rest in one. A guessed key that was missing is read again: it was read early, and a
    concurrent reader may have filled it since (reading it then would have shared that load
    rather than repeat it, tests/cache/test_stampede.py)."""
    found = listed.found
    rest = [k for k in keys if k not in listed.guessed or k not in found]
    return {**found, **cache.get_many(rest)} if rest else found


def cached_page(query: ListQuery, families: Families) -> ArticlePage | Listed | None:
    """A list page through the cache: None if it is not cached, the page itself if it was read
    from the database here, else its ids, authors, count and the viewer's relations token."""
    keys = first_keys(query)
    if keys is None:
        return None
    token_keys, key = keys
    # One round trip: the generations, the relations token and the page, which holds the
    # generation it was read under (and the guessed keys of the second read). The tokens are
    # read before the database: a write landing meanwhile renews them, and this page is then
    # never taken for the new one.
    guessed = guess(query, key, families)
    found = cache.get_many([*token_keys, key, *guessed])
    tokens = bulk.tokens(token_keys, found)
    viewer_id = query.viewer_id
    relations = tokens.pop() if viewer_id is not None else None
    if viewer_id is not None and relations is not None:
        RECENT_RELATIONS.put(viewer_id, relations)
    generation = ".".join(tokens)
    stored = found.get(key)
    if isinstance(stored, tuple) and len(stored) == 4 and stored[0] == generation:
        ids, authors = list(stored[1]), list(stored[2])
        RECENT_PAGES.put(key, (ids, authors))
        return Listed(ids, authors, stored[3], relations, found, frozenset(guessed))

    def load() -> ArticlePage:
        page = queries.article_list(query)
        ids, authors = [a["id"] for a in page.articles], [a["authorId"] for a in page.articles]
        with cache.pipelined():  # the page, its cards, authors and flags: one round trip
            cache.set(key, (generation, ids, authors, page.count), PAGE_SECONDS)
            cache.add_many({CARDS.key(a["id"]): card_of(a) for a in page.articles}, CARD_SECONDS)
            keep_read(page.articles, viewer_id, relations)
        RECENT_PAGES.put(key, (ids, authors))
        return page

    # Concurrent misses of this page in this process wait for one query (no stampede). The
    # others take only its ids and count (what the generation vouches for) and read the cards
    # as a warm read does, after the wait: a card changed meanwhile has a tombstone by then.
    page, computed_here = bulk.load_once(f"{key}:{generation}", load)
    if computed_here:
        return page
    return Listed(
        [a["id"] for a in page.articles],
        [a["authorId"] for a in page.articles],
        page.count,
        relations,
        {},
        frozenset(),
    )


def listed_flags_key(query: ListQuery, listed: Listed) -> str | None:
    """The viewer's flags for the page's cards; none for an anonymous viewer or an empty page
    (no flags to read, and none is ever stored for no cards)."""
    if query.viewer_id is None or listed.relations is None or not listed.ids:
        return None
    return flags_key(query.viewer_id, listed.relations, listed.ids)
