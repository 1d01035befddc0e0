"""The bare Django references of ``make bench``: the cheapest read and write Django can serve.

``GET /bench/bare`` returns a copy of a real ``GET /api/articles`` response (20 items), captured by
the benchmark into ``VAR_DIR/bench/bare.json``, as bytes read once per process: no database, no
serialisation, no DRF. It runs behind the same ``MIDDLEWARE`` and the same app server config as the
API, so a scenario's throughput divided by this one is the share left after Django's own request
path.

``POST /bench/bare-write`` is the write path's analogue: one transaction on the default database
with one INSERT of a row and one counter ``UPDATE ... SET n = n + 1`` on one of 1,000 counter rows
chosen at random, and a small JSON answer (201). Its two tables are not the product's: the bench
runner creates them with raw SQL before a run and drops them after (tools/bench/benchkit/
bare_write.py), so no migration knows them; without them the view says so (503).

Both are routed only when ``BENCH_ENDPOINTS`` is on (config/urls.py), never in production.
"""

import random
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

CONTENT_TYPE = "application/json; charset=utf-8"
_bodies: dict[Path, bytes] = {}

WRITE_ROWS = "bench_write_row"
WRITE_COUNTERS = "bench_write_counter"
WRITE_COUNTER_ROWS = 1_000
_INSERT = f"INSERT INTO {WRITE_ROWS} (counter_id, created_at) VALUES (%s, %s)"  # noqa: S608 - constants
_UPDATE = f"UPDATE {WRITE_COUNTERS} SET n = n + 1 WHERE id = %s"  # noqa: S608 - constants


def bare_body_path() -> Path:
    """Where ``make bench`` writes the captured list response."""
    return Path(settings.VAR_DIR) / "bench" / "bare.json"


def _unavailable(message: str) -> JsonResponse:
    return JsonResponse({"errors": {"bench": [message]}}, status=503)


def bare(request: HttpRequest) -> HttpResponse:
    path = bare_body_path()
    body = _bodies.get(path)
    if body is None:
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            return _unavailable(f"no captured body at {path}: make bench writes it")
        _bodies[path] = body  # concurrent first requests may both read it: harmless
    return HttpResponse(body, content_type=CONTENT_TYPE)


class _NoCounterRow(Exception):
    pass


@csrf_exempt
@require_POST
def bare_write(request: HttpRequest) -> HttpResponse:
    counter = random.randint(1, WRITE_COUNTER_ROWS)  # noqa: S311 - spreads the load, not a secret
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_INSERT, [counter, timezone.now()])
            cursor.execute(_UPDATE, [counter])
            if cursor.rowcount != 1:
                raise _NoCounterRow  # rolls the INSERT back
    except _NoCounterRow:
        return _unavailable(f"{WRITE_COUNTERS} has no row {counter}: make bench fills it")
    except DatabaseError:
        if _tables_exist():
            raise
        return _unavailable(f"no {WRITE_ROWS} or {WRITE_COUNTERS} table: make bench creates them")
    return JsonResponse({"written": {"counter": counter}}, status=201)


def _tables_exist() -> bool:
    """Asked only after a failed write: the happy path stays two statements."""
    with connection.cursor() as cursor:
        names = set(connection.introspection.table_names(cursor))
    return {WRITE_ROWS, WRITE_COUNTERS} <= names
