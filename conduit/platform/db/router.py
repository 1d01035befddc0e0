"""Read replicas: the database router and the "stay on the primary" switch (ADR 0017).

Installed only when ``DATABASE_REPLICA_URLS`` configures replicas (``DATABASE_ROUTERS``); without
them Django routes everything to ``default`` and this module costs nothing.

- Writes go to the primary, and so does every read in a transaction on it (a service reads what it
  is about to write) and every read after a write in the same request or task: the first write
  pins the rest of the context to the primary (``pinned``).
- Sessions are always read from the primary: a replica that has not yet replayed a sign-in would
  sign the user out.
- Other reads go to a usable replica (``conduit.platform.db.replicas``), or the primary when none
  is.
- Across requests, ``ReadYourWritesMiddleware`` pins a client that wrote recently.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from conduit.platform.db import replicas

# Set by a write, by ReadYourWritesMiddleware for a recent writer, or by ``use_primary``. The
# middleware restores it after each request; a task or command that writes stays on the primary
# for the rest of its context, which errs on the safe side.
pinned: ContextVar[bool] = ContextVar("conduit_db_pinned", default=False)

PRIMARY_ONLY_APPS = frozenset({"sessions"})


@contextmanager
def use_primary() -> Iterator[None]:
    """Read from the primary inside this block (e.g. a task that must see the latest data)."""
    token = pinned.set(True)
    try:
        yield
    finally:
        pinned.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if pinned.get() or model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        instance = hints.get("instance")
        if instance is not None and instance._state.db:
            # Related rows of an object come from where the object came from.
            return str(instance._state.db)
        return replicas.pick() or DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        pinned.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replicas are copies of the primary: one database

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
