"""The API's rendering cache (ADR 0016): a warm list joins cached, pre-rendered JSON instead of
building and encoding 20 dictionaries (docs/performance.md).

An article's card and its author's public profile are each rendered once, without the viewer's
flags, and cached as renderings of the articles app's ``card:<id>`` and the users app's
``profile:<id>`` entries (``conduit.platform.cache.bulk.Rendering``): burying an entry buries
its rendering, so the domain never names the API's keys. A list's bytes are the pieces around
the flags::

    {..."favorited":  true  ,"favoritesCount":3,"author":  {"username":...,"following":  false  }}
    `--- card head ---'     `------- card tail ------'    `---- author ----'

They are what ``ConduitJSONRenderer`` makes of ``articles_json`` (tests/api/test_rendered_lists.py).
"""

from typing import NamedTuple

from django.conf import settings
from django.http import HttpResponse

from conduit.api.presenters import article_dict, articles_json, profile_dict
from conduit.api.renderers import JSON_CONTENT_TYPE, ConduitJSONRenderer
from conduit.articles import selectors
from conduit.articles.data import ArticleData, ArticlePage, ListQuery
from conduit.platform.cache.bulk import Rendering
from conduit.profiles.selectors import Profile
from conduit.timelines.selectors import home_feed_rendered
from conduit.users.selectors import PUBLIC_PROFILES, PublicProfile

SHAPE = "api-json-4"  # change it with the JSON's shape: renderings of another shape are not served


def rendering_version() -> str:
    """The shape's name and the ``SITE_URL``, ``STATIC_URL`` and ``MEDIA_URL`` that the authors'
    image URLs start with (new ones never serve renderings of the old)."""
    return f"{SHAPE} {settings.SITE_URL} {settings.STATIC_URL} {settings.MEDIA_URL}"


_FAVORITED = b',"favorited":false,'
_AUTHOR = b'"author":'
_FOLLOWING = b'"following":false}'
_PLACEHOLDER = Profile(username="", bio=None, image=None, following=False)


class CardPieces(NamedTuple):
    """``card`` as JSON up to its ``favorited`` value (``head``), and from there up to its
    author's (``tail``); and whose card it is (a page by id reads the author from it)."""

    head: bytes
    tail: bytes
    author_id: int


def card_pieces(card: ArticleData) -> CardPieces:
    """``card``'s pieces (``CardPieces``)."""
    encoded = ConduitJSONRenderer().render(article_dict({**card, "author": _PLACEHOLDER}))
    # The first '"favorited":' and '"author":' with unescaped quotes are keys: a quote inside
    # a string is always escaped, and both keys come after every string of the card but the
    # author's.
    head, sep, rest = encoded.partition(_FAVORITED)
    tail, sep_author, _ = rest.partition(_AUTHOR)
    if not sep or not sep_author:
        raise ValueError("an article's JSON shape changed: update card_pieces")
    return CardPieces(head + b',"favorited":', b"," + tail + _AUTHOR, card["authorId"])


def author_piece(profile: PublicProfile) -> bytes:
    """An author's JSON up to its ``following`` value."""
    encoded = ConduitJSONRenderer().render(profile_dict(Profile(**profile, following=False)))
    if not encoded.endswith(_FOLLOWING):
        raise ValueError("a profile's JSON shape changed: update author_piece")
    return encoded[: -len(b"false}")]


CARDS = Rendering("api-card", selectors.CARDS, card_pieces, rendering_version)
AUTHORS = Rendering("api-author", PUBLIC_PROFILES, author_piece, rendering_version)


def _flag(value: bool) -> bytes:
    return b"true" if value else b"false"


def articles_first_read(query: ListQuery) -> list[str]:
    """The keys ``articles_response`` reads first, for the view's read-ahead."""
    return selectors.list_first_read(query, cards=CARDS, authors=AUTHORS)


def articles_response(query: ListQuery) -> HttpResponse:
    """The list page as the API's response: joined from cached renderings, or (a list that is
    not cached) rendered from the selectors' page; the same bytes either way."""
    page = selectors.article_list_rendered(query, cards=CARDS, authors=AUTHORS)
    if page is None:
        return _rendered(selectors.article_list(query))
    return _joined(*page)


def feed_response(*, viewer_id: int, limit: int, offset: int) -> HttpResponse:
    """The viewer's home feed as the API's response: a warm timeline's page joined from cached
    renderings, or the page the feed's selector read (a fallback, or no card cache)."""
    page = home_feed_rendered(
        viewer_id=viewer_id, limit=limit, offset=offset, cards=CARDS, authors=AUTHORS
    )
    return _rendered(page) if isinstance(page, ArticlePage) else _joined(*page)


def _rendered(page: ArticlePage) -> HttpResponse:
    content = ConduitJSONRenderer().render(articles_json(page.articles, page.count))
    return HttpResponse(content, content_type=JSON_CONTENT_TYPE)


def _joined(items: list[tuple[CardPieces, bytes, bool, bool]], count: int) -> HttpResponse:
    body = b",".join(
        b"".join((card.head, _flag(favorited), card.tail, author, _flag(following), b"}}"))
        for card, author, favorited, following in items
    )
    content = b'{"articles":[' + body + b'],"articlesCount":%d}' % count
    return HttpResponse(content, content_type=JSON_CONTENT_TYPE)
