"""Article reads through the cache, and the invalidations the write services call (ADR 0016).

What is cached (``conduit.platform.cache.cache``, keys versioned per release):

* ``card:<id>``: an article as a list shows it (author profile included), without the viewer's
  ``favorited``/``following`` flags; ``article:<slug>``: the same with the body, for one article.
* ``ids:<list>:<generation>:<offset>:<limit>``: a list page's ids and total. A list's key carries a
  *generation* that every write changing list membership replaces (``gen:lists``; the favorites
  of one user also ``gen:fav:<user>``), so an old page is never read again.
* ``tags:<generation>:<limit>``: the tag list.

A response is then: generation(s), page ids, ``get_many`` cards (cache round trips), and one query
for the signed-in viewer's flags. The viewer's flags are never cached: they are always fresh.

Invalidation happens twice: at once, and again when the transaction commits. The second one covers
a reader that read the old rows while the write was in flight. An invalidated card is replaced by
a short-lived *tombstone* rather than deleted, and cards are filled with "add" (never overwriting):
a reader that read the row before the commit cannot put the old version back afterwards.

Concurrent misses of one key in a process load it once (``_shared_load``: no stampede when a hot
key expires); a tombstone carries a fresh token so that a read after a write never shares a load
that started before it.
"""

import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction

from conduit.articles import selectors
from conduit.articles.models import Article
from conduit.articles.selectors import ArticleData, ArticlePage
from conduit.platform.cache import cache, micro_cache, single_flight
from conduit.platform.validation import storable
from conduit.profiles.selectors import Profile

CARD_SECONDS = 3600
PAGE_SECONDS = 600
# Longer than any read takes from its query to storing what it read (see the module doc).
TOMBSTONE_SECONDS = 5
_TOMBSTONE = "\x00gone:"  # + a token: each invalidation writes a new one (see _flight_key)
LISTS_GENERATION = "gen:lists"


def _digest(text: str) -> str:
    # Tags, slugs and usernames may hold any script; Memcached keys must be short ASCII.
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _card_key(article_id: int) -> str:
    return f"card:{article_id}"


def _rendered_key(article_id: int) -> str:
    return f"card-rendered:{article_id}"


def _detail_key(slug: str) -> str:
    return f"article:{_digest(slug)}"


def _favorites_generation(username_key: str) -> str:
    return f"gen:fav:{_digest(username_key)}"


def _enabled() -> bool:
    return bool(settings.CACHE_ARTICLES)


def _is_tombstone(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_TOMBSTONE)


def _shared_load[T](key: str, load: Callable[[], T]) -> tuple[T, bool]:
    """``load()`` once for concurrent callers of this process with the same ``key``; ``key``
    must hold what the callers saw in the cache (generation, tombstone token), so that a
    caller that arrives after a write (and so sees its new token) never shares a load that
    started before it. With the cache unavailable nobody sees tokens: everyone loads."""
    if not cache.healthy:
        return load(), True
    result: tuple[T, bool] = single_flight.do(key, load)
    return result


# --- Invalidation: called by the write services ---------------------------------------------


def _now_and_on_commit(action: Any) -> None:
    action()
    transaction.on_commit(action, robust=True)


def invalidate_article(*, article_id: int, slugs: Iterable[str] = ()) -> None:
    """The article's card and detail changed (edit, favorite count, deletion)."""
    keys = [
        _card_key(article_id),
        _rendered_key(article_id),
        *(_detail_key(slug) for slug in slugs),
    ]

    def bury() -> None:
        cache.set_many(dict.fromkeys(keys, _TOMBSTONE + secrets.token_hex(6)), TOMBSTONE_SECONDS)
        micro_cache.clear()

    _now_and_on_commit(bury)


def invalidate_author(*, user_id: int, lists: bool = False) -> None:
    """The author's profile changed: every card of theirs shows it. ``lists``: their username
    changed, so lists filtered by it change too."""
    rows = list(Article.objects.filter(author_id=user_id).values_list("id", "slug"))
    keys = [_card_key(i) for i, _ in rows] + [_rendered_key(i) for i, _ in rows]
    keys += [_detail_key(slug) for _, slug in rows]

    def bury() -> None:
        cache.set_many(dict.fromkeys(keys, _TOMBSTONE + secrets.token_hex(6)), TOMBSTONE_SECONDS)
        micro_cache.clear()

    _now_and_on_commit(bury)
    if lists:
        invalidate_lists()


def invalidate_lists(*, favorites_of: str | None = None) -> None:
    """List membership or counts changed (an article added or removed, tags changed); with
    ``favorites_of`` (a username's identity key) only that user's favorites list."""
    key = LISTS_GENERATION if favorites_of is None else _favorites_generation(favorites_of)

    def renew() -> None:
        cache.set(key, secrets.token_hex(6), None)
        micro_cache.clear()

    _now_and_on_commit(renew)


# --- Reads -------------------------------------------------------------------------------------


def _generations(keys: list[str]) -> str:
    found = cache.get_many(keys)
    missing = {key: secrets.token_hex(6) for key in keys if key not in found}
    if missing:  # first use, or evicted: a new generation, never an old page
        cache.add_many(missing, None)
        found.update(cache.get_many(list(missing)))
        for key, value in missing.items():
            found.setdefault(key, value)
    return ".".join(str(found[key]) for key in keys)


def _card(article: ArticleData) -> ArticleData:
    card = ArticleData(**article)
    card["favorited"] = False
    card["author"] = Profile(**{**article["author"], "following": False})
    return card


def _with_flags(cards: list[ArticleData], viewer_id: int | None) -> list[ArticleData]:
    if viewer_id is None:
        return cards
    favorited, followed = selectors.viewer_flags(
        viewer_id=viewer_id,
        article_ids=[c["id"] for c in cards],
        author_ids=list({c["authorId"] for c in cards}),
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
    found = cache.get_many([_card_key(i) for i in ids])
    cards: dict[int, ArticleData] = {}
    for i in ids:
        value = found.get(_card_key(i))
        if value is not None and not _is_tombstone(value):
            cards[i] = value
    missing = [i for i in ids if i not in cards]
    if missing:

        def load() -> list[ArticleData]:
            loaded = selectors.article_cards(ids=missing)
            cache.add_many(
                {
                    _card_key(a["id"]): a
                    for a in loaded
                    if not _is_tombstone(found.get(_card_key(a["id"])))
                },
                CARD_SECONDS,
            )
            return loaded

        seen = ",".join(f"{i}{found.get(_card_key(i)) or ''}" for i in missing)
        loaded, _ = _shared_load(f"cards:{seen}", load)
        cards.update((a["id"], a) for a in loaded)
    return [cards[i] for i in ids if i in cards]  # a deleted article drops out


def _cached_page(
    *,
    viewer_id: int | None,
    tag: str | None,
    author: str | None,
    favorited: str | None,
    limit: int,
    offset: int,
) -> ArticlePage | tuple[list[int], int] | None:
    """A list page through the cache: None if this list is not cached (one filter at most;
    combined filters and a disabled cache go to the database), the page itself (with the
    viewer's flags) if it was read from the database here, else its ids and count."""
    filters = [f for f in (tag, author, favorited) if f is not None]
    if not _enabled() or len(filters) > 1 or not all(storable(f) for f in filters):
        return None
    kind, text = selectors.list_filter(tag=tag, author=author, favorited=favorited)
    generation_keys = [LISTS_GENERATION]
    if kind == "favorited" and text is not None:
        generation_keys.append(_favorites_generation(text))
    # The generation is read before the database: a write that lands meanwhile renews it, and
    # this page is then stored under a key nobody reads again.
    generation = _generations(generation_keys)
    page_key = f"ids:{kind}:{_digest(text or '')}:{generation}:{offset}:{limit}"
    stored = cache.get(page_key)
    if stored is None:

        def load() -> ArticlePage:
            page = selectors.article_list(
                viewer_id=viewer_id,
                tag=tag,
                author=author,
                favorited=favorited,
                limit=limit,
                offset=offset,
            )
            cache.set(page_key, ([a["id"] for a in page.articles], page.count), PAGE_SECONDS)
            cache.add_many({_card_key(a["id"]): _card(a) for a in page.articles}, CARD_SECONDS)
            return page

        # Concurrent misses of this page in this process wait for one query (no stampede). The
        # others take only its ids and count (what the generation vouches for) and read the
        # cards as a warm read does: a card changed meanwhile has a tombstone by then.
        page, computed_here = _shared_load(page_key, load)
        if computed_here:
            return page
        return [a["id"] for a in page.articles], page.count
    ids, count = stored
    return list(ids), count


def article_list(
    *,
    viewer_id: int | None,
    tag: str | None = None,
    author: str | None = None,
    favorited: str | None = None,
    limit: int,
    offset: int,
) -> ArticlePage:
    """``selectors.article_list`` through the cache (one filter at most; combined filters and a
    disabled cache go to the database)."""
    found = _cached_page(
        viewer_id=viewer_id,
        tag=tag,
        author=author,
        favorited=favorited,
        limit=limit,
        offset=offset,
    )
    if found is None:
        return selectors.article_list(
            viewer_id=viewer_id,
            tag=tag,
            author=author,
            favorited=favorited,
            limit=limit,
            offset=offset,
        )
    if isinstance(found, ArticlePage):
        return found
    ids, count = found
    return ArticlePage(_with_flags(_cards(ids), viewer_id), count)


# --- Rendered cards: a channel's form of a card, cached beside it ---------------------------


def _rendered_cards[R](
    ids: list[int], render: Callable[[ArticleData], R], render_name: str
) -> list[tuple[str, int, int, R]]:
    """``(render_name, id, author id, render(card))`` for ``ids`` in order, from the cache, the
    missing ones rendered from their cards (and stored, by "add", unless a tombstone was seen:
    they are buried with the cards, see ``invalidate_article``)."""
    keys = {i: _rendered_key(i) for i in ids}
    found = cache.get_many(keys.values())
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
            {keys[i]: value for i, value in fresh.items() if not _is_tombstone(found.get(keys[i]))},
            CARD_SECONDS,
        )
        rendered.update(fresh)
    return [rendered[i] for i in ids if i in rendered]  # a deleted article drops out


def article_list_rendered[R](
    *,
    render: Callable[[ArticleData], R],
    render_name: str,
    viewer_id: int | None,
    tag: str | None = None,
    author: str | None = None,
    favorited: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[R, bool, bool]], int] | None:
    """A list page as ``([(render(card), favorited, following), ...], count)``, for a channel
    that serves the same cards to every viewer (``render`` sees a card without the viewer's
    flags, which come apart): a warm page is then cached renderings plus one query for a
    signed-in viewer's flags. ``render_name`` names the rendering (change it when it changes).
    None when this list is not cached: use ``article_list``."""
    found = _cached_page(
        viewer_id=viewer_id,
        tag=tag,
        author=author,
        favorited=favorited,
        limit=limit,
        offset=offset,
    )
    if found is None:
        return None
    if isinstance(found, ArticlePage):
        return [
            (render(_card(a)), a["favorited"], a["author"]["following"]) for a in found.articles
        ], found.count
    ids, count = found
    rendered = _rendered_cards(ids, render, render_name)
    if viewer_id is None or not rendered:
        return [(value, False, False) for _, _, _, value in rendered], count
    favorited_ids, followed = selectors.viewer_flags(
        viewer_id=viewer_id,
        article_ids=[i for _, i, _, _ in rendered],
        author_ids=list({author_id for _, _, author_id, _ in rendered}),
    )
    return [
        (value, i in favorited_ids, author_id in followed) for _, i, author_id, value in rendered
    ], count


def article_get(*, slug: str, viewer_id: int | None) -> ArticleData:
    """``selectors.article_get`` through the cache."""
    if not _enabled() or not storable(slug):
        return selectors.article_get(slug=slug, viewer_id=viewer_id)
    key = _detail_key(slug)
    stored = cache.get(key)
    if stored is None or _is_tombstone(stored):

        def load() -> ArticleData:
            article = selectors.article_get(slug=slug, viewer_id=viewer_id)
            if stored is None:
                cache.add_many({key: _card(article)}, CARD_SECONDS)
            return article

        article, computed_here = _shared_load(f"{key}:{stored or ''}", load)
        if computed_here:
            return article
        return _with_flags([_card(article)], viewer_id)[0]
    return _with_flags([stored], viewer_id)[0]


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
