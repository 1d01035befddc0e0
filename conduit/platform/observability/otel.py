"""What tracing sets up when it is on (ADR 0037); imported only then (``tracing.py``).

* A tracer provider named ``OTEL_SERVICE_NAME`` (default ``conduit-<kind>``), whose sampler is the
  SDK's choice from ``OTEL_TRACES_SAMPLER``/``OTEL_TRACES_SAMPLER_ARG`` (default: parent-based
  always-on) behind :class:`DropClientRoots`.
* A batch span processor exporting OTLP over HTTP/protobuf (``OTEL_EXPORTER_OTLP_*`` and
  ``OTEL_BSP_*`` tune it): spans are sent from a background thread, never on the request path.
* The Django, psycopg, Redis and Celery instrumentations. Celery's carries the trace context in
  each message's headers, so a request and the tasks it enqueues are one trace.
* :func:`add_trace_ids`, a structlog processor the settings add: the JSON log lines written
  inside a sampled span carry its ``trace_id`` and ``span_id``.
"""

import os
from collections.abc import MutableMapping, Sequence
from typing import Any

from django.conf import settings
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.psycopg import (
    PsycopgInstrumentor,
    _new_cursor_factory,  # the instrumentation's own traced cursor class, on another base
)
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from conduit.platform.observability import cursors
from conduit.platform.observability.logs import RedactCapabilities

# The probes and the scrape: every few seconds from the orchestrator and Prometheus, and nothing
# to learn from their traces. OTEL_PYTHON_DJANGO_EXCLUDED_URLS replaces the list.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"

_provider: TracerProvider | None = None


def setup(kind: str) -> None:
    """Once per process: the provider, exporting over OTLP, and the libraries instrumented."""
    if _provider is None:
        install(kind, BatchSpanProcessor(OTLPSpanExporter()))


def flush(timeout_ms: int = 5000) -> None:
    if _provider is not None:
        _provider.force_flush(timeout_ms)


def install(kind: str, processor: SpanProcessor) -> TracerProvider:
    """The provider with ``processor`` (the tests give an in-memory exporter's) as the global
    one, and the four libraries instrumented with it."""
    global _provider
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME") or f"conduit-{kind}",
            "conduit.process": kind,
        }
    )
    provider = TracerProvider(resource=resource)  # the SDK reads OTEL_TRACES_SAMPLER
    provider.sampler = DropClientRoots(provider.sampler)
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    excluded = (
        os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS")
        or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS")
        or EXCLUDED_URLS
    )
    # Before the WSGI handler loads MIDDLEWARE: the instrumentation puts its middleware first.
    DjangoInstrumentor().instrument(
        tracer_provider=provider, excluded_urls=excluded, request_hook=_redact_capabilities
    )
    # Connections opened from now on (psycopg.connect, and Connection.connect for the pool).
    PsycopgInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    # ... and the cursors Django's backend makes itself (the one-statement writes').
    traced_classes: dict[type[Any], type[Any]] = {}

    def traced_cursor(base: type[Any]) -> type[Any]:
        if base not in traced_classes:
            traced_classes[base] = _new_cursor_factory(base_factory=base, tracer_provider=provider)
        return traced_classes[base]

    cursors.make_traced = traced_cursor
    RedisInstrumentor().instrument(tracer_provider=provider)
    CeleryInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def uninstall() -> None:
    """Undo :func:`install` (the tests' clean-up): the libraries unpatched, the spans flushed.
    OpenTelemetry sets the global provider once per process; the tests reset it themselves."""
    global _provider
    if _provider is None:
        return
    for instrumentor in (
        DjangoInstrumentor(),
        PsycopgInstrumentor(),
        RedisInstrumentor(),
        CeleryInstrumentor(),
    ):
        instrumentor.uninstrument()
    cursors.make_traced = None
    _provider.shutdown()
    _provider = None


# The request span's attributes that hold the path (the semantic conventions' old and new names).
_PATH_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full")


def _redact_capabilities(span: Any, request: Any) -> None:
    """The Django instrumentation's request hook: a capability URL's secret segment (a signed
    link that works without signing in) never reaches the tracing back end, as it never reaches
    the logs (settings.CAPABILITY_PATH_PREFIXES, logs.RedactCapabilities)."""
    global _redact
    if _redact is None:
        _redact = RedactCapabilities(settings.CAPABILITY_PATH_PREFIXES)
    attributes = getattr(span, "attributes", None) or {}
    for key in _PATH_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            redacted = _redact(None, "", {"path": value})["path"]
            if redacted != value:
                span.set_attribute(key, redacted)


_redact: RedactCapabilities | None = None


class DropClientRoots(Sampler):
    """In front of the configured sampler: a database query or Redis command with no request or
    task around it (a worker's broker housekeeping, a start-up check) starts no trace of its own;
    everything else is the configured sampler's decision."""

    def __init__(self, delegate: Sampler) -> None:
        self.delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind == SpanKind.CLIENT:
            parent = trace.get_current_span(parent_context).get_span_context()
            if not parent.is_valid:
                return SamplingResult(Decision.DROP)
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"DropClientRoots{{{self.delegate.get_description()}}}"


def add_trace_ids(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the current span's ``trace_id`` and ``span_id`` (W3C hex, as the
    tracing back ends show them), when that span is sampled (an unsampled trace is nowhere)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid and context.trace_flags.sampled:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict
