"""The articles app's read API: every read of articles and tags a channel makes comes through here,
from the cache where it can (ADR 0016; the keys are in ``invalidation.py``, the queries in
``queries.py`` and ``feed.py``, the rules in ``conduit/platform/cache/bulk.py``).

A list page is read as its ids (under the lists' generations), then the cards, their authors'
public profiles (the users app's entries) and a signed-in viewer's flags (under their relations
token, the profiles app's): one cache round trip when the page holds what it held when this
process last read it, else two (``pages.py``). A channel that keeps its own
rendering of cards and authors (the API's JSON) reads the renderings in place of the entries
(``article_list_rendered``). With ``CACHE_ARTICLES`` off, or for combined filters, every read is
the query.
"""

from typing import Any

from conduit.articles import by_ids, feed, pages, queries
from conduit.articles.data import ArticleData, ArticlePage, ListQuery
from conduit.articles.entries import (
    CARDS,
    article_of,
    card_of,
    enabled,
    keep_read,
    public_of,
    viewer_flags,
)
from conduit.articles.invalidation import (
    CARD_SECONDS,
    LISTS_GENERATION,
    PAGE_SECONDS,
    detail_key,
    flags_key,
)
from conduit.articles.models import Article, sorted_tags
from conduit.platform.cache import bulk
from conduit.platform.cache.safe import cache
from conduit.platform.validation import storable
from conduit.profiles.invalidation import RELATIONS_SECONDS, relations_key
from conduit.profiles.selectors import Profile
from conduit.users.selectors import PUBLIC_PROFILES, PublicProfile, public_profiles

article_feed = feed.article_feed
articles_by_ids = by_ids.articles_by_ids
articles_by_ids_rendered = by_ids.articles_by_ids_rendered
article_get_for_write = queries.article_get_for_write

# --- Lists ---------------------------------------------------------------------------------------


def list_first_read(
    query: ListQuery,
    *,
    cards: bulk.Rendering[int, ArticleData, Any] | None = None,
    authors: bulk.Rendering[int, PublicProfile, Any] | None = None,
) -> list[str]:
    """The keys a cached list reads first (none when it is not cached), for the entries or the
    given renderings: a view can fetch them with its authentication's read
    (``cache.reading_ahead``)."""
    keys = pages.first_keys(query)
    if keys is None:
        return []
    token_keys, key = keys
    return [*token_keys, key, *pages.guess(query, key, pages.families_of(cards, authors))]


def article_list(query: ListQuery) -> ArticlePage:
    """Articles newest first, optionally filtered by tag, author or favoriting user."""
    listed = pages.cached_page(query, (CARDS, PUBLIC_PROFILES))
    if listed is None:
        return queries.article_list(query)
    if isinstance(listed, ArticlePage):
        return listed
    flags_at = pages.listed_flags_key(query, listed)
    keys = [CARDS.key(i) for i in listed.ids]
    keys += [PUBLIC_PROFILES.key(a) for a in dict.fromkeys(listed.authors)]
    found = pages.second_read(listed, [*keys, *([flags_at] if flags_at else [])])
    cards = bulk.fetch(CARDS, listed.ids, found)
    fresh = {c["authorId"]: public_of(c["author"]) for c in cards.values() if "author" in c}
    authors = fresh | public_profiles((a for a in listed.authors if a not in fresh), found)
    shown = [cards[i] for i in listed.ids if i in cards and cards[i]["authorId"] in authors]
    favorited, followed = viewer_flags(
        query.viewer_id,
        flags_at,
        [(c["id"], c["authorId"]) for c in shown],
        found,
        store=len(shown) == len(listed.ids),
    )
    articles = [
        article_of(c, authors[c["authorId"]], c["id"] in favorited, c["authorId"] in followed)
        for c in shown
    ]
    return ArticlePage(articles, listed.count)


def article_list_rendered[C, A](
    query: ListQuery,
    *,
    cards: bulk.Rendering[int, ArticleData, C],
    authors: bulk.Rendering[int, PublicProfile, A],
) -> tuple[list[tuple[C, A, bool, bool]], int] | None:
    """A list page as ``([(card, author, favorited, following), ...], count)`` in a channel's
    renderings of cards (``CARDS``) and authors (``PUBLIC_PROFILES``), for a channel that serves
    the same cards to every viewer: a warm page is then its renderings and the viewer's flags,
    read with its ids (``pages.py``). None when this list is not cached: use ``article_list``."""
    listed = pages.cached_page(query, (cards.family, authors.family))
    if listed is None:
        return None
    if isinstance(listed, ArticlePage):
        return [
            (
                cards.render(card_of(a)),
                authors.render(public_of(a["author"])),
                a["favorited"],
                a["author"]["following"],
            )
            for a in listed.articles
        ], listed.count
    flags_at = pages.listed_flags_key(query, listed)
    author_ids = list(dict.fromkeys(listed.authors))
    keys = [cards.family.key(i) for i in listed.ids]
    keys += [authors.family.key(a) for a in author_ids]
    found = pages.second_read(listed, [*keys, *([flags_at] if flags_at else [])])
    rendered = bulk.fetch(cards.family, listed.ids, found)
    by_author = bulk.fetch(authors.family, author_ids, found)
    shown = [
        (i, author)
        for i, author in zip(listed.ids, listed.authors, strict=True)
        if i in rendered and author in by_author
    ]
    favorited, followed = viewer_flags(
        query.viewer_id, flags_at, shown, found, store=len(shown) == len(listed.ids)
    )
    return [
        (rendered[i], by_author[author], i in favorited, author in followed) for i, author in shown
    ], listed.count


# --- One article, and the tags -------------------------------------------------------------------


def article_first_read(*, slug: str, viewer_id: int | None) -> list[str]:
    """The keys ``article_get`` reads first (none when it is not cached): a view can fetch them
    with its authentication's read (``cache.reading_ahead``)."""
    if not enabled() or not storable(slug):
        return []
    return [detail_key(slug), *([relations_key(viewer_id)] if viewer_id is not None else [])]


def article_get(*, slug: str, viewer_id: int | None) -> ArticleData:
    """One article, with its body."""
    first_read = article_first_read(slug=slug, viewer_id=viewer_id)
    if not first_read:
        return queries.article_get(slug=slug, viewer_id=viewer_id)
    key = first_read[0]
    found = cache.get_many(first_read)
    relations = None
    if viewer_id is not None:
        relations = bulk.tokens({first_read[1]: RELATIONS_SECONDS}, found)[0]
    detail = found.get(key)
    if detail is None or bulk.is_tombstone(detail):
        stored = detail

        def load() -> ArticleData:
            article = queries.article_get(slug=slug, viewer_id=viewer_id)
            with cache.pipelined():  # the card, its author and the flags: one round trip
                if stored is None:
                    cache.add_many({key: card_of(article)}, CARD_SECONDS)
                keep_read([article], viewer_id, relations)
            return article

        article, computed_here = bulk.load_once(f"{key}:{stored or ''}", load)
        if computed_here:
            return article
        detail = card_of(article)
    author_id = detail["authorId"]
    flags_at = None
    if viewer_id is not None and relations is not None:
        flags_at = flags_key(viewer_id, relations, [detail["id"]])
    found = cache.get_many([PUBLIC_PROFILES.key(author_id), *([flags_at] if flags_at else [])])
    author = public_profiles([author_id], found).get(author_id)
    if author is None:  # the author was erased meanwhile, and the article with them
        return queries.article_get(slug=slug, viewer_id=viewer_id)
    favorited, followed = viewer_flags(
        viewer_id, flags_at, [(detail["id"], author_id)], found, store=True
    )
    return article_of(detail, author, detail["id"] in favorited, author_id in followed)


def article_as_published(article: Article) -> ArticleData:
    """A new article as its author sees it in the publish's response, without a read: nobody
    has favorited it yet, and nobody follows themselves. ``article.author`` is read for the
    author's profile (``services.article_create`` returns it with the article)."""
    author = article.author
    return ArticleData(
        id=article.pk, slug=article.slug, title=article.title, description=article.description,
        body=article.body, tagList=sorted_tags(article.tag_list), createdAt=article.created_at,
        updatedAt=article.updated_at, favorited=False, favoritesCount=article.favorites_count,
        author=Profile(username=author.username, bio=author.bio, image=author.image,
                       following=False),
        authorId=article.author_id,
    )  # fmt: skip


def tag_list(*, limit: int = queries.TAGS_LIST_MAX) -> list[str]:
    """Tags in use, most used first (at most ``limit``)."""
    if not enabled():
        return queries.tag_list(limit=limit)
    key = f"tags:{bulk.tokens({LISTS_GENERATION: None})[0]}:{limit}"
    tags = cache.get(key)
    if tags is None:

        def load() -> list[str]:
            found = queries.tag_list(limit=limit)
            cache.set(key, found, PAGE_SECONDS)
            return found

        tags, _ = bulk.load_once(key, load)
    return list(tags)


def article_id_by_slug(slug: str) -> int | None:
    """The article's id, for a stream of its events (None: no such article)."""
    if not storable(slug):
        return None
    return Article.objects.filter(slug=slug).values_list("id", flat=True).first()
