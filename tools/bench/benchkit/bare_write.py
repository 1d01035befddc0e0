"""The ``bare_write`` reference's two tables (conduit/platform/http/bench.py), made with raw SQL
before a run and dropped after it, so that no migration of the product knows them: a row table
the view INSERTs into and ``WRITE_COUNTER_ROWS`` counter rows it increments. ``drop`` runs at
the start too, for a run that was interrupted. Django must be set up."""

from __future__ import annotations


def create() -> None:
    """The tables, new (an earlier run's are dropped first), with every counter at 0."""
    from django.db import connection, transaction

    from conduit.platform.http.bench import WRITE_COUNTER_ROWS, WRITE_COUNTERS, WRITE_ROWS

    drop()
    serial = "bigserial" if connection.vendor == "postgresql" else "integer"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {WRITE_ROWS} (id {serial} PRIMARY KEY, "
            "counter_id integer NOT NULL, created_at timestamp with time zone NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {WRITE_COUNTERS} (id integer PRIMARY KEY, "
            "n bigint NOT NULL)"
        )
        cursor.executemany(
            f"INSERT INTO {WRITE_COUNTERS} (id, n) VALUES (%s, 0)",  # noqa: S608 - constants
            [(n,) for n in range(1, WRITE_COUNTER_ROWS + 1)],
        )


def drop() -> None:
    from django.db import connection

    from conduit.platform.http.bench import WRITE_COUNTERS, WRITE_ROWS

    with connection.cursor() as cursor:
        for table in (WRITE_ROWS, WRITE_COUNTERS):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
