"""The users app's cache keys and their invalidation, which the write services call (ADR 0016).

A leaf module: it imports the platform and this app's models only, so any app's services can
call it without an import cycle. Nothing here runs from a signal (ADR 0001): every write that
changes one of the fields below calls ``user_changed`` or ``user_deleted`` itself.

Three kinds of entries hold a user:

* ``user:<id>``, the signed-in user of token authentication (``selectors.active_user``): id,
  username, its identity key and ``is_active`` (``SIGNED_IN_FIELDS``). Buried when one of
  ``SIGNED_IN_CHANGES`` changes: what it holds, and the credentials.
* ``profile:<id>``, the public profile (username, bio, image) that other apps show beside what
  a user wrote (an article card's author), and ``pname:<digest of the username key>``, the same
  with the id, found by name (a profile page). Both buried when one of ``PROFILE_CHANGES``
  changes; a rename buries the old name's and the new one's.
* ``gen:name:<digest of the username key>``, the generation of every list filtered by that
  username (by author, favorited by). A rename renews the old name's and the new one's.

The counters (``articles_count``, ``followers_count``...) are in none of them, so the services
that move them with a queryset ``.update()`` have nothing to invalidate here.
"""

from collections.abc import Iterable

from conduit.platform.cache import bulk
from conduit.platform.cache.keys import digest
from conduit.users.models import User, identity_key

USER_PREFIX = "user"
PROFILE_PREFIX = "profile"
PROFILE_BY_NAME_PREFIX = "pname"
PROFILE_SECONDS = 3600
NAME_GENERATION_SECONDS: float | None = None  # until evicted: a new one is made then

# What the signed-in entry holds (``selectors.active_user``), in this order: the token version is
# compared with every token's.
SIGNED_IN_FIELDS = ("id", "username", "username_key", "is_active", "token_version")
# The changes that bury it: its fields (``username_key`` follows ``username``) and the
# credentials.
SIGNED_IN_CHANGES = frozenset({"is_active", "username", "password", "email", "token_version"})
PROFILE_CHANGES = frozenset({"username", "bio", "image"})


def user_key(user_id: int) -> str:
    return f"{USER_PREFIX}:{user_id}"


def profile_key(user_id: int) -> str:
    return f"{PROFILE_PREFIX}:{user_id}"


def profile_by_name_key(username_key: str) -> str:
    return f"{PROFILE_BY_NAME_PREFIX}:{digest(username_key)}"


def name_generation(username_key: str) -> str:
    return f"gen:name:{digest(username_key)}"


def invalidate_users(user_ids: Iterable[int]) -> None:
    """These users' signed-in entries are never served again."""
    bulk.bury(user_key(i) for i in user_ids)


def invalidate_profiles(user_ids: Iterable[int], username_keys: Iterable[str] = ()) -> None:
    """These users' public profiles (and whatever was rendered from them) are read again, by id
    and by these names (identity keys)."""
    bulk.bury([*map(profile_key, user_ids), *map(profile_by_name_key, set(username_keys))])


def invalidate_names(username_keys: Iterable[str]) -> None:
    """Lists filtered by these usernames (identity keys) are read again."""
    bulk.renew(dict.fromkeys(map(name_generation, username_keys), NAME_GENERATION_SECONDS))


def user_changed(user: User, *, fields: Iterable[str], old_username_key: str | None = None) -> None:
    """``user``'s ``fields`` changed (``user`` as it is now); a rename passes the old username's
    identity key, whose lists change too."""
    changed = set(fields)
    known = SIGNED_IN_CHANGES | {f.name for f in User._meta.concrete_fields}
    if unknown := changed - known:  # a misspelt field would invalidate nothing
        raise ValueError(f"not fields of User: {sorted(unknown)}")
    if changed & SIGNED_IN_CHANGES:
        invalidate_users([user.pk])
    # From the username: called before the save that derives ``username_key`` from it.
    names = [identity_key(user.username), *([old_username_key] if old_username_key else [])]
    if changed & PROFILE_CHANGES:
        invalidate_profiles([user.pk], username_keys=names)
    if "username" in changed:
        invalidate_names(names)


def user_deleted(user: User) -> None:
    """``user`` is being deleted (called before the delete, which forgets the id): their entries
    go, and the lists filtered by their name (which a new account may take)."""
    invalidate_users([user.pk])
    invalidate_profiles([user.pk], username_keys=[user.username_key])
    invalidate_names([user.username_key])
