"""The bare Django reference of ``make bench``: the cheapest JSON response Django can give.

``GET /bench/bare`` returns a copy of a real ``GET /api/articles`` response (20 items), captured by
the benchmark into ``VAR_DIR/bench/bare.json``, as bytes read once per process: no database, no
serialisation, no DRF. It runs behind the same ``MIDDLEWARE`` and the same app server config as the
API, so a scenario's throughput divided by this one is the share left after Django's own request
path. It is routed only when ``BENCH_ENDPOINTS`` is on (config/urls.py), never in production.
"""

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

CONTENT_TYPE = "application/json; charset=utf-8"
_bodies: dict[Path, bytes] = {}


def bare_body_path() -> Path:
    """Where ``make bench`` writes the captured list response."""
    return Path(settings.VAR_DIR) / "bench" / "bare.json"


def bare(request: HttpRequest) -> HttpResponse:
    path = bare_body_path()
    body = _bodies.get(path)
    if body is None:
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            return JsonResponse(
                {"errors": {"bench": [f"no captured body at {path}: make bench writes it"]}},
                status=503,
            )
        _bodies[path] = body  # concurrent first requests may both read it: harmless
    return HttpResponse(body, content_type=CONTENT_TYPE)
