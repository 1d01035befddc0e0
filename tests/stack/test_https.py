"""HTTPS in `make stack` (ADR 0033): nginx and HAProxy rendered from deploy/ with make stack's
CONDUIT_TLS serve HTTPS with the stack's certificate beside plain HTTP, in front of a real app
server on the test database, with the app environment make stack gives it:

- over HTTPS, verified against the stack's CA (and refused by a client trusting another), every
  answer from the app carries HSTS; plain HTTP never does;
- plain HTTP redirects a browser's navigation (``Upgrade-Insecure-Requests: 1``) to HTTPS and
  leaves loopback tools (no such header) on plain HTTP, by default; ``STACK_HTTP_REDIRECT=all``
  redirects every request, ``off`` none.
"""

from __future__ import annotations

import http.client
import shutil
import signal
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import ServerProcess, free_port
from tests.stack.conftest import Response, fetch, make_app_server, stack, test_database_url

pytestmark = [pytest.mark.services, pytest.mark.pg, pytest.mark.django_db(transaction=True)]

HSTS = "max-age=300; includeSubDomains"


@dataclass
class Front:
    nginx: ServerProcess
    redirect: str  # STACK_HTTP_REDIRECT
    https_port: int
    ca: Path
    other_ca: Path


@pytest.fixture(scope="module")
def app(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the stack tests run on PostgreSQL")
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        database_url = test_database_url()
    server = make_app_server("app", tmp_path_factory.mktemp("https-app"), database_url)
    assert server.env is not None
    # What tools/stack/apps.py sets behind nginx.
    server.env.update({"TRUST_X_FORWARDED_PROTO": "true", "SECURE_HSTS_SECONDS": "300"})
    server.start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def certificates() -> Iterator[tuple[Path, Path]]:
    base = Path(tempfile.mkdtemp(prefix="conduit-https-test-", dir="/tmp"))
    try:
        yield base, stack.tls.ensure(base / "other").ca
    finally:
        shutil.rmtree(base)


@pytest.fixture(
    scope="module",
    params=[
        ("nginx", "browsers"),
        ("nginx", "all"),
        ("nginx", "off"),
        ("haproxy", "browsers"),
        ("haproxy", "all"),
        ("haproxy", "off"),
    ],
    ids=lambda p: "-".join(p),
)
def front(
    request: pytest.FixtureRequest,
    app: ServerProcess,
    certificates: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Front]:
    """The balancer as make stack configures it (STACK_LB, STACK_HTTP_REDIRECT)."""
    kind, redirect = request.param
    base, other_ca = certificates
    tls = stack.tls.ensure(base / "tls")
    prefix = tmp_path_factory.mktemp(f"{kind}-{redirect}")
    port, https_port = free_port(), free_port()
    if kind == "nginx":
        (prefix / "tmp").mkdir()
        lines = stack.nginx_tls(https_port, tls, redirect)
        conf = stack.nginx_conf(prefix, port, [app.port], stack.ROOT, tls=lines)
        argv = [
            *(stack.binary("nginx"), "-p", str(prefix), "-c", str(conf)),
            *("-e", str(prefix / "error.log"), "-g", "daemon off;"),
        ]
        stop = signal.SIGQUIT
    else:
        lines = stack.haproxy_tls(https_port, tls.pem(prefix), redirect)
        conf = stack.haproxy_conf(prefix, port, [app.port], free_port(), tls=lines)
        argv, stop = [stack.binary("haproxy"), "-f", str(conf), "-db"], signal.SIGUSR1
    balancer = ServerProcess(name=kind, argv=argv, port=port, workdir=prefix, stop_signal=stop)
    balancer.ready = lambda: fetch(port, "GET", "/healthz", timeout=2).status == 200
    balancer.start()
    try:
        yield Front(balancer, redirect, https_port, tls.ca, other_ca)
    finally:
        balancer.stop()


def fetch_https(port: int, path: str, ca: Path, headers: dict[str, str] | None = None) -> Response:
    context = ssl.create_default_context(cafile=str(ca))
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/", "/api/articles", "/healthz"])
def test_https_verified_with_the_stack_ca_carries_hsts(front: Front, path: str) -> None:
    response = fetch_https(front.https_port, path, front.ca)
    assert response.status == 200, response.body[:300]
    assert response.headers["strict-transport-security"] == HSTS


def test_a_client_trusting_another_ca_refuses_the_server(front: Front) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        fetch_https(front.https_port, "/healthz", front.other_ca)


def test_a_browser_navigation_over_plain_http(front: Front) -> None:
    browser = {"Upgrade-Insecure-Requests": "1", "Host": "localhost"}
    response = fetch(front.nginx.port, "GET", "/article/x?a=1", headers=browser)
    if front.redirect in ("browsers", "all"):
        assert response.status == 308
        assert response.headers["location"] == f"https://localhost:{front.https_port}/article/x?a=1"
    else:  # off
        assert response.status in (200, 404)
    assert "strict-transport-security" not in response.headers


def test_the_probes_are_never_redirected(front: Front) -> None:
    for path in ("/healthz", "/readyz"):
        assert fetch(front.nginx.port, "GET", path).status == 200, path


def test_a_loopback_tool_over_plain_http(front: Front) -> None:
    response = fetch(front.nginx.port, "GET", "/api/articles?limit=1")
    if front.redirect == "all":
        assert response.status == 308
        location = f"https://127.0.0.1:{front.https_port}/api/articles?limit=1"
        assert response.headers["location"] == location
    else:  # browsers (the default) and off: the bench, the drills and the suites go on as before
        assert response.status == 200
        assert response.json()["articlesCount"] >= 0
    assert "strict-transport-security" not in response.headers


def test_nginx_rejects_an_unknown_redirect_mode(tmp_path: Path) -> None:
    with pytest.raises(stack.StackError, match="STACK_HTTP_REDIRECT"):
        stack.nginx_tls(1, stack.tls.Tls(tmp_path), "sometimes")
