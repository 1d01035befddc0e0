"""Reads of public profiles, with the viewer's ``following`` flag in the same query."""

from collections.abc import Mapping
from typing import Any, TypedDict

from django.db.models import Exists, OuterRef, Value

from conduit.platform.exceptions import NotFound
from conduit.platform.validation import storable
from conduit.profiles.models import Follow
from conduit.users.models import User, identity_key


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


def profile_get(*, username: str, viewer_id: int | None) -> Profile:
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
