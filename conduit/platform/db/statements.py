"""A write the ORM cannot say in one statement, run as one on PostgreSQL (ADR 0025).

A favorite or a follow inserts (or deletes) one row and moves the counters that count it. Said
through the ORM that is a transaction of four statements and two more round trips (``BEGIN``,
``COMMIT``), and the counted rows stay locked from their ``UPDATE`` to the commit, across the
round trips in between. One data-modifying ``WITH`` statement does it all in autocommit: one round
trip, and a row lock held for the statement and its commit only. SQLite (the embedded default)
has no data-modifying ``WITH``; its callers keep the ORM path, which the test suite runs too.
"""

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model


def one_statement(model: type[Model]) -> bool:
    """Whether writes to ``model``'s database can take the one-statement path."""
    return connections[router.db_for_write(model)].vendor == "postgresql"


def sql(template: str, **models: type[Model]) -> str:
    """``template`` with each ``{name}`` replaced by the quoted table of ``models[name]``: the
    statement is a constant, its table names come from the models."""
    tables = {}
    for name, model in models.items():
        connection = connections[router.db_for_write(model)]
        tables[name] = connection.ops.quote_name(model._meta.db_table)
    return template.format(**tables)


def write_rows(
    model: type[Model],
    sql: str,
    params: Mapping[str, Any] | Sequence[Any],
    *,
    json_fields: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Run ``sql`` on the database ``model`` is written to; its rows as dicts (``json_fields``
    decoded: ``dict_rows``). Through Django's cursor, so query logging,
    ``django_assert_num_queries`` and the transaction in force (a caller's ``atomic``, else
    autocommit) apply."""
    connection = connections[router.db_for_write(model)]
    prepared = getattr(connection, "statement_cursor", None)  # PostgreSQL: prepared on its server
    with prepared() if prepared else connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict_rows(cursor, json_fields) if cursor.description is not None else []


def dict_rows(cursor: Any, json_fields: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """An executed cursor's rows as dicts, the ``json_fields`` decoded from their JSON text as
    Django's JSONField would (Django's cursor hands PostgreSQL's jsonb over as text)."""
    names = [column[0] for column in cursor.description]  # DB-API: a column starts with its name
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for name in json_fields:
            if isinstance(row[name], str):
                row[name] = json.loads(row[name])
    return rows


def instance_of[M: Model](model: type[M], row: dict[str, Any], alias: str) -> M:
    """A ``model`` instance of a row read or returned as a dict (``attname`` -> value), as the
    ORM would have loaded it from ``alias``: the fields the row lacks are deferred."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in row]
    return model.from_db(alias, names, [row[name] for name in names])


def savepoint_if_nested(model: type[Model]) -> AbstractContextManager[Any]:
    """Around a one-statement write whose error the caller turns into the user's error: nothing
    in autocommit (the statement is its own transaction), a savepoint inside a caller's
    transaction (so that the caller's transaction can go on after the error)."""
    connection = connections[router.db_for_write(model)]
    if connection.in_atomic_block:
        return transaction.atomic(using=connection.alias)
    return nullcontext()
