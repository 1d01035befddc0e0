"""The load balancer in front of the app servers (tools/stack's nginx and HAProxy configs, made
from deploy/): an app server that dies is routed around without failed requests, one that comes
back gets traffic again, and the app servers share no state, so any of them serves any request."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from tests.services import ServerProcess, wait_until
from tests.stack.conftest import Balancer, Browser, fetch

# The app servers are live processes on the test database: every test needs it set up, and
# what they write is flushed afterwards.
pytestmark = [pytest.mark.services, pytest.mark.pg, pytest.mark.django_db(transaction=True)]

# Requests that started within this long after the kill may have been on their way to the dead
# server when it died; after it, the balancer must have routed around it. Both configs retry an
# idempotent request on the other server, so in practice none fails even inside the window.
RETRY_WINDOW = 1.0


@dataclass
class Sent:
    started: float
    request_id: str
    outcome: int | str  # the status, or the error's name


@dataclass
class Load:
    """A bounded load loop: ``threads`` clients sending GETs to 127.0.0.1:``port``, until the test
    is done, ``max_requests`` were sent or ``max_seconds`` passed.

    The budget must outlast the test's slowest step, an app server's restart (2-3 s of Django
    start-up, during which a fast machine sends ~1,500 requests a second to the other server):
    at 5,000 it ran out there in 3 runs out of 8, and the rejoin then had nothing to serve.
    """

    port: int
    threads: int = 4
    max_requests: int = 50_000
    max_seconds: float = 120.0
    deadline: float = float("inf")  # set when the load starts
    results: list[Sent] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, number: int) -> None:
        n = 0
        while not self.stopping.is_set() and not self.spent():
            request_id = f"load-{self.port}-{number}-{n}"
            started = time.monotonic()
            try:
                response = fetch(
                    self.port, "GET", "/api/articles?limit=1", headers={"X-Request-ID": request_id}
                )
                outcome: int | str = response.status
            except OSError as error:
                outcome = type(error).__name__
            with self.lock:
                self.results.append(Sent(started, request_id, outcome))
            n += 1

    def spent(self) -> bool:
        return len(self.results) >= self.max_requests or time.monotonic() > self.deadline

    def ok_after(self, moment: float) -> int:
        self._still_sending()
        with self.lock:
            return sum(1 for r in self.results if r.started > moment and r.outcome == 200)

    def ids_after(self, moment: float) -> list[str]:
        self._still_sending()
        with self.lock:
            return [r.request_id for r in self.results if r.started > moment]

    def _still_sending(self) -> None:
        """A check still waiting when the budget ran out would wait for requests that never come."""
        if self.spent():
            raise RuntimeError(f"the load's budget ran out after {len(self.results)} requests")

    @contextmanager
    def running(self) -> Iterator[Load]:
        self.deadline = time.monotonic() + self.max_seconds
        workers = [threading.Thread(target=self.client, args=(i,)) for i in range(self.threads)]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            self.stopping.set()
            for worker in workers:
                worker.join(30)


def served(server: ServerProcess, request_ids: list[str]) -> bool:
    """Did ``server`` log any of these requests (its JSON access lines carry the request id)?"""
    log = server.log.read_text(errors="replace")
    return any(f'"{request_id}"' in log for request_id in request_ids)


def kill_hard(server: ServerProcess) -> None:
    """SIGKILL the server and its worker processes (its own session), as a crashed machine."""
    assert server.process is not None
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)


def test_a_killed_app_server_is_routed_around_and_rejoins(
    balancer: Balancer, running_apps: list[ServerProcess]
) -> None:
    a, b = running_apps
    with Load(balancer.port).running() as load:
        began = time.monotonic()
        wait_until(lambda: load.ok_after(began) >= 40, "40 requests through the balancer")
        wait_until(
            lambda: served(a, load.ids_after(began)) and served(b, load.ids_after(began)),
            "both app servers serving",
        )

        kill_hard(a)
        killed_at = time.monotonic()
        wait_until(lambda: load.ok_after(killed_at + RETRY_WINDOW) >= 100, "100 requests after")

        a.start(timeout=60)
        back_at = time.monotonic()
        wait_until(lambda: served(a, load.ids_after(back_at)), "the restarted server serving")
        after_rejoin = load.ok_after(back_at)

    failed = [r for r in load.results if r.outcome != 200]
    late = [r for r in failed if r.started > killed_at + RETRY_WINDOW]
    print(
        f"{balancer.kind}: {len(load.results)} requests, {len(failed)} failed "
        f"({len(late)} after the retry window), {after_rejoin} after the rejoin"
    )
    assert not late, late[:5]


def register(port: int, name: str) -> tuple[str, str]:
    """Sign up through the API on ``port``: (email, token)."""
    email = f"{name}@example.com"
    body = {"user": {"username": name, "email": email, "password": "stateless-pass-1"}}
    response = fetch(
        port,
        "POST",
        "/api/users",
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 201, response.body
    return email, response.json()["user"]["token"]


def test_a_token_from_one_app_server_works_on_the_other(running_apps: list[ServerProcess]) -> None:
    a, b = running_apps
    _, token = register(a.port, "token-traveller")
    auth = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    me = fetch(b.port, "GET", "/api/user", headers=auth)
    assert me.status == 200
    assert me.json()["user"]["username"] == "token-traveller"

    article = {"article": {"title": "Written via B", "description": "d", "body": "b"}}
    payload = json.dumps(article).encode()
    created = fetch(b.port, "POST", "/api/articles", body=payload, headers=auth)
    assert created.status == 201, created.body
    slug = created.json()["article"]["slug"]
    read = fetch(a.port, "GET", f"/api/articles/{slug}")
    assert read.json()["article"]["title"] == "Written via B"


def csrf_token(html: bytes) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1).decode()


def test_a_session_and_csrf_token_from_one_app_server_work_on_the_other(
    running_apps: list[ServerProcess],
) -> None:
    a, b = running_apps
    email, _ = register(a.port, "session-traveller")
    browser = Browser()

    login = browser.send(a.port, "GET", "/login")
    signed_in = browser.send(
        a.port,
        "POST",
        "/login",
        {"csrfmiddlewaretoken": csrf_token(login.body), "email": email,
         "password": "stateless-pass-1"},
    )  # fmt: skip
    assert signed_in.status == 302, signed_in.body[:500]
    assert "sessionid" in browser.cookies

    # The form comes from A (its CSRF token, A's session); the post goes to B.
    editor = browser.send(a.port, "GET", "/editor")
    assert editor.status == 200
    posted = browser.send(
        b.port,
        "POST",
        "/editor",
        {"csrfmiddlewaretoken": csrf_token(editor.body), "title": "Posted via B",
         "description": "d", "body": "b", "tags": "stateless"},
    )  # fmt: skip
    assert posted.status == 302, posted.body[:500]
    article = browser.send(a.port, "GET", posted.headers["location"])
    assert article.status == 200
    assert b"Posted via B" in article.body
