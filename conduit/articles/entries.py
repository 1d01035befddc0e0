"""What the articles app keeps in the cache, and how a read fills it: the card family, the
authors' profiles and the viewer's flags a query brings along (ADR 0016; the keys are in
``invalidation.py``). The selectors (``selectors.py``) are the only readers."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from conduit.articles import queries
from conduit.articles.data import ArticleData
from conduit.articles.invalidation import CARD_PREFIX, CARD_SECONDS, FLAGS_SECONDS, flags_key
from conduit.platform.cache import bulk
from conduit.platform.cache.safe import cache
from conduit.profiles.selectors import Profile
from conduit.users.selectors import PUBLIC_PROFILES, PublicProfile


def card_of(article: ArticleData) -> ArticleData:
    """What is cached of an article: no author's profile, no viewer's flags."""
    card = ArticleData(**article)
    card.pop("author", None)
    card["favorited"] = False
    return card


def _load_cards(ids: list[int]) -> dict[int, ArticleData]:
    # With their authors: a caller that loaded a card uses its author's fresh profile too.
    return {a["id"]: a for a in queries.article_cards(ids=ids)}


CARDS: bulk.Family[int, ArticleData] = bulk.Family(
    CARD_PREFIX, _load_cards, CARD_SECONDS, keep=card_of
)


def public_of(profile: Profile) -> PublicProfile:
    return PublicProfile(username=profile["username"], bio=profile["bio"], image=profile["image"])


def enabled() -> bool:
    return bool(settings.CACHE_ARTICLES)


def article_of(
    card: ArticleData, author: PublicProfile, favorited: bool, following: bool
) -> ArticleData:
    article = ArticleData(**card)
    article["favorited"] = favorited
    article["author"] = Profile(**author, following=following)
    return article


def keep_read(articles: list[ArticleData], viewer_id: int | None, relations: str | None) -> None:
    """Store what a query read with ``articles``: their authors' profiles and (after the
    viewer's relations token was read) the viewer's flags for them."""
    if not articles:
        return
    authors = {PUBLIC_PROFILES.key(a["authorId"]): public_of(a["author"]) for a in articles}
    cache.add_many(authors, PUBLIC_PROFILES.seconds)
    if viewer_id is not None and relations is not None:
        favorited = sorted(a["id"] for a in articles if a["favorited"])
        followed = sorted({a["authorId"] for a in articles if a["author"]["following"]})
        key = flags_key(viewer_id, relations, (a["id"] for a in articles))
        cache.add_many({key: (favorited, followed)}, FLAGS_SECONDS)


def viewer_flags(
    viewer_id: int | None,
    key: str | None,
    cards: Sequence[tuple[int, int]],
    found: Mapping[str, Any],
    *,
    store: bool,
) -> tuple[set[int], set[int]]:
    """The viewer's ``(favorited article ids, followed author ids)`` among ``cards`` (pairs of
    article and author id): what ``found`` holds under their flags ``key``, else one query
    (stored under ``key`` if ``store``: the key must name exactly these cards). Both empty for
    an anonymous viewer (no ``key``) or no cards."""
    if viewer_id is None or key is None or not cards:
        return set(), set()
    stored = found.get(key)
    if isinstance(stored, tuple):
        return set(stored[0]), set(stored[1])
    favorited, followed = queries.viewer_flags(
        viewer_id=viewer_id,
        article_ids=[i for i, _ in cards],
        author_ids=list({author for _, author in cards}),
    )
    if store:
        cache.add_many({key: (sorted(favorited), sorted(followed))}, FLAGS_SECONDS)
    return favorited, followed
