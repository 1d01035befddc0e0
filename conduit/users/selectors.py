"""Reads of users: lookups by name or email, the signed-in user of token authentication and the
public profiles (both through the cache), and the signed-in user's own account (from the
database)."""

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from django.conf import settings

from conduit.platform.cache import bulk
from conduit.platform.cache.keys import digest
from conduit.platform.exceptions import NotFound
from conduit.platform.validation import storable
from conduit.users.invalidation import (
    PROFILE_BY_NAME_PREFIX,
    PROFILE_PREFIX,
    PROFILE_SECONDS,
    SIGNED_IN_FIELDS,
    USER_PREFIX,
)
from conduit.users.models import User, identity_key

# --- The signed-in user (ADR 0004, ADR 0016) --------------------------------------------------
# A request with a token reads its user on every call, so the active user is cached as
# ``user:<id>``, holding only what authentication and the services a signed-in request calls
# with it read (``invalidation.SIGNED_IN_FIELDS``): the id (access, the request log),
# ``is_active``, the token version (compared with the token's: revocation, ADR 0004), the
# username and its identity key (a favorite names the user's favorites list). No counters,
# so the services that move them need not invalidate it, and no password
# hash: the cache may sit on the network, and the one API request that checks the password
# (erasure) loads it from the database on access. The other fields are deferred the same way;
# a view that shows them reads ``user_account``. Invalidated by ``conduit.users.invalidation``
# (tombstones via ``bulk``); only active users are stored, so a deactivation is seen at once.
# With ``CACHE_ARTICLES`` off the user is read each time.

SIGNED_IN_SECONDS = 300


def _load_signed_in(ids: list[int]) -> dict[int, dict[str, Any]]:
    # The whole account but the password hash, though only SIGNED_IN_FIELDS are kept: a request
    # that missed the cache then has its account already (``user_account``), in this one query.
    rows = User.objects.filter(pk__in=ids, is_active=True).values(*ACCOUNT_FIELDS)
    return {row["id"]: row for row in rows}


def _signed_in_fields(row: Any) -> Any:
    return tuple(row[name] for name in SIGNED_IN_FIELDS)


ACCOUNT_FIELDS = [f.attname for f in User._meta.concrete_fields if f.attname != "password"]
# The entries are tuples in the order of SIGNED_IN_FIELDS: an entry of another shape (the fields
# changed, and the release prefix did not) is a miss.
_SHAPE = ",".join(SIGNED_IN_FIELDS)
_signed_in: bulk.Family[int, Any] = bulk.Family(
    USER_PREFIX, _load_signed_in, SIGNED_IN_SECONDS, version=lambda: _SHAPE, keep=_signed_in_fields
)


def active_user(user_id: int) -> User | None:
    """The active user with this id, or None (unknown, deleted or deactivated): a ``User`` with
    ``SIGNED_IN_FIELDS`` loaded (the whole account when it was just read from the database) and
    the rest deferred, built afresh for each caller."""
    if settings.CACHE_ARTICLES:
        row = bulk.fetch(_signed_in, [user_id]).get(user_id)
    else:
        row = _load_signed_in([user_id]).get(user_id)
    if row is None:
        return None
    values = row if isinstance(row, dict) else dict(zip(SIGNED_IN_FIELDS, row, strict=True))
    names = [f.attname for f in User._meta.concrete_fields if f.attname in values]
    # No database: the router picks one if a deferred field is loaded or the user is saved.
    return User.from_db(None, names, [values[name] for name in names])


def user_account(user: User) -> User:
    """The signed-in ``user``'s own account, everything but the password hash: what ``GET
    /api/user`` shows and ``user_update`` changes. The user itself when authentication read it
    from the database just now; else one query (the cached signed-in user holds less)."""
    if not set(ACCOUNT_FIELDS) & user.get_deferred_fields():
        return user
    account = User.objects.defer("password").filter(pk=user.pk).first()
    if account is None:
        raise NotFound("user")  # deleted since authentication
    return account


# --- Lookups ------------------------------------------------------------------------------------


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


class NamedProfile(PublicProfile):
    """A public profile with the user's id: what a profile page finds by name."""

    id: int


def _load_profiles_by_name(keys: list[str]) -> dict[str, NamedProfile]:
    rows = User.objects.filter(username_key__in=keys).values(
        "pk", "username_key", "username", "bio", "image"
    )
    return {
        row["username_key"]: NamedProfile(
            id=row["pk"], username=row["username"], bio=row["bio"], image=row["image"]
        )
        for row in rows
    }


PROFILES_BY_NAME: bulk.Family[str, NamedProfile] = bulk.Family(
    PROFILE_BY_NAME_PREFIX, _load_profiles_by_name, PROFILE_SECONDS, ident=digest
)


def profile_by_name(username: str, found: Mapping[str, Any] | None = None) -> NamedProfile:
    """The public profile and id of the user with this username (any case), through the cache
    (``found``: what a read that included ``profile_by_name_key`` returned)."""
    key = identity_key(username) if storable(username) else None
    if key is None:
        raise NotFound("profile")
    if settings.CACHE_ARTICLES:
        profile = bulk.fetch(PROFILES_BY_NAME, [key], found).get(key)
    else:
        profile = _load_profiles_by_name([key]).get(key)
    if profile is None:
        raise NotFound("profile")
    return profile


def user_by_username(username: str) -> User:
    """The user with this username (any case) as a write names them (a follow's followee):
    found through the cached profile by name, so the instance holds only the id, username, bio
    and image. A name renamed or erased is buried there first (``invalidation.py``)."""
    named = profile_by_name(username)
    return User(pk=named["id"], username=named["username"], bio=named["bio"], image=named["image"])
