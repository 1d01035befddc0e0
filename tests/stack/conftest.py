"""A small ``make stack`` for the tests: two granian app servers on free ports behind nginx or
HAProxy, configured by tools/stack's own functions, on the suite's PostgreSQL test database.

The app servers are real processes on the test database, so the tests that use them need live
data (``transactional_db``): what the servers write is committed and flushed after each test.
They run ``config.settings_test`` (the real settings with the fast password hasher and static
files from the finders, so no collectstatic is needed) with ``DEBUG`` off.
"""

from __future__ import annotations

import http.client
import json
import secrets
import shutil
import signal
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.services import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import stack  # noqa: E402  (tools/stack/)

# Made per run: a committed key would be one anyone could read (conduit/platform/secrets_policy.py).
SECRET_KEY = secrets.token_urlsafe(50)


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def processes_naming(base: Path) -> list[int]:
    """Live processes whose command line names ``base``: what a test that started servers under
    that directory (etcd, Patroni, postmasters, pgbackrest) may have left running."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(base).encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return [pid for pid in found if stack.core.pid_alive(pid)]


def fetch(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Response:
    """One request on a fresh connection to 127.0.0.1:``port`` (no redirects followed)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        cookies = "\n".join(response.headers.get_all("Set-Cookie") or [])
        found = {k.lower(): v for k, v in response.getheaders()}
        found["set-cookie"] = cookies
        return Response(response.status, found, data)
    finally:
        conn.close()


@dataclass
class Browser:
    """Cookies kept by name across servers, as a browser keeps them for one site."""

    cookies: dict[str, str] = field(default_factory=dict)

    def send(
        self, port: int, method: str, path: str, form: dict[str, str] | None = None
    ) -> Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = fetch(port, method, path, body=body, headers=headers)
        jar: SimpleCookie = SimpleCookie()
        for line in filter(None, response.headers["set-cookie"].split("\n")):
            jar.load(line)
        for name, morsel in jar.items():
            self.cookies[name] = morsel.value
        return response


# --- processes ----------------------------------------------------------------------------------


def test_database_url() -> str:
    """The URL of the database the suite runs on (the test database, after its set-up)."""
    s = connection.settings_dict
    # pytest-django creates the test database only when a collected test is marked django_db;
    # without one this is the developer's own database, which no test may touch.
    if not s["NAME"].startswith("test_"):
        raise RuntimeError(
            f"the test database is not set up (NAME={s['NAME']!r}): mark the test django_db"
        )
    user = urllib.parse.quote(s["USER"] or "")
    password = f":{urllib.parse.quote(s['PASSWORD'])}" if s["PASSWORD"] else ""
    return f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test


def make_app_server(name: str, workdir: Path, database_url: str) -> ServerProcess:
    port = free_port()
    metrics = workdir / f"{name}-metrics"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP between the test and the servers (config.settings_test has no redirect either).
        "SECURE_COOKIES": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "CELERY_BROKER_URL": "",
        # The load tests send thousands of requests a second from one address, as the bench does
        # (the limits' own tests: tests/platform/test_rate_limits.py, test_nginx_limits.py).
        "RATE_LIMITS_ENABLED": "false",
    }
    server = ServerProcess(
        name=name, argv=stack.app_server_argv(port), port=port, workdir=workdir, env=env
    )

    def ready() -> bool:
        return fetch(port, "GET", "/readyz", timeout=2).status == 200

    server.ready = ready
    original_start = server.start

    def start(timeout: float = 30.0) -> None:
        # The multiprocess directory must be empty when the server starts (metrics.py).
        if not server.running:
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir(parents=True)
        original_start(timeout)

    server.start = start  # type: ignore[method-assign]
    return server


@pytest.fixture(scope="module")
def app_servers(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[ServerProcess]]:
    """Two app servers on the test database; stopped (by PID) before the database is dropped."""
    if connection.vendor != "postgresql":
        pytest.skip("the stack tests run on PostgreSQL")
    with django_db_blocker.unblock():
        database_url = test_database_url()
    workdir = tmp_path_factory.mktemp("stack-apps")
    servers = [make_app_server(f"app-{i}", workdir, database_url) for i in (1, 2)]
    try:
        for server in servers:
            server.start(timeout=60)
        yield servers
    finally:
        for server in servers:
            server.stop()


@dataclass
class Balancer:
    kind: str
    process: ServerProcess

    @property
    def port(self) -> int:
        return self.process.port


def start_balancer(
    kind: str, workdir: Path, app_ports: list[int], *, edge_cache: bool = False
) -> Balancer:
    """nginx or HAProxy in front of ``app_ports``. nginx without its edge cache unless asked
    (test_edge_cache.py): these tests are about routing, and a cached answer would hide which
    server answered."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "nginx":
        (workdir / "tmp").mkdir(exist_ok=True)
        # A failed server is skipped for 1 s (5 s in make stack) so the rejoin test is short.
        # nginx serves ROOT/static/ itself (the servers run without collectstatic).
        unlimited = dict.fromkeys(stack.nginx_limits(), "1000000")  # the load comes from here
        conf = stack.nginx_conf(workdir, port, app_ports, ROOT, fail_timeout=1, limits=unlimited,
                                edge_cache=edge_cache)  # fmt: skip
        argv = [stack.binary("nginx"), "-p", str(workdir), "-c", str(conf),
                "-e", str(workdir / "error.log"), "-g", "daemon off;"]  # fmt: skip
        stop_signal = signal.SIGQUIT
    else:
        conf = stack.haproxy_conf(workdir, port, app_ports, free_port(), check_interval_ms=500)
        argv = [stack.binary("haproxy"), "-f", str(conf), "-db"]
        stop_signal = signal.SIGUSR1  # soft stop: finish what is in flight
    process = ServerProcess(
        name=kind, argv=argv, port=port, workdir=workdir, stop_signal=stop_signal
    )
    process.ready = lambda: fetch(port, "GET", "/healthz", timeout=2).status == 200
    process.start()
    return Balancer(kind, process)


@pytest.fixture(scope="module", params=["nginx", "haproxy"])
def balancer(
    request: pytest.FixtureRequest,
    app_servers: list[ServerProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Balancer]:
    workdir = tmp_path_factory.mktemp(request.param)
    lb = start_balancer(request.param, workdir, [s.port for s in app_servers])
    try:
        yield lb
    finally:
        lb.process.stop()


@pytest.fixture
def running_apps(app_servers: list[ServerProcess]) -> list[ServerProcess]:
    """Both app servers, started again if an earlier test left one down."""
    for server in app_servers:
        server.start(timeout=60)
    return app_servers
