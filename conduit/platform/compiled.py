"""Run a ``.values()`` queryset's SQL again without rebuilding it in the ORM every request.

A profile of the article list (docs/performance.md) showed Django spending more time *building*
the page query (cloning querysets, resolving joins and annotations, compiling SQL: ~0.6 ms) than
PostgreSQL spends running it (~0.3 ms). The query's shape depends only on a few things (which
filter, signed in or not, offset and limit); the rest are parameter values. So each shape is
built once through the ORM with sentinel values, compiled, and kept (a small LRU per process); a
request then only substitutes its values for the sentinels and executes the SQL.

The ORM stays the single source of the query: nothing here writes SQL, and a shape whose sentinels
do not come out as plain parameters is refused at compile time. PostgreSQL only (its driver
returns typed values that need no Django converters); other databases run the queryset as usual.
"""

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from threading import Lock
from typing import Any

from django.db import connection, connections, router
from django.db.models import Model, QuerySet

SENTINEL_INT = -7_340_021_923  # never a real id
SENTINEL_STR = "\x1fconduit:parameter\x1f"  # never a real tag or username


@dataclass(frozen=True)
class _Compiled:
    model: type[Model]
    sql: str
    params: tuple[Any, ...]
    int_slots: tuple[int, ...]
    str_slots: tuple[int, ...]


class CompiledValuesQuery:
    """``build(number=..., text=..., **shape)`` returns a ``.values()`` queryset; ``rows(shape,
    number=..., text=...)`` runs it, compiling each shape once.

    ``number`` and ``text`` are the two per-request values (e.g. the viewer's id and a filter);
    ``json_fields`` are decoded from their JSON text, as Django's JSONField would.
    """

    def __init__(
        self,
        build: Callable[..., QuerySet[Any]],
        *,
        json_fields: tuple[str, ...] = (),
        maxsize: int = 256,
    ) -> None:
        self._build = build
        self._json_fields = json_fields
        self._maxsize = maxsize
        self._cache: OrderedDict[Hashable, _Compiled] = OrderedDict()
        self._lock = Lock()

    def rows(
        self, *, number: int | None, text: str | None, **shape: Hashable
    ) -> list[dict[str, Any]]:
        if connection.vendor != "postgresql":
            return list(self._build(number=number, text=text, **shape))
        compiled = self._compiled(shape, uses_number=number is not None, uses_text=text is not None)
        params = list(compiled.params)
        for slot in compiled.int_slots:
            params[slot] = number
        for slot in compiled.str_slots:
            params[slot] = text
        # Routed like the queryset it came from: a read replica when the router says so.
        with connections[router.db_for_read(compiled.model)].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            names = [column.name for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            for name in self._json_fields:
                if isinstance(row[name], str):
                    row[name] = json.loads(row[name])
        return rows

    def _compiled(
        self, shape: dict[str, Hashable], *, uses_number: bool, uses_text: bool
    ) -> _Compiled:
        key = (tuple(sorted(shape.items())), uses_number, uses_text, connection.alias)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        queryset = self._build(
            number=SENTINEL_INT if uses_number else None,
            text=SENTINEL_STR if uses_text else None,
            **shape,
        )
        sql, params = queryset.query.sql_with_params()
        int_slots = tuple(i for i, p in enumerate(params) if p == SENTINEL_INT)
        str_slots = tuple(i for i, p in enumerate(params) if p == SENTINEL_STR)
        if (uses_number and not int_slots) or (uses_text and not str_slots):
            raise ValueError(f"a value of shape {shape} did not compile to a query parameter")
        if str(SENTINEL_INT) in sql or SENTINEL_STR in sql:
            raise ValueError(f"a value of shape {shape} was inlined into the SQL")
        compiled = _Compiled(queryset.model, sql, tuple(params), int_slots, str_slots)
        with self._lock:
            self._cache[key] = compiled
            while len(self._cache) > self._maxsize:
                self._cache.popitem(last=False)
        return compiled
