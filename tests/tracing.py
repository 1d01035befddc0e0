"""Tracing in the test process: ``traced`` installs Conduit's tracing (conduit/platform/
observability/otel.py) with the SDK's in-memory exporter instead of OTLP, and takes it all back
afterwards: the libraries unpatched, the global tracer provider unset (OpenTelemetry sets it once
per process; its own tests reset it the same way)."""

from collections.abc import Iterator

import pytest
from django.db import connections
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from conduit.platform.observability import otel


def _reset_global_provider() -> None:
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None


def _close_postgresql_connections() -> None:
    """psycopg's instrumentation traces the connections opened after it: the open ones go."""
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "postgresql":
            connection.close()


@pytest.fixture
def traced() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    _reset_global_provider()
    otel.install("web", SimpleSpanProcessor(exporter))
    _close_postgresql_connections()
    try:
        yield exporter
    finally:
        otel.uninstall()
        _close_postgresql_connections()
        _reset_global_provider()


def hex_ids(span: ReadableSpan) -> tuple[str, str, str]:
    """(trace id, span id, parent span id or "") in the W3C hex the OTLP sink and logs use."""
    context = span.get_span_context()
    assert context is not None
    parent = format(span.parent.span_id, "016x") if span.parent else ""
    return format(context.trace_id, "032x"), format(context.span_id, "016x"), parent
