"""Article reads through the cache (ADR 0016); the key scheme and invalidation are in
``invalidation.py``.

What is cached (``conduit.platform.cache.safe.cache``, keys versioned per release):

* ``card:<id>``: an article as a list shows it (author profile included), without the viewer's
  ``favorited``/``following`` flags; ``article:<slug>``: the same with the body, for one article.
* ``ids:<list>:<offset>:<limit>``: a list page's ids and total, with the *generation* it was read
  under; every write changing list membership replaces the generation (``gen:lists``; the
  favorites of one user also ``gen:fav:<user>``), so an old page is never taken for a new one.
* ``tags:<generation>:<limit>``: the tag list.
* ``flags:<viewer>:<relations>:<ids>``: a signed-in viewer's ``favorited``/``following`` flags
  for one set of cards. ``rel:<viewer>`` holds the viewer's *relations token*, which each of the
  viewer's own favorites and follows replaces (``invalidate_relations``): only the viewer can
  change their flags, so the flags of a token never go stale, and an old token's are never read.

A list response is then two cache round trips: the generations, the viewer's relations token and
the page's ids; then the cards and the viewer's flags. The flags are one query only when the
viewer has not seen these cards since their last favorite or follow.

Concurrent misses of one key in a process load it once (``_shared_load``: no stampede when a hot
key expires); a tombstone carries a fresh token so that a read after a write never shares a load
that started before it.
"""

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

from conduit.articles import selectors
from conduit.articles.invalidation import (
    CARD_SECONDS,
    FLAGS_SECONDS,
    LISTS_GENERATION,
    PAGE_SECONDS,
    RELATIONS_SECONDS,
    card_key,
    detail_key,
    digest,
    favorites_generation,
    flags_key,
    is_tombstone,
    relations_key,
    rendered_key,
)
from conduit.articles.selectors import ArticleData, ArticlePage, ListQuery
from conduit.platform.cache.flight import single_flight
from conduit.platform.cache.safe import cache
from conduit.platform.validation import storable
from conduit.profiles.selectors import Profile


def _enabled() -> bool:
    return bool(settings.CACHE_ARTICLES)


def _shared_load[T](key: str, load: Callable[[], T]) -> tuple[T, bool]:
    """``load()`` once for concurrent callers of this process with the same ``key``; ``key``
    must hold what the callers saw in the cache (generation, tombstone token), so that a
    caller that arrives after a write (and so sees its new token) never shares a load that
    started before it. With the cache unavailable nobody sees tokens: everyone loads."""
    if not cache.healthy:
        return load(), True
    result: tuple[T, bool] = single_flight.do(key, load)
    return result


# --- Reads -------------------------------------------------------------------------------------


def _tokens(keys: list[str], found: dict[str, Any] | None = None) -> dict[str, str]:
    """The current token (a list generation, a relations token) of each key, ``found`` holding
    those already read; a missing one (first use, or evicted) is replaced by a new token, so
    nothing stored under an old one is read again."""
    if found is None:
        found = cache.get_many(keys)
    tokens = {key: found[key] for key in keys if key in found}
    missing = {key: secrets.token_hex(6) for key in keys if key not in tokens}
    if missing:
        timeouts = {key: RELATIONS_SECONDS if key.startswith("rel:") else None for key in missing}
        for timeout in set(timeouts.values()):
            cache.add_many({k: v for k, v in missing.items() if timeouts[k] == timeout}, timeout)
        tokens.update(cache.get_many(list(missing)))
        for key, value in missing.items():
            tokens.setdefault(key, value)
    return {key: str(tokens[key]) for key in keys}


def _generations(keys: list[str]) -> str:
    tokens = _tokens(keys)
    return ".".join(tokens[key] for key in keys)


def _relations(viewer_id: int, found: dict[str, Any] | None = None) -> str:
    key = relations_key(viewer_id)
    return _tokens([key], found)[key]


def _store_flags(key: str, favorited: Iterable[int], followed: Iterable[int]) -> None:
    """Keep a viewer's flags under ``key`` (``_viewer_flags`` reads them back)."""
    cache.add_many({key: (sorted(favorited), sorted(followed))}, FLAGS_SECONDS)


def _viewer_flags(
    *, viewer_id: int, key: str, cards: list[tuple[int, int]], stored: Any, store: bool = True
) -> tuple[set[int], set[int]]:
    """The viewer's ``(favorited article ids, followed author ids)`` among ``cards`` (pairs of
    article id and author id): ``stored`` if it was found under their flags ``key``, else one
    query (stored there for next time if ``store``: ``key`` must name exactly these cards)."""
    if isinstance(stored, tuple):
        return set(stored[0]), set(stored[1])
    favorited, followed = selectors.viewer_flags(
        viewer_id=viewer_id,
        article_ids=[i for i, _ in cards],
        author_ids=list({author_id for _, author_id in cards}),
    )
    if store:
        _store_flags(key, favorited, followed)
    return favorited, followed


def _card(article: ArticleData) -> ArticleData:
    card = ArticleData(**article)
    card["favorited"] = False
    card["author"] = Profile(**{**article["author"], "following": False})
    return card


def _keep_flags(viewer_id: int | None, relations: str | None, articles: list[ArticleData]) -> None:
    """Store the viewer's flags that a query read with ``articles`` (after their relations token
    was read), under the key a later read of the same articles looks up."""
    if viewer_id is None or relations is None or not articles:
        return
    _store_flags(
        flags_key(viewer_id, relations, (a["id"] for a in articles)),
        favorited=(a["id"] for a in articles if a["favorited"]),
        followed={a["authorId"] for a in articles if a["author"]["following"]},
    )


def _with_flags(
    cards: list[ArticleData], viewer_id: int | None, relations: str | None = None
) -> list[ArticleData]:
    """``cards`` with the viewer's flags (``relations``: their token, if already read)."""
    if viewer_id is None or not cards:
        return cards
    key = flags_key(viewer_id, relations or _relations(viewer_id), (c["id"] for c in cards))
    favorited, followed = _viewer_flags(
        viewer_id=viewer_id,
        key=key,
        cards=[(c["id"], c["authorId"]) for c in cards],
        stored=cache.get(key),
    )
    shown = []
    for card in cards:
        article = ArticleData(**card)
        article["favorited"] = card["id"] in favorited
        article["author"] = Profile(**{**card["author"], "following": card["authorId"] in followed})
        shown.append(article)
    return shown


def _cards(ids: list[int]) -> list[ArticleData]:
    """Cards for ``ids`` in order: from the cache, the missing ones in one query (and stored)."""
    found = cache.get_many([card_key(i) for i in ids])
    cards: dict[int, ArticleData] = {}
    for i in ids:
        value = found.get(card_key(i))
        if value is not None and not is_tombstone(value):
            cards[i] = value
    missing = [i for i in ids if i not in cards]
    if missing:

        def load() -> list[ArticleData]:
            loaded = selectors.article_cards(ids=missing)
            cache.add_many(
                {
                    card_key(a["id"]): a
                    for a in loaded
                    if not is_tombstone(found.get(card_key(a["id"])))
                },
                CARD_SECONDS,
            )
            return loaded

        seen = ",".join(f"{i}{found.get(card_key(i)) or ''}" for i in missing)
        loaded, _ = _shared_load(f"cards:{seen}", load)
        cards.update((a["id"], a) for a in loaded)
    return [cards[i] for i in ids if i in cards]  # a deleted article drops out


def _page_keys(query: ListQuery) -> tuple[list[str], str | None, str] | None:
    """A cached list page's first read: its generation keys, the viewer's relations key and the
    page key; None when the list is not cached (see ``_cached_page``)."""
    filters = query.filters
    if not _enabled() or len(filters) > 1 or not all(storable(f) for f in filters):
        return None
    kind, text = selectors.list_filter(query)
    generation_keys = [LISTS_GENERATION]
    if kind == "favorited" and text is not None:
        generation_keys.append(favorites_generation(text))
    viewer_id = query.viewer_id
    rel_key = relations_key(viewer_id) if viewer_id is not None else None
    page_key = f"ids:{kind}:{digest(text or '')}:{query.offset}:{query.limit}"
    return generation_keys, rel_key, page_key


def list_first_read(query: ListQuery) -> list[str]:
    """The keys a cached list page reads first (none when the list is not cached): a view can
    fetch them ahead, with its authentication's read (``cache.reading_ahead``)."""
    keys = _page_keys(query)
    if keys is None:
        return []
    generation_keys, rel_key, page_key = keys
    return [*generation_keys, *([rel_key] if rel_key else []), page_key]


def _cached_page(query: ListQuery) -> ArticlePage | tuple[list[int], int, str | None] | None:
    """A list page through the cache: None if this list is not cached (one filter at most;
    combined filters and a disabled cache go to the database), the page itself (with the
    viewer's flags) if it was read from the database here, else its ids, count and the
    signed-in viewer's relations token (read in the same round trip as the generations)."""
    keys = _page_keys(query)
    if keys is None:
        return None
    generation_keys, rel_key, page_key = keys
    # One round trip: the generations, the viewer's relations token and the page, which holds
    # the generation it was read under. The generation is read before the database: a write
    # that lands meanwhile renews it, and this page is then never taken for the new one. The
    # relations token likewise for the flags.
    token_keys = generation_keys + ([rel_key] if rel_key else [])
    found = cache.get_many([*token_keys, page_key])
    tokens = _tokens(token_keys, found)
    generation = ".".join(tokens[key] for key in generation_keys)
    relations = tokens[rel_key] if rel_key else None
    stored = found.get(page_key)
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == generation):

        def load() -> ArticlePage:
            page = selectors.article_list(query)
            ids = [a["id"] for a in page.articles]
            cache.set(page_key, (generation, ids, page.count), PAGE_SECONDS)
            cache.add_many({card_key(a["id"]): _card(a) for a in page.articles}, CARD_SECONDS)
            _keep_flags(query.viewer_id, relations, page.articles)
            return page

        # Concurrent misses of this page in this process wait for one query (no stampede). The
        # others take only its ids and count (what the generation vouches for) and read the
        # cards as a warm read does: a card changed meanwhile has a tombstone by then.
        page, computed_here = _shared_load(f"{page_key}:{generation}", load)
        if computed_here:
            return page
        return [a["id"] for a in page.articles], page.count, relations
    _, ids, count = stored
    return list(ids), count, relations


def article_list(query: ListQuery) -> ArticlePage:
    """``selectors.article_list`` through the cache (one filter at most; combined filters and a
    disabled cache go to the database)."""
    found = _cached_page(query)
    if found is None:
        return selectors.article_list(query)
    if isinstance(found, ArticlePage):
        return found
    ids, count, relations = found
    return ArticlePage(_with_flags(_cards(ids), query.viewer_id, relations), count)


# --- Rendered cards: a channel's form of a card, cached beside it ---------------------------


def _rendered_cards[R](
    ids: list[int], render: Callable[[ArticleData], R], render_name: str, found: dict[str, Any]
) -> list[tuple[str, int, int, R]]:
    """``(render_name, id, author id, render(card))`` for ``ids`` in order, from ``found`` (what
    the cache held under their keys), the missing ones rendered from their cards (and stored, by
    "add", unless a tombstone was seen: they are buried with the cards, see
    ``invalidate_article``)."""
    keys = {i: rendered_key(i) for i in ids}
    rendered: dict[int, tuple[str, int, int, R]] = {}
    for i, key in keys.items():
        value = found.get(key)
        if isinstance(value, tuple) and value[0] == render_name:
            rendered[i] = value
    missing = [i for i in ids if i not in rendered]
    if missing:
        fresh = {
            card["id"]: (render_name, card["id"], card["authorId"], render(card))
            for card in _cards(missing)
        }
        cache.add_many(
            {keys[i]: value for i, value in fresh.items() if not is_tombstone(found.get(keys[i]))},
            CARD_SECONDS,
        )
        rendered.update(fresh)
    return [rendered[i] for i in ids if i in rendered]  # a deleted article drops out


def article_list_rendered[R](
    query: ListQuery, *, render: Callable[[ArticleData], R], render_name: str
) -> tuple[list[tuple[R, bool, bool]], int] | None:
    """A list page as ``([(render(card), favorited, following), ...], count)``, for a channel
    that serves the same cards to every viewer (``render`` sees a card without the viewer's
    flags, which come apart): a warm page is then cached renderings and the signed-in viewer's
    cached flags, in one ``get_many``. ``render_name`` names the rendering (change it when it
    changes). None when this list is not cached: use ``article_list``."""
    found = _cached_page(query)
    if found is None:
        return None
    if isinstance(found, ArticlePage):
        return [
            (render(_card(a)), a["favorited"], a["author"]["following"]) for a in found.articles
        ], found.count
    ids, count, relations = found
    viewer_id = query.viewer_id
    keys = [rendered_key(i) for i in ids]
    viewer_flags_key = None
    if viewer_id is not None and relations is not None:
        viewer_flags_key = flags_key(viewer_id, relations, ids)
        keys.append(viewer_flags_key)
    fetched = cache.get_many(keys)
    rendered = _rendered_cards(ids, render, render_name, fetched)
    if viewer_id is None or viewer_flags_key is None or not rendered:
        return [(value, False, False) for _, _, _, value in rendered], count
    favorited_ids, followed = _viewer_flags(
        viewer_id=viewer_id,
        key=viewer_flags_key,
        cards=[(i, author_id) for _, i, author_id, _ in rendered],
        stored=fetched.get(viewer_flags_key),
        store=len(rendered) == len(ids),  # the key names the page's ids; one was just deleted
    )
    return [
        (value, i in favorited_ids, author_id in followed) for _, i, author_id, value in rendered
    ], count


def article_first_read(*, slug: str, viewer_id: int | None) -> list[str]:
    """The keys ``article_get`` reads first (none when the article is not cached): a view can
    fetch them ahead, with its authentication's read (``cache.reading_ahead``)."""
    if not _enabled() or not storable(slug):
        return []
    return [detail_key(slug), *([relations_key(viewer_id)] if viewer_id is not None else [])]


def article_get(*, slug: str, viewer_id: int | None) -> ArticleData:
    """``selectors.article_get`` through the cache."""
    first_read = article_first_read(slug=slug, viewer_id=viewer_id)
    if not first_read:
        return selectors.article_get(slug=slug, viewer_id=viewer_id)
    key = first_read[0]
    found = cache.get_many(first_read)
    stored = found.get(key)
    relations = _relations(viewer_id, found) if viewer_id is not None else None
    if stored is None or is_tombstone(stored):

        def load() -> ArticleData:
            article = selectors.article_get(slug=slug, viewer_id=viewer_id)
            if stored is None:
                cache.add_many({key: _card(article)}, CARD_SECONDS)
            _keep_flags(viewer_id, relations, [article])
            return article

        article, computed_here = _shared_load(f"{key}:{stored or ''}", load)
        if computed_here:
            return article
        return _with_flags([_card(article)], viewer_id, relations)[0]
    return _with_flags([stored], viewer_id, relations)[0]


def tag_list(*, limit: int = selectors.TAGS_LIST_MAX) -> list[str]:
    """``selectors.tag_list`` through the cache."""
    if not _enabled():
        return selectors.tag_list(limit=limit)
    key = f"tags:{_generations([LISTS_GENERATION])}:{limit}"
    tags = cache.get(key)
    if tags is None:

        def load() -> list[str]:
            found = selectors.tag_list(limit=limit)
            cache.set(key, found, PAGE_SECONDS)
            return found

        tags, _ = _shared_load(key, load)
    return list(tags)
