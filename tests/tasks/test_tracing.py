"""A publish and its fan-out through a real broker and worker are one trace (ADR 0037).

The test process traces itself with the SDK's in-memory exporter (tests/tracing.py): the
request's span, its queries' spans and the publish of the fan-out task. The worker is another
process, started as deployed with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at an OTLP sink in
the test process: its pool process sets tracing up on ``worker_process_init`` and exports the
task spans there. What joins them is the trace context the Celery instrumentation puts in the
message's headers.
"""

import sys
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.test import APIClient

from conduit.platform.tasks import sender
from conduit.users.models import User
from tests.factories import UserFactory, follow
from tests.pg_replica import REPO
from tests.tasks.conftest import Broker, StallingSink, Worker
from tests.tracing import hex_ids, traced

sys.path.insert(0, str(REPO / "tools" / "bench"))  # as bench.py finds benchkit
from benchkit.otlp_sink import OtlpSink, ReceivedSpan

__all__ = ["traced"]  # the fixture, used by name

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.pg,
    pytest.mark.services,
    pytest.mark.timeout(120),
]

FAN_OUT = "conduit.notifications.new_article_fan_out"
EMAILS = "conduit.notifications.new_article_emails_send"
CONSUMER = 5  # the OTLP protobuf's SpanKind


@pytest.fixture
def otlp_sink() -> Iterator[OtlpSink]:
    sink = OtlpSink(keep=True).start()
    yield sink
    sink.stop()


def test_a_publish_and_its_fan_out_on_a_worker_are_one_trace(
    traced: InMemorySpanExporter,
    otlp_sink: OtlpSink,
    redis_broker: Broker,
    start_worker: Callable[..., Worker],
    sink: StallingSink,
    client_for: Callable[[User], APIClient],
) -> None:
    start_worker(
        redis_broker.url,
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_sink.url,
        OTEL_BSP_SCHEDULE_DELAY="100",  # ms: export at once, the test waits for it
    )
    author = UserFactory()
    follow(UserFactory(), author)
    assert sender.flush()  # the follow's timeline task: a trace of its own, sent and cleared
    traced.clear()
    response = client_for(author).post(
        "/api/articles",
        {"article": {"title": "Threads", "description": "d", "body": "b"}},
        format="json",
    )
    assert response.status_code == 201
    assert sender.flush()  # the sender thread has published the fan-out

    def both_tasks_ran(spans: list[ReceivedSpan]) -> bool:
        return {f"run/{FAN_OUT}", f"run/{EMAILS}"} <= {span.name for span in spans}

    worker_spans = otlp_sink.wait_for(both_tasks_ran)
    sink.wait_for(1, timeout=30)

    # The test process: the request is the root; its queries and the publish are inside it.
    local = {hex_ids(span): span for span in traced.get_finished_spans()}
    [(trace_id, request_id, _)] = [
        ids for ids, span in local.items() if span.name == "POST api/articles" and ids[2] == ""
    ]
    assert {ids[0] for ids in local} == {trace_id}
    queries = [span for span in local.values() if span.attributes.get("db.system") == "postgresql"]
    assert any(hex_ids(span)[2] == request_id for span in queries)
    # The article's insert is a one-statement write on a prepared cursor: traced too.
    statements = [str(span.attributes.get("db.statement")) for span in queries]
    assert any(s.startswith('WITH article AS (INSERT INTO "articles_article"') for s in statements)
    [(_, publish_id, _)] = [
        ids for ids, span in local.items() if span.name == f"apply_async/{FAN_OUT}"
    ]

    # The worker: the fan-out task is the publish's child, in the same trace, and so is the chunk
    # of emails it enqueued in turn, and the tasks' own queries.
    by_name = {span.name: span for span in worker_spans}
    fan_out, emails = by_name[f"run/{FAN_OUT}"], by_name[f"run/{EMAILS}"]
    assert {span.service for span in worker_spans} == {"conduit-worker"}
    assert (fan_out.trace_id, fan_out.parent_span_id, fan_out.kind) == (
        trace_id,
        publish_id,
        CONSUMER,
    )
    assert emails.trace_id == trace_id
    assert any(
        span.parent_span_id == fan_out.span_id and span.kind == 3  # a client span: a query
        for span in worker_spans
    )
