"""Real Celery workers for the tests: ``celery -A config worker`` processes on a real broker.

* ``start_worker(broker_url)`` starts a worker (prefork, one pool process, every queue) with the
  production settings plus the test database and test-only tasks (``worker_settings``); its
  output goes to a file; it is stopped (or SIGKILLed, pool included) by its process group id.
* ``broker`` is a real Redis (append-only file on) or RabbitMQ, emptied for the test, and the
  test process's Celery app publishes to it (``CELERY_BROKER_URL`` is unset in tests: eager).
* ``sink`` is an aiosmtpd server that can stall one message, so that a task is observably in
  the middle of its work when the test kills its worker.

The worker sees only committed rows: tests here are ``transaction=True``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.services import (
    ServerProcess,
    SmtpSink,
    free_port,
    port_answers,
    require_binary,
)

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")

# Redis gives an unacknowledged task of a dead worker back after the visibility timeout
# (production: CELERY_VISIBILITY_TIMEOUT, 1800 s); the SIGKILL test sets a short one. Retries
# back off 1 s at most.
WORKER_ENV = {
    "DJANGO_SETTINGS_MODULE": "tests.tasks.worker_settings",
    "CELERY_VISIBILITY_TIMEOUT": "60",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_RETRY_MAX": "2",
    "CELERY_RETRY_BACKOFF_MAX": "1",
    "DEBUG": "false",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
    "EMAIL_TIMEOUT": "10",
}


class Worker(ServerProcess):
    """A Celery worker; ``port`` is its metrics port (``CELERY_METRICS_PORT``)."""

    def ready_line(self) -> bool:
        return b" ready." in self.log.read_bytes()

    def log_lines(self) -> list[dict[str, Any]]:
        """The worker's JSON log lines (other output, e.g. a traceback, is skipped)."""
        lines = []
        for raw in self.log.read_text().splitlines():
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    continue
        return lines

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.log_lines() if line.get("event") == event]

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    def kill_all(self) -> None:
        """SIGKILL the main process and its pool processes at once (a crash, an OOM kill)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self, sig: int | None = None, timeout: float = 15.0) -> None:
        if not self.running:
            return
        assert self.process is not None
        try:
            super().stop(sig, timeout)
        finally:
            # pool processes left behind by a main process that did not stop cleanly
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def start_worker(
    transactional_db: None, tmp_path: Path, sink: StallingSink
) -> Iterator[Callable[..., Worker]]:
    """``start_worker(broker_url, **env)``: a running worker; all are stopped after the test
    (before the test database is flushed: this fixture depends on ``transactional_db``)."""
    workers: list[Worker] = []

    def start(
        broker_url: str, *, queues: list[str] | None = None, beat: bool = False, **env: str
    ) -> Worker:
        """``queues``: the ``-Q`` option (None: every queue in TASK_QUEUES; [] leaves it out,
        as compose.yaml and the Kubernetes worker start it). ``beat``: the worker runs the
        beat schedule too (``-B``)."""
        number = len(workers) + 1
        workdir = tmp_path / f"worker{number}"
        metrics_dir = workdir / "metrics"
        metrics_dir.mkdir(parents=True)
        port = free_port()
        worker = Worker(
            name="worker",
            argv=[
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--hostname",
                f"test-worker{number}-{os.getpid()}@%h",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
            ],
            port=port,
            workdir=workdir,
            env={
                **WORKER_ENV,
                "PYTHONPATH": str(ROOT),
                "CONDUIT_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
                "CELERY_BROKER_URL": broker_url,
                "EMAIL_URL": f"smtp://{sink.host}:{sink.port}",
                "CELERY_METRICS_PORT": str(port),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                **env,
            },
        )
        if beat:
            worker.argv += ["--beat", "--schedule", str(workdir / "celerybeat-schedule")]
        consume = settings.TASK_QUEUES if queues is None else queues
        if consume:
            worker.argv[4:4] = ["-Q", ",".join(consume)]
        worker.ready = worker.ready_line
        workers.append(worker)
        worker.start(timeout=60)
        return worker

    yield start
    for worker in workers:
        # The test is over: nothing to finish or put back (the next test empties the broker),
        # and a cold shutdown still takes ~2 s. The killed connections end their transactions.
        if worker.running:
            worker.kill_all()


# --- Brokers ----------------------------------------------------------------------------------


@dataclass
class Broker:
    name: str
    url: str
    server: ServerProcess

    def queued(self, queue: str) -> int:
        """Messages waiting in ``queue`` (not those delivered to a worker)."""
        if self.name == "redis":
            import redis

            client = redis.Redis.from_url(self.url)
            try:
                return int(client.llen(queue))
            finally:
                client.close()
        from kombu import Connection

        with Connection(self.url, connect_timeout=5) as conn:
            return int(conn.default_channel.queue_declare(queue, passive=True).message_count)


def _point_app_at(url: str | None) -> None:
    """Make the test process's Celery app publish to ``url`` (None: back to eager)."""
    from config.celery import app

    if url:
        app.conf.update(broker_url=url, task_always_eager=False)
    else:
        app.conf.update(broker_url=settings.CELERY_BROKER_URL, task_always_eager=True)
    from kombu import pools

    pools.reset()  # close the connections to the previous broker and forget their pools
    app._pool = None
    app.amqp._producer_pool = None


def _empty_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _empty_rabbitmq(url: str) -> None:
    from kombu import Connection

    with Connection(url, connect_timeout=5) as conn:
        channel = conn.default_channel
        for queue in settings.TASK_QUEUES:
            channel.queue_delete(queue)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    """Each real broker in turn, emptied, with the test process publishing to it."""
    if request.param == "redis":
        server = request.getfixturevalue("running_redis")
        url = server.url_for(1)
        _empty_redis(url)
    else:
        server = request.getfixturevalue("rabbitmq_server")
        url = server.url
        _empty_rabbitmq(url)
    _point_app_at(url)
    yield Broker(request.param, url, server)
    _point_app_at(None)


@pytest.fixture
def redis_broker(running_redis: Any) -> Iterator[Broker]:
    url = running_redis.url_for(1)
    _empty_redis(url)
    _point_app_at(url)
    yield Broker("redis", url, running_redis)
    _point_app_at(None)


class RabbitMQServer(ServerProcess):
    """RabbitMQ from Debian's package, on free ports with its own node name, data and epmd."""

    epmd_port: int = 0

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def stop(self, sig: int | None = None, timeout: float = 30.0) -> None:
        super().stop(sig, timeout)
        self._stop_epmd()

    def _stop_epmd(self) -> None:
        """The server starts an epmd daemon on ERL_EPMD_PORT (ours alone); find it by that."""
        marker = f"ERL_EPMD_PORT={self.epmd_port}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if (proc / "comm").read_text().strip() != "epmd":
                    continue
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    os.kill(int(proc.name), signal.SIGTERM)
            except OSError:
                continue


@pytest.fixture(scope="session")
def rabbitmq_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQServer]:
    """A real RabbitMQ (it takes ~7 s to start, so once per session)."""
    require_binary("/usr/lib/rabbitmq/bin/rabbitmq-server", "rabbitmq-server")
    workdir = tmp_path_factory.mktemp("rabbitmq")
    port, dist_port, epmd_port = free_port(), free_port(), free_port()
    (workdir / "enabled_plugins").write_text("[].\n")
    (workdir / "rabbitmq.conf").write_text("loopback_users = none\n")
    server = RabbitMQServer(
        name="rabbitmq",
        argv=["/usr/lib/rabbitmq/bin/rabbitmq-server"],
        port=port,
        workdir=workdir,
        env={
            "HOME": str(workdir),  # its Erlang cookie
            "RABBITMQ_NODENAME": f"conduit-test-{os.getpid()}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "ERL_EPMD_PORT": str(epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(workdir / "log"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
        },
    )
    server.epmd_port = epmd_port
    server.ready = lambda: port_answers(port)
    try:
        server.start(timeout=90)
        yield server
    finally:
        server.stop()


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class StallingSink(SmtpSink):
    """An SMTP sink that, when told to, holds one message without answering until released."""

    stall_after: int | None = None
    stalled: Event = field(default_factory=Event)
    release: Event = field(default_factory=Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_after is not None and len(self.messages) >= self.stall_after:
            self.stall_after = None
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Held by the test; try again later"
        return await super().handle_DATA(server, session, envelope)

    def recipients(self) -> list[str]:
        return sorted(rcpt for _, rcpts in self.envelopes for rcpt in rcpts)

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]


@pytest.fixture
def sink() -> Iterator[StallingSink]:
    from aiosmtpd.controller import Controller

    smtp = StallingSink(host="127.0.0.1", port=free_port())
    controller = Controller(smtp, hostname=smtp.host, port=smtp.port)
    controller.start()
    yield smtp
    smtp.release.set()
    controller.stop()


def metric_value(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when it is absent)."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return 0.0
