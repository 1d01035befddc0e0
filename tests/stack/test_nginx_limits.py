"""nginx's limit_req (deploy/nginx/conduit.conf.template, ADR 0024): the outer rate limit per
client address, in front of every app server; and its access log, which never holds a
capability link's secret. Its own nginx, with the limits set low through
make stack's variables and no app server behind it: what passes the limit is a 502, what does not
is nginx's 429."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.services import ServerProcess, free_port
from tests.stack.conftest import ROOT, fetch, stack

pytestmark = [pytest.mark.services]


@pytest.fixture
def strict_nginx(strict_nginx_log: tuple[int, Path]) -> int:
    return strict_nginx_log[0]


@pytest.fixture
def strict_nginx_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STACK_NGINX_SIGN_INS_PER_MINUTE", "1")
    monkeypatch.setenv("STACK_NGINX_SIGN_INS_BURST", "2")
    monkeypatch.setenv("STACK_NGINX_REQUESTS_PER_SECOND", "1")
    monkeypatch.setenv("STACK_NGINX_REQUESTS_BURST", "5")
    workdir, port = tmp_path / "nginx", free_port()
    (workdir / "tmp").mkdir(parents=True)
    # Nobody on the app's port; no edge cache (its workers could not reach it under tmp_path).
    conf = stack.nginx_conf(workdir, port, [free_port()], ROOT, edge_cache=False)
    argv = [stack.binary("nginx"), "-p", str(workdir), "-c", str(conf),
            "-e", str(workdir / "error.log"), "-g", "daemon off;"]  # fmt: skip
    process = ServerProcess(
        name="nginx", argv=argv, port=port, workdir=workdir, stop_signal=signal.SIGQUIT
    )
    process.start()
    yield port, workdir / "access.log"
    process.stop()


def test_sign_ins_past_the_burst_get_429_from_nginx(strict_nginx: int) -> None:
    statuses = [fetch(strict_nginx, "POST", "/api/users/login").status for _ in range(8)]
    # One a minute plus the sign-ins' burst of 2 reach the app (502); the rest are refused.
    assert statuses == [502] * 3 + [429] * 5


def test_other_requests_past_their_burst_get_429(strict_nginx: int) -> None:
    statuses = [fetch(strict_nginx, "GET", "/api/articles").status for _ in range(10)]
    assert statuses[:6] == [502] * 6
    assert 429 in statuses[6:]


def test_capability_links_are_redacted_in_the_access_log(
    strict_nginx_log: tuple[int, Path],
) -> None:
    port, log = strict_nginx_log
    fetch(port, "GET", "/api/user/export/download/SECRET-EXPORT-LINK?x=1")
    fetch(port, "GET", "/notifications/unsubscribe/SECRET-UNSUBSCRIBE")
    fetch(port, "GET", "/api/articles?tag=kept")
    deadline = time.monotonic() + 5  # nginx writes a request's line after its answer
    while '"uri":"/api/articles?tag=kept"' not in (text := log.read_text()):
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    assert "SECRET" not in text
    assert '"uri":"/api/user/export/download/[redacted]?x=1"' in text
    assert '"uri":"/notifications/unsubscribe/[redacted]"' in text
    assert '"uri":"/api/articles?tag=kept"' in text
