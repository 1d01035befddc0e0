"""Django's PostgreSQL backend, with a health check that costs no round trip when it can.

Django checks a persistent connection before a request first uses it (``CONN_HEALTH_CHECKS``) by
sending ``SELECT 1``, and its psycopg pool checks a connection it hands out with an empty query:
a round trip to PostgreSQL in every request, as much as a favorite's whole write (ADR 0017). A
connection that is idle between requests has nothing to read, and a server that goes away (a
restart, a failover, a terminated backend, a proxy closing its side) says so on the socket first:
a ``FATAL`` message and the end of the stream. So both checks look at the socket without waiting:
nothing to read is a connection as usable as the query would find it; anything to read (that
goodbye, or a notice) falls back to the query, which reads it and fails or succeeds. A server that
vanished without closing its side fails the request's first statement either way, as the query
would have waited on it.
"""

import select
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper
from psycopg_pool import ConnectionPool

from conduit.platform.observability import cursors


def open_and_idle(connection: psycopg.Connection[Any]) -> bool | None:
    """From the socket alone: False for a closed connection, True for an open one with nothing
    to read, None when there is something to read (only a query can tell)."""
    if connection.closed or connection.broken:
        return False
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):  # the descriptor is gone
        return False
    return None if readable else True


def check_pooled(connection: psycopg.Connection[Any]) -> None:
    """The pool's ``check``: return quietly for a usable connection, else raise."""
    state = open_and_idle(connection)
    if state is None:
        ConnectionPool.check_connection(connection)
    elif not state:
        raise psycopg.OperationalError("the connection is closed")


# psycopg's count of runs before it prepares a statement by itself: never, in practice.
ONLY_WHEN_ASKED = 2**31 - 1


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, settings_dict: dict[str, Any], alias: str = DEFAULT_DB_ALIAS) -> None:
        pool = settings_dict.get("OPTIONS", {}).get("pool")
        if pool and settings_dict.get("CONN_HEALTH_CHECKS"):
            options = {} if pool is True else dict(pool)
            options.setdefault("check", check_pooled)
            with_check = {**settings_dict["OPTIONS"], "pool": options}
            settings_dict = {**settings_dict, "OPTIONS": with_check}
        super().__init__(settings_dict, alias)

    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        state = open_and_idle(self.connection)
        return super().is_usable() if state is None else state

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if params.get("prepare_threshold") is None and not self._pgbouncer():
            # Django turns psycopg's prepared statements off (None) for the poolers' sake; only
            # ``statement_cursor`` asks for them, and its statements only: Django's own cursors
            # bind on the client, which never prepares.
            params["prepare_threshold"] = ONLY_WHEN_ASKED
        return params

    def _pgbouncer(self) -> bool:
        return bool(self.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"))

    def statement_cursor(self) -> CursorWrapper:
        """A cursor for the one-statement writes (``conduit/platform/db/statements.py``): it binds
        the parameters on the server and prepares each statement on its connection the first
        time, so the next run of the same write skips its parsing and planning (the publish's
        planning is 0.15-0.2 ms, a third of its execution). Django's other cursors bind on the
        client and prepare nothing, as Django's backend sets them up. Behind pgbouncer in
        transaction mode (``DISABLE_SERVER_SIDE_CURSORS``, which ``DATABASE_PGBOUNCER`` sets) the
        next transaction may run on another server connection, which never saw the statement:
        that cursor is Django's own. As ``cursor()``: checked, connected, logged."""
        if self._pgbouncer():
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            raw = cursors.cursor_class(PreparingCursor)(self.connection)  # traced, if on
        self.validate_thread_sharing()  # then wrapped as Django wraps its own (``_prepare_cursor``)
        wrap = self.make_debug_cursor if self.queries_logged else self.make_cursor
        return wrap(raw)  # type: ignore[arg-type]  # django-stubs: the raw cursor, not a wrapper


class PreparingCursor(psycopg.Cursor[Any]):
    """psycopg's cursor (server-side binding), preparing by default; Django's cursor wrapper
    calls ``execute(sql, params)``."""

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        options.setdefault("prepare", True)  # psycopg keeps up to 100 per connection, by use
        return super().execute(query, params, **options)
