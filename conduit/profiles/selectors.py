"""Reads of public profiles, with the viewer's ``following`` flag in the same query."""

from typing import TypedDict

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


PROFILE_FIELDS = ("id", "username", "bio", "image")


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


def followed_ids(*, follower_id: int) -> list[int]:
    return list(
        Follow.objects.filter(follower_id=follower_id).values_list("followee_id", flat=True)
    )
