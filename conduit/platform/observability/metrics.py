"""Prometheus metrics: the ``/metrics`` view and one middleware that records every request.

``RequestMetricsMiddleware`` (outermost in ``MIDDLEWARE``) observes two histograms per request:
``conduit_http_request_duration_seconds{route, method, status}`` (``method`` one of the usual
seven or ``other``; its ``_count`` is the request
rate, the ``status`` label the error rate, the buckets the latency per route) and
``conduit_db_queries_per_request{route}``, the SQL statements the request ran on the default
database, counted with ``connection.execute_wrapper`` (no extra queries, no ``DEBUG`` query log).
Two observations per request: django-prometheus's middlewares updated a dozen series per request
and cost ~80 µs of the ~100 µs a bare Django response takes here (ADR 0013).

Several granian workers serve one port, so each process holds its own counters. With
``PROMETHEUS_MULTIPROC_DIR`` set (before ``prometheus_client`` is imported: the settings read it
from the environment or ``.env``) every process writes its samples to files there, and ``/metrics``
sums the files of all processes with ``MultiProcessCollector``. The directory must exist and be
emptied when the server starts (stale files from a previous run would otherwise be added in).
"""

import os
import time
from collections.abc import Callable
from typing import Any

import prometheus_client
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, Histogram, multiprocess

from conduit.platform.observability.request_id import route_of

REQUEST_DURATION = Histogram(
    "conduit_http_request_duration_seconds",
    "Time to answer a request, by route name, method and status code.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf")),
)
QUERIES_PER_REQUEST = Histogram(
    "conduit_db_queries_per_request",
    "SQL statements run on the default database per request, by route name.",
    ["route"],
    buckets=(0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100, float("inf")),
)


# The method label takes one of these or "other": a client chooses the method, and every distinct
# label value is a new series kept for the life of the process (and a file per worker in
# multiprocess mode), so an arbitrary one (a 2,000-character method) must not become a label.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str | None) -> str:
    return method if method in KNOWN_METHODS else "other"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _QueryCounter:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        counter = _QueryCounter()
        started = time.perf_counter()
        status = "500"  # an exception escaping the stack is a server error
        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(counter):
                response = self.get_response(request)
            status = str(response.status_code)
            return response
        finally:
            route = route_of(request) or "<unresolved>"
            REQUEST_DURATION.labels(route, method_label(request.method), status).observe(
                time.perf_counter() - started
            )
            QUERIES_PER_REQUEST.labels(route).observe(counter.count)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Every metric in Prometheus's text format; all workers' together in multiprocess mode."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    return HttpResponse(
        prometheus_client.generate_latest(registry),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )
