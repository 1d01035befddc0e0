"""Real services for the tests: processes from Debian's packages on free loopback ports.

Each fixture starts its server once per test session (data under pytest's temporary directory)
and stops exactly the process it started. Tests that need one carry the ``services`` marker:
``make test`` runs them on its PostgreSQL pass, where it has installed the packages; a missing
binary is a test error that names the package, never a silent skip.

    def test_something(redis_server):          # a running Redis
        redis_server.url                       # redis://127.0.0.1:<port>/0
        redis_server.stop(); redis_server.start()  # same port, same data directory

    def test_failover(redis_cluster):          # a Redis Cluster: 3 masters, each with a replica
        redis_cluster.url                      # redis-cluster://127.0.0.1:<p1>,...,127.0.0.1:<p6>
        killed = redis_cluster.kill_master(0)  # SIGKILL; redis_cluster.wait_ok(): replica promoted
        redis_cluster.start(killed.index)      # back (empty), as a replica

(``running_redis_cluster``: the same cluster with every node up and every key deleted.)

Fixtures are registered in ``tests/conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from stack.redis_cluster import RedisCluster

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_until(ready: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what} was not ready within {timeout:.0f} s")


def require_binary(path: str, package: str) -> str:
    found = shutil.which(path)
    if not found:
        raise RuntimeError(
            f"{path} not found: install Debian's {package} (make test does, as root)"
        )
    return found


@dataclass
class ServerProcess:
    """One server process that a test may stop, kill and start again on the same port."""

    name: str
    argv: list[str]
    port: int
    workdir: Path
    ready: Callable[[], bool] | None = None
    env: dict[str, str] | None = None
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env={**os.environ, **(self.env or {})},
                start_new_session=True,
            )
        ready = self.ready or (lambda: port_answers(self.port))
        try:
            wait_until(lambda: self._alive_or_raise() and ready(), self.name, timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; its log:\n{self.log.read_text()[-3000:]}") from exc

    def _alive_or_raise(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}:\n"
                f"{self.log.read_text()[-3000:]}"
            )
        return True

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int | None = None, timeout: float = 20.0) -> None:
        """Stop the process (``sig`` defaults to its graceful signal) and wait for it to exit."""
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(sig if sig is not None else self.stop_signal)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        # Whatever it started must go too: a granian worker left draining after its main
        # process went keeps the listening socket, and a server started again on the same port
        # then shares it with one that never accepts (connections hang there until it exits).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


class RedisServer(ServerProcess):
    def url_for(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def url(self) -> str:
        return self.url_for(0)

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")


def make_redis(workdir: Path, *, persistent: bool = False) -> RedisServer:
    """A Redis server; ``persistent`` turns on the append-only file (fsync every write) so that a
    restart keeps what was queued, as the stack's broker does."""
    port = free_port()
    persistence = (
        ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        if persistent
        else ["--appendonly", "no", "--save", ""]
    )
    server = RedisServer(
        name="redis",
        argv=[
            require_binary("redis-server", "redis-server"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--protected-mode",
            "no",
            *persistence,
        ],
        port=port,
        workdir=workdir,
    )
    server.ready = server.ping
    return server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis (append-only file on, so a restart keeps its data)."""
    server = make_redis(tmp_path_factory.mktemp("redis"), persistent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def running_redis(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, started again if an earlier test stopped it."""
    redis_server.start()
    return redis_server


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A real Redis Cluster of 3 masters, each with one replica (tools/stack/redis_cluster.py, as
    make stack runs it; nodes.conf and logs under the session's temporary directory).
    ``.url``, ``.nodes`` (each with ``.port``, ``.role``, ``.pid``), ``.kill_master(n)``,
    ``.start(index)``, ``.wait_ok()``, ``.flush()``."""
    if str(REPO / "tools") not in sys.path:
        sys.path.insert(0, str(REPO / "tools"))
    from stack.redis_cluster import RedisCluster, require

    require_binary("redis-cli", "redis-tools (a dependency of redis-server)")
    require("redis-server")
    cluster = RedisCluster.on_free_ports(tmp_path_factory.mktemp("redis-cluster"))
    cluster.create()
    yield cluster
    cluster.stop()


@pytest.fixture
def running_redis_cluster(redis_cluster: RedisCluster) -> RedisCluster:
    """The session's Redis Cluster with every node running (a node an earlier test killed is
    started again), cluster_state:ok, and no key (ids repeat between tests)."""
    redis_cluster.start_stopped()
    redis_cluster.wait_ok()
    redis_cluster.flush()
    return redis_cluster


@pytest.fixture(scope="session")
def memcached_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    server = ServerProcess(
        name="memcached",
        argv=[
            require_binary("memcached", "memcached"),
            "-l",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "0",
            "-m",
            "64",
            "-u",
            "nobody",
        ],
        port=port,
        workdir=tmp_path_factory.mktemp("memcached"),
    )
    server.start()
    yield server
    server.stop()


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) in a thread that keeps every message it receives."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    _lock: Lock = field(default_factory=Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Message]:
        wait_until(lambda: len(self.messages) >= count, f"{count} emails", timeout)
        return list(self.messages)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink(host="127.0.0.1", port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp(smtp_server: SmtpSink) -> SmtpSink:
    """The session's SMTP sink, emptied for this test."""
    smtp_server.clear()
    return smtp_server
