"""The signed-in user through the cache, for token authentication (ADR 0004, ADR 0016).

A request with a token reads its user on every call; with the article lists served from the
cache that read was half of the database work of a warm signed-in list. So the active user is
kept as ``user:<id>`` in ``conduit.platform.cache.safe.cache`` (``SafeCache``: an outage is a miss,
a lost invalidation renews the epoch), and *every* change of the row invalidates it:

* ``post_save`` / ``post_delete`` on ``User`` (connected in ``UsersConfig.ready``), which covers
  sign-in, profile and password changes, deactivation and erasure (a queryset ``.delete()``
  sends them too while a receiver is connected);
* the write services that change user rows with a queryset ``.update()`` (counters) call
  ``invalidate_users`` themselves: ``.update()`` sends no signal.

As for article cards (conduit/articles/invalidation.py), an invalidation writes a short-lived
*tombstone*, at once and again on commit, and a read fills the entry with "add" only when it saw
no tombstone: a reader that read the row before a deactivation committed cannot put the active
user back. Only active users are stored, without their password hash (deferred: loaded from the
database if a request needs it). With ``CACHE_ARTICLES`` off the row is read each time.
"""

import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction

from conduit.platform.cache.safe import cache
from conduit.users.models import User

USER_SECONDS = 300
TOMBSTONE_SECONDS = 5
_TOMBSTONE = "\x00gone:"


def _key(user_id: int) -> str:
    return f"user:{user_id}"


def active_user(user_id: int) -> User | None:
    """The active user with this id, or None (unknown, deleted or deactivated)."""
    if not settings.CACHE_ARTICLES:
        return _load(user_id)
    key = _key(user_id)
    stored = cache.get(key)
    if isinstance(stored, User):
        return stored
    user = _load(user_id)
    if user is not None and stored is None:
        cache.add_many({key: user}, USER_SECONDS)
    return user


def _load(user_id: int) -> User | None:
    # Without the password hash: the cached copy (in Redis, on the network) never holds it. The
    # rare request that needs it (erasure checks the password) loads it on access, and saving a
    # user with the hash deferred writes only the loaded fields.
    return User.objects.filter(pk=user_id, is_active=True).defer("password").first()


def invalidate_users(user_ids: Iterable[int]) -> None:
    """These users' rows changed: never serve the cached ones again."""
    keys = [_key(i) for i in user_ids]
    if not keys:
        return

    def bury() -> None:
        cache.set_many(dict.fromkeys(keys, _TOMBSTONE + secrets.token_hex(6)), TOMBSTONE_SECONDS)

    bury()
    transaction.on_commit(bury, robust=True)


def user_changed(sender: type[User], instance: User, **kwargs: Any) -> None:
    """``post_save`` / ``post_delete`` receiver (cache invalidation only, no domain logic)."""
    if instance.pk is not None:
        invalidate_users([instance.pk])
