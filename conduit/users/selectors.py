from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from django.conf import settings

from conduit.platform.cache import bulk
from conduit.platform.exceptions import NotFound
from conduit.platform.validation import storable
from conduit.users.invalidation import PROFILE_PREFIX, PROFILE_SECONDS
from conduit.users.models import User, identity_key


def user_get_by_username(username: str) -> User:
    """The user with this username, ignoring case (served by the case-insensitive unique index)."""
    user = (
        User.objects.filter(username_key=identity_key(username)).first()
        if storable(username)
        else None
    )
    if user is None:
        raise NotFound("profile")
    return user


def user_find_by_email(email: str) -> User | None:
    if not storable(email):
        return None
    return User.objects.filter(email_key=identity_key(email.strip())).first()


def username_taken(username: str, *, exclude_pk: int | None = None) -> bool:
    qs = User.objects.filter(username_key=identity_key(username))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    qs = User.objects.filter(email_key=identity_key(email))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


# --- Public profiles, through the cache (ADR 0016) --------------------------------------------


class PublicProfile(TypedDict):
    """What everybody sees of a user: an article's or comment's author, without the viewer's
    ``following`` flag (the profiles app's)."""

    username: str
    bio: str | None
    image: str | None


def _load_profiles(ids: list[int]) -> dict[int, PublicProfile]:
    rows = User.objects.filter(pk__in=ids).values("pk", "username", "bio", "image")
    return {
        row["pk"]: PublicProfile(username=row["username"], bio=row["bio"], image=row["image"])
        for row in rows
    }


PUBLIC_PROFILES: bulk.Family[int, PublicProfile] = bulk.Family(
    PROFILE_PREFIX, _load_profiles, PROFILE_SECONDS
)


def public_profiles(
    ids: Iterable[int], found: Mapping[str, Any] | None = None
) -> dict[int, PublicProfile]:
    """The public profiles of the users ``ids`` that exist, through the cache (``found``: what a
    read that included their keys returned)."""
    ids = list(dict.fromkeys(ids))
    if not settings.CACHE_ARTICLES:
        return _load_profiles(ids)
    return bulk.fetch(PUBLIC_PROFILES, ids, found)
