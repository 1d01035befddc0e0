"""Reads of public profiles with the viewer's ``following`` flag: through the cache for a
profile page (``profile_get``), in the same query for an author beside a list's rows."""

from collections.abc import Mapping
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import Exists, OuterRef, Value

from conduit.platform.cache import bulk
from conduit.platform.cache.safe import cache
from conduit.platform.exceptions import NotFound
from conduit.platform.validation import storable
from conduit.profiles.invalidation import (
    FOLLOWS_SECONDS,
    RELATIONS_SECONDS,
    follows_key,
    relations_key,
)
from conduit.profiles.models import Follow
from conduit.users.invalidation import profile_by_name_key
from conduit.users.models import User, identity_key
from conduit.users.selectors import profile_by_name


class Profile(TypedDict):
    username: str
    bio: str | None
    image: str | None
    following: bool


# The author's columns of an article or comment row, and the viewer's "following" annotation.
AUTHOR_FIELDS = ("author__username", "author__bio", "author__image", "following")


def author_profile(row: Mapping[str, Any]) -> Profile:
    """The author of an article or comment row selected with ``AUTHOR_FIELDS``."""
    return Profile(
        username=row["author__username"],
        bio=row["author__bio"],
        image=row["author__image"],
        following=bool(row["following"]),
    )


def following_expression(viewer_id: int | None, author_ref: str = "pk") -> Exists | Value:
    """A boolean SQL expression: does ``viewer_id`` follow the user at ``author_ref``?"""
    if viewer_id is None:
        return Value(False)
    return Exists(Follow.objects.filter(follower_id=viewer_id, followee_id=OuterRef(author_ref)))


def profile_first_read(*, username: str, viewer_id: int | None) -> list[str]:
    """The keys ``profile_get`` reads first (none when the cache is off): a view can fetch them
    with its authentication's read (``cache.reading_ahead``)."""
    if not settings.CACHE_ARTICLES or not storable(username):
        return []
    keys = [profile_by_name_key(identity_key(username))]
    return keys if viewer_id is None else [*keys, relations_key(viewer_id)]


def profile_get(*, username: str, viewer_id: int | None) -> Profile:
    """A profile as ``viewer_id`` sees it. Cached: the profile by name (the users app's), and a
    signed-in viewer's ``following`` flag under their relations token, which their every follow
    and favorite replaces (``invalidation.py``): warm, one round trip and a second for the
    flag, no query."""
    first_read = profile_first_read(username=username, viewer_id=viewer_id)
    if not first_read:
        return profile_from_database(username=username, viewer_id=viewer_id)
    found = cache.get_many(first_read)
    named = profile_by_name(username, found)
    following = False
    if viewer_id is not None and viewer_id != named["id"]:
        relations = bulk.tokens({first_read[1]: RELATIONS_SECONDS}, found)[0]
        key = follows_key(viewer_id, relations, named["id"])
        stored = cache.get(key)
        if stored is None:
            following = Follow.objects.filter(
                follower_id=viewer_id, followee_id=named["id"]
            ).exists()
            cache.add_many({key: int(following)}, FOLLOWS_SECONDS)
        else:
            following = bool(stored)
    return Profile(
        username=named["username"], bio=named["bio"], image=named["image"], following=following
    )


def profile_from_database(*, username: str, viewer_id: int | None) -> Profile:
    """``profile_get`` in one query, without the cache (a write reads back what it did)."""
    if not storable(username):
        raise NotFound("profile")
    row = (
        User.objects.filter(username_key=identity_key(username))
        .annotate(following=following_expression(viewer_id))
        .values("username", "bio", "image", "following")
        .first()
    )
    if row is None:
        raise NotFound("profile")
    return Profile(
        username=row["username"],
        bio=row["bio"],
        image=row["image"],
        following=bool(row["following"]),
    )
