"""Domain data to RealWorld JSON. Plain dictionaries, not serializers: the shapes are fixed and
this is the hot path of every list (see ADR 0003)."""

from typing import Any

from django.conf import settings

from conduit.articles.selectors import ArticleData
from conduit.comments.selectors import CommentData
from conduit.platform.http.assets import host_for
from conduit.platform.timefmt import iso_ms
from conduit.profiles.selectors import Profile
from conduit.users.models import User


def image_url(image: str | None) -> str | None:
    """``image`` as the API shows it: a site path (the demo avatars under ``/static/``, uploads
    under a site-relative ``MEDIA_URL``, a user's own ``/...``) becomes an absolute URL, since a
    front end served from another origin would resolve the path against its own host. It is
    shown on the CDN when ``STATIC_URL`` or ``MEDIA_URL`` names one and the path is under it (an
    upload made before the CDN was set), else on ``SITE_URL``. An absolute URL (a user's
    ``https://...``, uploads under an absolute ``MEDIA_URL`` or on S3) and ``null`` are shown as
    stored."""
    if image and image[0] == "/" and not image.startswith("//"):
        host = host_for(
            image,
            site_url=settings.SITE_URL,
            static_url=settings.STATIC_URL,
            media_url=settings.MEDIA_URL,
        )
        return f"{host}{image}"
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


def comment_dict(comment: CommentData) -> dict[str, Any]:
    return {
        "id": comment["id"],
        "createdAt": iso_ms(comment["createdAt"]),
        "updatedAt": iso_ms(comment["updatedAt"]),
        "body": comment["body"],
        "author": profile_dict(comment["author"]),
    }
