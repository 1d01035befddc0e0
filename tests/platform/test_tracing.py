"""Tracing (ADR 0037): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set, and then nothing of
OpenTelemetry is even imported; on, a process exports its spans over OTLP, its log lines carry
the ids, roots are requests and tasks, and a publish is one trace with the tasks it enqueues.
(tests/tasks/test_tracing.py follows that trace through a real broker and worker.)"""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from rest_framework.test import APIClient

from conduit.platform.observability.otel import add_trace_ids
from conduit.users.models import User
from tests.factories import UserFactory, follow
from tests.pg_replica import REPO
from tests.tracing import hex_ids, traced

sys.path.insert(0, str(REPO / "tools" / "bench"))  # as bench.py finds benchkit
from benchkit.otlp_sink import OtlpSink

__all__ = ["traced"]  # the fixture, used by name

# One request through the application a granian worker imports, then what the process holds.
PROBE = """
import json, sys, wsgiref.util
import psycopg
import config.wsgi
from django.conf import settings
environ = {}
wsgiref.util.setup_testing_defaults(environ)
environ["PATH_INFO"] = "/healthz"
status = []
b"".join(config.wsgi.application(environ, lambda s, headers: status.append(s)))
print(json.dumps({
    "status": status[0],
    "opentelemetry_modules": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
    "first_middleware": settings.MIDDLEWARE[0],
    "psycopg_connect_wrapped": hasattr(psycopg.connect, "__wrapped__"),
}))
"""

# The same through the events servers' ASGI application.
ASGI_PROBE = """
import asyncio, json
import config.asgi
async def main():
    sent, calls = [], []
    async def receive():
        calls.append(1)
        if len(calls) == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(60)
    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": "GET", "path": "/healthz", "raw_path": b"/healthz",
             "query_string": b"", "headers": [(b"host", b"127.0.0.1")], "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "root_path": "",
             "asgi": {"version": "3.0"}, "http_version": "1.1"}
    await config.asgi.application(scope, receive, send)
    print(json.dumps({"status": sent[0]["status"]}))
asyncio.run(main())
"""


def _serve_one_request(
    probe: str = PROBE, **env: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(what the probe reports, the process's JSON log lines)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base.pop("DATABASE_URL", None)  # /healthz touches no database
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", probe],
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(REPO),
            "SECURE_SSL_REDIRECT": "false",
            "LOG_FORMAT": "json",
            **env,
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return lines[-1], lines[:-1]


def test_off_unless_an_endpoint_is_set_and_on_it_exports_the_request() -> None:
    off, off_lines = _serve_one_request()
    assert off["status"] == "200 OK"
    assert off["opentelemetry_modules"] == []  # no provider, no instrumentation, no span
    assert (
        off["first_middleware"] == "conduit.platform.observability.metrics.RequestMetricsMiddleware"
    )
    assert off["psycopg_connect_wrapped"] is False
    [access] = [line for line in off_lines if line["event"] == "request"]
    assert "trace_id" not in access
    assert "span_id" not in access

    sink = OtlpSink(keep=True).start()
    try:
        on, on_lines = _serve_one_request(
            OTEL_EXPORTER_OTLP_ENDPOINT=sink.url,
            OTEL_PYTHON_DJANGO_EXCLUDED_URLS="/nothing",  # the probes are excluded by default
        )
        [span] = sink.wait_for(lambda spans: len(spans) == 1)  # flushed as the process exited
    finally:
        sink.stop()
    assert on["status"] == "200 OK"
    assert "opentelemetry.sdk.trace" in on["opentelemetry_modules"]
    assert on["first_middleware"].startswith("opentelemetry.instrumentation.django")
    assert on["psycopg_connect_wrapped"] is True
    assert (span.service, span.name, span.kind, span.parent_span_id) == (
        "conduit-web",
        "GET healthz",
        2,  # server
        "",
    )
    [access] = [line for line in on_lines if line["event"] == "request"]
    assert (access["trace_id"], access["span_id"]) == (span.trace_id, span.span_id)


def test_the_events_server_traces_its_requests_too() -> None:
    sink = OtlpSink(keep=True).start()
    try:
        answer, lines = _serve_one_request(
            ASGI_PROBE,
            OTEL_EXPORTER_OTLP_ENDPOINT=sink.url,
            OTEL_PYTHON_DJANGO_EXCLUDED_URLS="/nothing",
        )
        [span] = sink.wait_for(lambda spans: len(spans) == 1)
    finally:
        sink.stop()
    assert answer["status"] == 200
    assert (span.service, span.name, span.kind) == ("conduit-events", "GET healthz", 2)
    [access] = [line for line in lines if line["event"] == "request"]
    assert access["trace_id"] == span.trace_id


def test_log_lines_carry_the_ids_of_a_sampled_span_only(traced: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("test")
    assert add_trace_ids(None, "info", {}) == {}  # no span
    with tracer.start_as_current_span("work") as span, structlog.testing.capture_logs() as logs:
        structlog.get_logger("conduit").info("inside", **add_trace_ids(None, "info", {}))
    context = span.get_span_context()
    assert logs[0]["trace_id"] == format(context.trace_id, "032x")
    assert logs[0]["span_id"] == format(context.span_id, "016x")
    unsampled = trace.NonRecordingSpan(
        trace.SpanContext(context.trace_id, context.span_id, is_remote=True)
    )
    with trace.use_span(unsampled):
        assert add_trace_ids(None, "info", {}) == {}


def test_a_query_outside_any_request_or_task_starts_no_trace(
    traced: InMemorySpanExporter,
) -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("redis GET", kind=SpanKind.CLIENT) as orphan:
        assert not orphan.is_recording()
    with (
        tracer.start_as_current_span("task", kind=SpanKind.CONSUMER),
        tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as query,
    ):
        assert query.is_recording()
    assert [span.name for span in traced.get_finished_spans()] == ["SELECT", "task"]


@pytest.mark.django_db(transaction=True)
def test_a_publish_and_its_inline_fan_out_are_one_trace(
    traced: InMemorySpanExporter, client_for: Callable[[User], APIClient]
) -> None:
    """Tasks run inline here (no broker: the embedded default): the fan-out runs inside the
    request, so the trace is one by construction; through a broker it is the message headers'
    doing (tests/tasks/test_tracing.py)."""
    author = UserFactory()
    follow(UserFactory(), author)
    traced.clear()  # the follow's own timeline task is a trace of its own
    response = client_for(author).post(
        "/api/articles",
        {"article": {"title": "Spans", "description": "d", "body": "b"}},
        format="json",
    )
    assert response.status_code == 201
    spans = {span.name: span for span in traced.get_finished_spans()}
    request = spans["POST api/articles"]
    fan_out = spans["run/conduit.notifications.new_article_fan_out"]
    trace_id, request_id, root = hex_ids(request)
    assert root == ""
    assert {hex_ids(span)[0] for span in spans.values()} == {trace_id}
    assert hex_ids(fan_out)[2] == request_id


@pytest.mark.django_db(transaction=True)
def test_a_capability_url_s_secret_never_reaches_the_trace(
    traced: InMemorySpanExporter, client: Any
) -> None:
    client.get("/notifications/unsubscribe/s3cr3t-t0ken?x=1")
    [span] = [s for s in traced.get_finished_spans() if s.kind == SpanKind.SERVER]
    values = [str(value) for value in (span.attributes or {}).values()]
    assert any(value.endswith("/notifications/unsubscribe/[redacted]?x=1") for value in values)
    assert not [value for value in values if "s3cr3t" in value]
