"""``make bench-capacity``'s pieces (tools/bench/capacity_run.py, benchkit/openload.py,
benchkit/capacity_scenarios.py, plot_capacity.py) checked without a stack: the generator keeps
its schedule when the server falls behind and counts the queueing (no coordinated omission),
the knee is the last step within the bound, and CPU per request divides as documented."""

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import load_tool

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "bench"))  # as capacity_run.py finds benchkit
from benchkit import capacity_scenarios, openload  # noqa: E402

capacity = load_tool("capacity_tool", REPO / "tools" / "bench" / "capacity_run.py")
plot_capacity = load_tool("plot_capacity_tool", REPO / "tools" / "bench" / "plot_capacity.py")

SERVICE_S = 0.02  # the slow server's time per request, one at a time: 50 a second at most


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(SERVICE_S)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


class _Server(HTTPServer):
    request_queue_size = 512  # waiting connections queue here, not in SYN retries


@pytest.fixture
def slow_server() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Slow)  # one request at a time
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def step(url: str, rate: float, seconds: float) -> dict[str, Any]:
    return openload.run_step(url, lambda i: openload.Request("GET", f"/?i={i}"), first=0,
                             rate=rate, seconds=seconds, timeout=10)  # fmt: skip


def test_below_capacity_latency_is_the_service_time(slow_server: str) -> None:
    result = step(slow_server, 20, 1)
    assert result["requests"] == 20
    assert result["errors"] == 0
    assert result["latency_ms"]["p50"] < 200


def test_over_capacity_the_queue_shows_in_the_latency(slow_server: str) -> None:
    # 100 a second offered for 1 s to a server that serves 50: sent on schedule anyway, so
    # the last ones wait ~1 s. A closed-loop generator would see ~SERVICE_S per request.
    result = step(slow_server, 100, 1)
    assert result["requests"] == 100
    assert result["errors"] == 0
    assert result["send_lag_ms"]["p99"] < 100, "the requests left on schedule"
    assert result["latency_ms"]["p99"] > 600, result["latency_ms"]
    assert result["latency_ms"]["p99"] > 10 * result["latency_ms"]["p50"] or (
        result["latency_ms"]["p50"] > 200
    )


def test_a_refused_connection_is_an_error() -> None:
    from benchkit.net import free_port

    result = step(f"http://127.0.0.1:{free_port(set())}", 10, 0.5)
    assert result["errors"] == result["requests"] == 5
    assert result["statuses"] == {"0": 5}


def _step(rate: float, p99: float, errors: int = 0) -> dict[str, Any]:
    return {"offered_rps": rate, "errors": errors, "latency_ms": {"p99": p99}}


def test_the_knee_is_the_last_step_within_the_bound() -> None:
    steps = [_step(10, 5), _step(15, 20), _step(22, 99), _step(34, 150), _step(51, 20)]
    assert capacity.knee(steps, 100)["offered_rps"] == 22
    assert capacity.knee([_step(10, 5), _step(15, 5, errors=1)], 100)["offered_rps"] == 10
    assert capacity.knee([_step(10, 101)], 100) is None


def test_cpu_per_request_divides_each_component_by_the_requests_served() -> None:
    before = {"app": 10.0, "postgres": 5.0, "redis": 1.0, "generator": 2.0, "machine": 100.0}
    after = {"app": 11.0, "postgres": 5.5, "redis": 1.1, "generator": 2.2, "machine": 102.0}
    out = capacity_scenarios.cpu_per_request(before, after, served=500, wall=2.0)
    assert out["cpu_ms_per_request"] == {"app": 2.0, "postgres": 1.0, "redis": 0.2,
                                         "generator": 0.4, "other": 0.4}  # fmt: skip
    assert out["cpu_cores"]["app"] == 0.5


def test_the_stack_processes_are_read_from_its_state(tmp_path: Path) -> None:
    member = tmp_path / "patroni-1"
    member.mkdir()
    (member / "postmaster.pid").write_text("4242\n/tmp/data\n")
    state = {"components": [
        {"name": "app-1", "pid": 11}, {"name": "app-2", "pid": 12}, {"name": "redis", "pid": 13},
        {"name": "nginx", "pid": 14}, {"name": "celery-worker", "pid": 15},
        {"name": "patroni-1", "pid": 16, "postmaster": str(member)}, {"name": "etcd", "pid": 17},
    ]}  # fmt: skip
    (tmp_path / "state.json").write_text(json.dumps(state))
    assert capacity_scenarios.stack_pids(tmp_path / "state.json") == {
        "app": [11, 12],
        "postgres": [4242],
        "redis": [13],
        "nginx": [14],
        "celery": [15],
    }


def test_the_plot_and_the_table_come_from_the_results(tmp_path: Path) -> None:
    def run(apps: int, knee: float) -> dict[str, Any]:
        steps = [{"offered_rps": r, "latency_ms": {"p50": 2.0, "p99": p}} for r, p in
                 ((knee / 2, 10.0), (knee, 50.0), (knee * 1.5, 300.0))]  # fmt: skip
        cpu = {"app": 1.5, "postgres": 0.5, "redis": 0.1, "nginx": 0.2}
        return {"apps": apps, "commit": {"id": "abc1234"},
                "method": {"p99_bound_ms": 100, "step_seconds": 3},
                "scenarios": {"article": {"knee_rps": knee, "knee_p99_ms": 50.0,
                                          "cpu_ms_per_request": cpu, "steps": steps}}}  # fmt: skip

    out = tmp_path / "capacity.png"
    plot_capacity.plot([run(1, 100), run(2, 180)], out)
    assert out.stat().st_size > 10_000
    table = plot_capacity.table([run(1, 100), run(2, 180)])
    assert (
        "| `article` | 100 | 180 | 1.50 / 0.50 / 0.10 / 0.20; 1.50 / 0.50 / 0.10 / 0.20 |" in table
    )
