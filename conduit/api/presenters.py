"""Domain data to RealWorld JSON. Plain dictionaries, not serializers: the shapes are fixed and
this is the hot path of every list (see ADR 0003)."""

from typing import Any

from django.conf import settings

from conduit.api.renderers import ConduitJSONRenderer
from conduit.articles.selectors import ArticleData
from conduit.comments.selectors import CommentData
from conduit.platform.timefmt import iso_ms
from conduit.profiles.selectors import Profile
from conduit.users.models import User


def image_url(image: str | None) -> str | None:
    """``image`` as the API shows it: a site path (the demo avatars under ``/static/``, uploads
    under a site-relative ``MEDIA_URL``, a user's own ``/...``) becomes an absolute URL on
    ``SITE_URL``, since a front end served from another origin would resolve the path against
    its own host. An absolute URL (a user's ``https://...``, uploads under an absolute
    ``MEDIA_URL`` or on S3) and ``null`` are shown as stored."""
    if image and image[0] == "/" and not image.startswith("//"):
        return f"{settings.SITE_URL}{image}"
    return image


def profile_dict(profile: Profile) -> dict[str, Any]:
    return {
        "username": profile["username"],
        "bio": profile["bio"],
        "image": image_url(profile["image"]),
        "following": profile["following"],
    }


def user_json(user: User, token: str) -> dict[str, Any]:
    return {
        "user": {
            "email": user.email,
            "token": token,
            "username": user.username,
            "bio": user.bio,
            "image": image_url(user.image),
        }
    }


def profile_json(profile: Profile) -> dict[str, Any]:
    return {"profile": profile_dict(profile)}


def article_dict(article: ArticleData) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": article["slug"],
        "title": article["title"],
        "description": article["description"],
    }
    if "body" in article:
        data["body"] = article["body"]
    data.update(
        tagList=article["tagList"],
        createdAt=iso_ms(article["createdAt"]),
        updatedAt=iso_ms(article["updatedAt"]),
        favorited=article["favorited"],
        favoritesCount=article["favoritesCount"],
        author=profile_dict(article["author"]),
    )
    return data


def article_json(article: ArticleData) -> dict[str, Any]:
    return {"article": article_dict(article)}


def articles_json(articles: list[ArticleData], count: int) -> dict[str, Any]:
    return {"articles": [article_dict(a) for a in articles], "articlesCount": count}


# A warm list joins cached, pre-rendered cards instead of building and encoding 20 dictionaries
# (docs/performance.md). A card is rendered once, without the viewer's flags, as three pieces
# around them: ``{..."favorited":`` ``,"favoritesCount":...,"following":`` ``}}``. The bytes
# are what ``ConduitJSONRenderer`` makes of ``articles_json`` (tests/api/test_rendered_lists.py).

CARD_RENDERING = "api-json-2"  # the cache's name for this rendering: change it with the shape


def card_rendering() -> str:
    """The name cached renderings are kept under: the shape's, and the ``SITE_URL`` that the
    authors' image URLs start with (a new ``SITE_URL`` never serves renderings of the old)."""
    return f"{CARD_RENDERING} {settings.SITE_URL}"


_FAVORITED = b',"favorited":false,'
_FOLLOWING = b',"following":false}}'


def article_fragments(card: ArticleData) -> tuple[bytes, bytes, bytes]:
    """``card`` (flags False) as JSON in three pieces, the two flags left out between them."""
    encoded = ConduitJSONRenderer().render(article_dict(card))
    # The first '"favorited":' is the key: a quote inside a string is always escaped. Profile
    # keys come last, so "following" closes the author and the article.
    head, sep, rest = encoded.partition(_FAVORITED)
    mid, sep_end, tail = rest.rpartition(_FOLLOWING)
    if not sep or not sep_end or tail:
        raise ValueError("an article's JSON shape changed: update article_fragments")
    return head + b',"favorited":', b"," + mid + b',"following":', b"}}"


def articles_body(items: list[tuple[tuple[bytes, bytes, bytes], bool, bool]], count: int) -> bytes:
    """``{"articles": [...], "articlesCount": count}`` from fragments and each item's flags."""
    parts = [
        b"".join(
            (head, b"true" if favorited else b"false", mid, b"true" if following else b"false", end)
        )
        for (head, mid, end), favorited, following in items
    ]
    return b'{"articles":[' + b",".join(parts) + b'],"articlesCount":%d}' % count


def comment_dict(comment: CommentData) -> dict[str, Any]:
    return {
        "id": comment["id"],
        "createdAt": iso_ms(comment["createdAt"]),
        "updatedAt": iso_ms(comment["updatedAt"]),
        "body": comment["body"],
        "author": profile_dict(comment["author"]),
    }
