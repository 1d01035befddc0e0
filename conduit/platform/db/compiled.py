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

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from threading import Lock
from typing import Any

from django.db import connection, connections, router
from django.db.models import Field, ForeignObject, Lookup, Model, QuerySet

from conduit.platform.db.statements import dict_rows

SENTINEL_INT = -7_340_021_923  # never a real id
SENTINEL_STR = "\x1fconduit:parameter\x1f"  # never a real tag or username


def _sentinel_list(index: int) -> list[int]:
    return [SENTINEL_INT - 1 - index]  # the i-th id-list value: never a real id either


class AnyOf(Lookup):
    """``field__any_of=[ids]``: one array parameter (``= ANY(%s)``) on PostgreSQL, so a query's
    SQL does not depend on how many ids it is given and compiles once; ``IN (...)`` elsewhere."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "1 = 0", ()
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # related fields keep lookups of their own


@dataclass(frozen=True)
class _Compiled:
    model: type[Model]
    sql: str
    params: tuple[Any, ...]
    int_slots: tuple[int, ...]
    str_slots: tuple[int, ...]
    list_slots: tuple[tuple[int, int], ...]  # (parameter position, index in ``lists``)


class CompiledValuesQuery:
    """``build(number=..., text=..., **shape)`` returns a ``.values()`` queryset; ``rows(shape,
    number=..., text=...)`` runs it, compiling each shape once.

    ``number`` and ``text`` are the two per-request values (e.g. the viewer's id and a filter);
    ``lists`` are lists of ids, passed to ``build`` as ``lists=`` only when given (each used with
    ``__any_of``); ``json_fields`` are decoded from their JSON text, as Django's JSONField would.
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
        self,
        *,
        number: int | None,
        text: str | None,
        lists: tuple[list[int], ...] = (),
        **shape: Hashable,
    ) -> list[dict[str, Any]]:
        if connection.vendor != "postgresql":
            extra: dict[str, Any] = {"lists": lists} if lists else {}
            return list(self._build(number=number, text=text, **extra, **shape))
        compiled = self._compiled(
            shape, uses_number=number is not None, uses_text=text is not None, lists=len(lists)
        )
        params = list(compiled.params)
        for slot in compiled.int_slots:
            params[slot] = number
        for slot in compiled.str_slots:
            params[slot] = text
        for slot, index in compiled.list_slots:
            params[slot] = list(lists[index])
        # Routed like the queryset it came from: a read replica when the router says so.
        with connections[router.db_for_read(compiled.model)].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return dict_rows(cursor, self._json_fields)

    def _compiled(
        self, shape: dict[str, Hashable], *, uses_number: bool, uses_text: bool, lists: int = 0
    ) -> _Compiled:
        key = (tuple(sorted(shape.items())), uses_number, uses_text, lists, connection.alias)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        extra: dict[str, Any] = (
            {"lists": tuple(_sentinel_list(i) for i in range(lists))} if lists else {}
        )
        queryset = self._build(
            number=SENTINEL_INT if uses_number else None,
            text=SENTINEL_STR if uses_text else None,
            **extra,
            **shape,
        )
        sql, params = queryset.query.sql_with_params()
        int_slots = tuple(i for i, p in enumerate(params) if p == SENTINEL_INT)
        str_slots = tuple(i for i, p in enumerate(params) if p == SENTINEL_STR)
        list_slots = tuple(
            (i, index)
            for i, p in enumerate(params)
            for index in range(lists)
            if p == _sentinel_list(index)
        )
        if (uses_number and not int_slots) or (uses_text and not str_slots):
            raise ValueError(f"a value of shape {shape} did not compile to a query parameter")
        if {index for _, index in list_slots} != set(range(lists)):
            raise ValueError(f"an id list of shape {shape} did not compile to an array parameter")
        if str(SENTINEL_INT)[:-1] in sql or SENTINEL_STR in sql:
            raise ValueError(f"a value of shape {shape} was inlined into the SQL")
        compiled = _Compiled(queryset.model, sql, tuple(params), int_slots, str_slots, list_slots)
        with self._lock:
            self._cache[key] = compiled
            while len(self._cache) > self._maxsize:
                self._cache.popitem(last=False)
        return compiled
