"""The drill's load generator (tools/drill/load.py) against a small fake of the API on loopback:
the rate cap and the duration bound hold, every 2xx write is in the ledger with what it
acknowledged, a write answered 502 is retried with the same marker, and a favorite pair is sent
once."""

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from drill.load import Load, LoadError, Settings


class FakeApi(BaseHTTPRequestHandler):
    """Just enough of Conduit's API; the first article create answers 502 (after applying it,
    as a proxy losing the answer would)."""

    server: "FakeServer"

    def log_message(self, *args: object) -> None:
        pass

    def answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.server.seen[("GET", self.path.split("?")[0].count("/"))] += 1
        if self.path.startswith("/api/articles?"):
            self.answer(200, {"articles": [{"slug": f"seed-{i}"} for i in range(5)]})
        else:
            self.answer(200, {"article": {"slug": self.path.rsplit("/", 1)[1]}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.posts.append((self.path, body, self.headers.get("Authorization", "")))
            first_create = self.path == "/api/articles" and not self.server.failed_once
            if first_create:
                self.server.failed_once = True
        if self.path == "/api/users" and self.server.refuse_registrations:
            self.answer(429, {"errors": {"body": ["too many requests"]}})
        elif self.path == "/api/users":
            self.answer(201, {"user": {"token": "t-" + body["user"]["username"]}})
        elif self.path == "/api/articles":
            if first_create:
                self.answer(502, {"errors": {"body": ["bad gateway"]}})
            else:
                self.answer(201, {"article": {"slug": body["article"]["title"] + "-s"}})
        elif self.path.endswith("/comments"):
            with self.server.lock:
                self.server.comment_id += 1
                comment_id = self.server.comment_id
            self.answer(201, {"comment": {"id": comment_id}})
        else:
            self.answer(200, {"article": {"favorited": True}})


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeApi)
        self.lock = threading.Lock()
        self.posts: list[tuple[str, dict[str, object], str]] = []
        self.seen: Counter[tuple[str, int]] = Counter()
        self.failed_once = False
        self.comment_id = 0
        self.refuse_registrations = False


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_load_is_capped_bounded_and_acknowledged_in_the_ledger(fake: FakeServer) -> None:
    settings = Settings(url=f"http://127.0.0.1:{fake.server_address[1]}", duration=1.5, rate=80,
                        concurrency=4, users=2, timeout=5, write_retries=1)  # fmt: skip
    load = Load(settings, run="abc")
    load.prepare()
    for thread in load.start():
        thread.join(timeout=10)
    records = load.records()

    assert 60 <= len(records) <= 80 * 1.5 + 1  # the cap, with the retry's extra attempt
    assert all(0 <= r.start < settings.duration and r.end >= r.start for r in records)
    assert {r.kind for r in records} == {"list", "article", "create_article", "comment",
                                         "favorite"}  # fmt: skip
    # Registered as drill-<run>-u<i>, and each write signed in as one of them.
    registered = [b["user"]["username"] for p, b, _ in fake.posts if p == "/api/users"]  # type: ignore[index]
    assert registered == ["drill-abc-u1", "drill-abc-u2"]
    writes = [(p, a) for p, _, a in fake.posts if p != "/api/users"]
    assert writes
    assert all(a in {"Token t-drill-abc-u1", "Token t-drill-abc-u2"} for _, a in writes)

    creates = [r for r in records if r.kind == "create_article"]
    first = creates[0]
    assert (first.status, first.attempt, first.acknowledged) == (502, 1, "")
    retry = next(r for r in creates if r.marker == first.marker and r.attempt == 2)
    assert retry.ok
    assert retry.acknowledged == first.marker + "-s"
    assert retry.start >= first.end + 0.5  # the client's pause before its retry
    for r in records:
        if r.is_write and r.ok:
            assert r.acknowledged, r
            assert r.marker.startswith("drill-abc-")
    comments = [r for r in records if r.kind == "comment" and r.ok]
    assert len({r.acknowledged for r in comments}) == len(comments)
    favorites = [r.marker for r in records if r.kind == "favorite"]
    assert len(favorites) == len(set(favorites))


def test_only_loopback_is_loaded() -> None:
    with pytest.raises(LoadError, match="loopback only"):
        Load(Settings(url="http://example.com:8080"))


def test_a_refused_registration_stops_the_drill_before_its_load(fake: FakeServer) -> None:
    fake.refuse_registrations = True
    load = Load(Settings(url=f"http://127.0.0.1:{fake.server_address[1]}/", users=1), run="x")
    with pytest.raises(LoadError, match="registering drill-x-u1 answered 429"):
        load.prepare()
    assert load.records() == []


def test_a_front_door_that_does_not_answer_stops_the_drill() -> None:
    load = Load(Settings(url="http://127.0.0.1:1", users=1, timeout=2))  # nothing on port 1
    with pytest.raises(LoadError, match="does not answer"):
        load.prepare()
