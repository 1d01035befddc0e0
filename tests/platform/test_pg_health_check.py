"""The PostgreSQL health check (``conduit/platform/db/postgresql``): an idle connection is usable
without a round trip, a connection the server closed is not, and anything else on the socket is
left to Django's ``SELECT 1``."""

import select
import time
from unittest import mock

import psycopg
import pytest
from django.db import connection

from conduit.platform.db.postgresql.base import DatabaseWrapper, check_pooled

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


def _other_connection() -> psycopg.Connection:
    return psycopg.connect(**connection.get_connection_params(), autocommit=True)


def _wait_readable(raw: psycopg.Connection) -> None:
    readable: list[int] = []
    deadline = time.monotonic() + 5
    while not readable and time.monotonic() < deadline:
        readable, _, _ = select.select([raw.fileno()], [], [], 0.1)
    assert readable, "the server said nothing on the socket"


def _counting_cursors(raw: psycopg.Connection) -> tuple[list[str], mock._patch]:
    sent: list[str] = []
    original = raw.cursor

    def cursor(*args, **kwargs):
        sent.append("cursor")
        return original(*args, **kwargs)

    return sent, mock.patch.object(raw, "cursor", cursor)


def test_an_idle_connection_is_usable_without_a_statement():
    connection.ensure_connection()
    sent, patch = _counting_cursors(connection.connection)
    with patch:
        assert connection.is_usable()
    assert sent == []


def test_a_connection_the_server_ended_is_not_usable_and_the_next_request_reconnects():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with _other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_readable(connection.connection)
    assert not connection.is_usable()
    # What Django does at a request's first query (CONN_HEALTH_CHECKS): close, then reconnect.
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_something_else_to_read_is_left_to_select_1():
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("LISTEN conduit_health_check")
    if not raw.autocommit:
        raw.commit()
    with _other_connection() as other:
        other.execute("NOTIFY conduit_health_check")
    _wait_readable(raw)
    sent, patch = _counting_cursors(raw)
    with patch:
        assert connection.is_usable()
    assert sent == ["cursor"]  # Django's SELECT 1, which found the connection alive
    with raw.cursor() as cursor:
        cursor.execute("UNLISTEN *")


def test_the_pool_checks_the_socket_first():
    with _other_connection() as pooled:
        sent, patch = _counting_cursors(pooled)
        with patch, mock.patch.object(pooled, "execute", wraps=pooled.execute) as execute:
            check_pooled(pooled)
        assert sent == []
        assert execute.call_count == 0
        pid = pooled.info.backend_pid
        with _other_connection() as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        _wait_readable(pooled)
        with pytest.raises(psycopg.OperationalError):
            check_pooled(pooled)


def test_a_pooled_connection_is_checked_by_the_socket():
    settings = {**connection.settings_dict, "CONN_MAX_AGE": 0, "OPTIONS": {"pool": {"min_size": 1}}}
    wrapper = DatabaseWrapper(settings, alias="pool_check")
    assert wrapper.settings_dict["OPTIONS"]["pool"]["check"] is check_pooled
    assert "check" not in settings["OPTIONS"]["pool"]  # the settings themselves are left alone
