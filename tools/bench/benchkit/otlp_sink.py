"""An OTLP/HTTP trace receiver for the bench and the tests: what a collector would be, minus
everything after the receiving (no collector is packaged in Debian; ADR 0037).

It answers ``POST /v1/traces`` (protobuf, as the SDK's OTLP/HTTP exporter sends it, gzip or not)
with 200 and an empty ``ExportTraceServiceResponse``, counts the spans, and keeps them when asked
(``keep=True``, the tests: span name, ids, kind and the sending process's ``service.name``).
Loopback only. Run alone (``python tools/bench/benchkit/otlp_sink.py --port P``) it serves until
SIGTERM and prints the count when it stops.
"""

from __future__ import annotations

import argparse
import gzip
import signal
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

EMPTY_RESPONSE = ExportTraceServiceResponse().SerializeToString()


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: int  # the protobuf's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer
    trace_id: str  # hex, as the SDK's format_trace_id
    span_id: str
    parent_span_id: str  # "" for a root


class OtlpSink:
    def __init__(self, port: int = 0, *, keep: bool = False) -> None:
        self.keep = keep
        self.spans: list[ReceivedSpan] = []
        self.span_count = 0
        self.requests = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # the exporter keeps its connection

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                sink.receive(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(EMPTY_RESPONSE)))
                self.end_headers()
                self.wfile.write(EMPTY_RESPONSE)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def receive(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        received = []
        count = 0
        for resource_spans in request.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ),
                "",
            )
            for scope_spans in resource_spans.scope_spans:
                count += len(scope_spans.spans)
                if self.keep:
                    received += [
                        ReceivedSpan(
                            service,
                            span.name,
                            span.kind,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                        )
                        for span in scope_spans.spans
                    ]
        with self._lock:
            self.requests += 1
            self.span_count += count
            self.spans += received

    def start(self) -> OtlpSink:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> list[ReceivedSpan]:
        """The spans once ``predicate(spans)`` holds; AssertionError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                spans = list(self.spans)
            if predicate(spans):
                return spans
            time.sleep(0.05)
        raise AssertionError(f"the spans did not arrive in {timeout} s: {self.spans}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    sink = OtlpSink(args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"OTLP sink on {sink.url}/v1/traces", flush=True)
    try:
        sink.server.serve_forever()
    finally:
        print(f"received {sink.span_count} spans in {sink.requests} requests", flush=True)


if __name__ == "__main__":
    main()
