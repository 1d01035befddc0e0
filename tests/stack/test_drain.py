"""Graceful shutdown: on SIGTERM an app server (granian with tools/stack's production argv)
stops accepting connections at once and lets the requests in flight finish before it exits.

The slow requests are a test-only view in a test-only URLconf (tests/stack/drain_urls.py), served
under tests/stack/drain_settings.py; production URLs have no such view.
"""

from __future__ import annotations

import http.client
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.services import ServerProcess, free_port, wait_until
from tests.stack.conftest import ROOT, fetch, stack

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

IN_FLIGHT = 3  # fewer than the server's 4 blocking threads: every one is running when it stops
# Long enough for the refusal to land while they run on a loaded machine: during a whole suite
# in `make fresh-check` granian once took 2.9 s from the signal to refusing connections.
SLOW_SECONDS = 5.0


def refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_sigterm_refuses_new_connections_and_finishes_the_requests_in_flight(
    tmp_path: Path,
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    port = free_port()
    server = ServerProcess(
        name="drain-app",
        argv=stack.app_server_argv(port),
        port=port,
        workdir=tmp_path,
        env={
            "DJANGO_SETTINGS_MODULE": "tests.stack.drain_settings",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",  # no view here queries
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CELERY_BROKER_URL": "",
            "DRAIN_MARK_DIR": str(marks),
        },
    )
    server.ready = lambda: fetch(port, "GET", "/healthz", timeout=2).status == 200
    server.start(timeout=30)
    try:
        results: dict[str, tuple[int, bytes, float]] = {}

        def slow_request(name: str) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", f"/test-only/slow?name={name}&seconds={SLOW_SECONDS}")
                response = conn.getresponse()
                results[name] = (response.status, response.read(), time.monotonic())
            finally:
                conn.close()

        names = [f"in-flight-{i}" for i in range(IN_FLIGHT)]
        clients = [threading.Thread(target=slow_request, args=(name,)) for name in names]
        for client in clients:
            client.start()
        wait_until(lambda: len(list(marks.iterdir())) == IN_FLIGHT, "slow requests in the view")

        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        wait_until(lambda: refuses_connections(port), "new connections refused", timeout=5)
        refused_at = time.monotonic()
        for client in clients:
            client.join(30)

        assert refused_at - signalled < SLOW_SECONDS  # refused while the requests were running
        assert sorted(results) == names
        for name, (status, body, finished) in results.items():
            assert status == 200, body
            assert body == f'{{"name": "{name}", "slept": {SLOW_SECONDS}}}'.encode()
            assert finished > refused_at  # answered after the server had stopped accepting
        assert server.process.wait(10) == 0  # a clean exit once drained
        log = server.log.read_text()
        assert log.count('"route": "tests.stack.drain_urls.slow", "status": 200') == IN_FLIGHT
    finally:
        server.stop()
