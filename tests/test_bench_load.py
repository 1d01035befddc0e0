"""The write scenarios' load side of ``make bench``: each Lua script's arguments and the requests
wrk sends with them (against a recording server on loopback), the tokens, the lock-wait
numbers, the references a write is divided by, and ``bare_write`` in the before/after rounds
(tools/bench/lua/, tools/bench/benchkit/, bench/README.md)."""

import itertools
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from conduit.platform import tokens as conduit_tokens
from conduit.users.models import User
from conduit.users.services import user_register
from tests.factories import UserFactory

REPO = Path(__file__).resolve().parent.parent
LUA = REPO / "tools" / "bench" / "lua"
sys.path.insert(0, str(REPO / "tools" / "bench"))  # as bench.py finds it
from benchkit import before_after, cleanup, locks, report, scenarios, tokens  # noqa: E402

Request = tuple[str, str, str | None, str]  # method, path, Authorization, body


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[str, list[Request]]]:
    """An HTTP/1.1 keep-alive server on loopback that answers 200 ``{}`` and records each
    request; yields its base URL and the list it records into."""
    seen: list[Request] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            seen.append((self.command, self.path, self.headers.get("Authorization"), body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = do_DELETE = answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def wrk_requests(recorder, script: str, args: list[str], path: str = "/") -> list[Request]:
    """The requests one wrk connection sends in about a second, in order."""
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.skip("needs wrk (make bench installs it from Debian)")
    base, seen = recorder
    seen.clear()
    done = subprocess.run(  # noqa: S603 - wrk on our own scripts and a loopback server
        [wrk, "-t1", "-c1", "-d1s", "-s", str(LUA / script), base + path, "--", *args],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BENCH_RESULT" in done.stdout
    time.sleep(0.1)  # the last answer's record
    assert len(seen) > 20, seen
    return list(seen)


def test_toggle_posts_on_every_path_then_deletes_on_every_path(recorder, tmp_path):
    a, b = "/api/profiles/a/follow", "/api/profiles/b/follow"
    paths = scenarios.write_lines(tmp_path, "p.txt", [a, b])

    sent = wrk_requests(recorder, "toggle.lua", [paths, "TOKEN"])

    cycle = [("POST", a), ("POST", b), ("DELETE", a), ("DELETE", b)]
    assert [(m, p) for m, p, _, _ in sent[:8]] == cycle * 2
    assert {auth for _, _, auth, _ in sent} == {"Token TOKEN"}


def test_crowd_posts_as_every_user_then_deletes_as_every_user(recorder, tmp_path):
    users = scenarios.write_lines(tmp_path, "t.txt", ["T1", "T2", "T3"])

    sent = wrk_requests(recorder, "crowd.lua", ["/api/articles/hot/favorite", users])

    cycle = [("POST", "Token T1"), ("POST", "Token T2"), ("POST", "Token T3"),
             ("DELETE", "Token T1"), ("DELETE", "Token T2"), ("DELETE", "Token T3")]  # fmt: skip
    assert [(m, auth) for m, _, auth, _ in sent[:12]] == cycle * 2
    assert {p for _, p, _, _ in sent} == {"/api/articles/hot/favorite"}


def test_comment_rotates_over_the_articles_with_a_unique_body_each(recorder, tmp_path):
    paths = scenarios.write_lines(
        tmp_path, "c.txt", ["/api/articles/a/comments", "/api/articles/b/comments"]
    )

    sent = wrk_requests(recorder, "comment.lua", [paths, "CO", "run7"])

    visited = [p for _, p, _, _ in sent]
    assert set(visited) == {"/api/articles/a/comments", "/api/articles/b/comments"}
    assert all(one != other for one, other in itertools.pairwise(visited))  # in turn
    bodies = [json.loads(body)["comment"]["body"] for _, _, _, body in sent]
    assert len(set(bodies)) == len(bodies)
    assert all(b.startswith(f"{cleanup.COMMENT_BODY}run7 ") for b in bodies)
    assert {(m, auth) for m, _, auth, _ in sent} == {("POST", "Token CO")}


def test_create_article_posts_a_new_title_each_that_the_clean_up_can_find(recorder):
    sent = wrk_requests(recorder, "create.lua", ["WR", "run7"])

    titles = [json.loads(body)["article"]["title"] for _, _, _, body in sent]
    assert len(set(titles)) == len(titles)
    assert all(title.startswith(f"{cleanup.WRITE_TITLE}run7 ") for title in titles)
    assert {(m, p, auth) for m, p, auth, _ in sent} == {("POST", "/api/articles", "Token WR")}


def test_update_user_changes_only_the_bio_a_new_one_each(recorder):
    sent = wrk_requests(recorder, "update.lua", ["UP", "run7"])

    users = [json.loads(body)["user"] for _, _, _, body in sent]
    assert {tuple(user) for user in users} == {("bio",)}
    assert len({user["bio"] for user in users}) == len(users)
    assert all(user["bio"].startswith(f"{cleanup.BIO}run7 ") for user in users)
    assert {(m, p, auth) for m, p, auth, _ in sent} == {("PUT", "/api/user", "Token UP")}


def test_register_sends_a_new_account_each_that_the_clean_up_can_find(recorder):
    sent = wrk_requests(recorder, "register.lua", ["run7", cleanup.REGISTER_PASSWORD])

    users = [json.loads(body)["user"] for _, _, _, body in sent]
    assert len({user["username"] for user in users}) == len(users)
    assert len({user["email"] for user in users}) == len(users)
    assert all(user["username"].startswith(f"{cleanup.REGISTERED}run7-") for user in users)
    assert {user["password"] for user in users} == {cleanup.REGISTER_PASSWORD}
    assert {(m, p, auth) for m, p, auth, _ in sent} == {("POST", "/api/users", None)}


def test_post_sends_the_same_post_to_the_urls_path(recorder):
    sent = wrk_requests(recorder, "post.lua", [], path="/bench/bare-write")

    assert set(sent) == {("POST", "/bench/bare-write", None, "{}")}


@pytest.mark.django_db
def test_the_longest_registered_account_passes_the_validators():
    run_id, n = "4194304-1999999999", 9_999_999  # bench.py's pid-time and a long run's count
    name = f"{cleanup.REGISTERED}{run_id}-{n}"

    user = user_register(username=name, email=f"{name}@register.bench.conduit.local",
                         password=cleanup.REGISTER_PASSWORD)  # fmt: skip

    assert user.check_password(cleanup.REGISTER_PASSWORD)


# --- tokens, lock waits and the references of a write -------------------------------------------


@pytest.mark.django_db
def test_tokens_are_minted_when_the_server_takes_them(monkeypatch):
    users = [UserFactory(username="one"), UserFactory(username="two")]
    asked = []
    monkeypatch.setattr(tokens, "http", lambda *a, **k: asked.append(a) or (200, b"{}"))

    minted, how = tokens.tokens_for("http://127.0.0.1:1", ["one", "two"])

    assert how == "minted"
    assert [conduit_tokens.verify(minted[u.username]).user_id for u in users] == [
        u.pk for u in users
    ]
    assert asked == [("GET", "http://127.0.0.1:1/api/user")]


@pytest.mark.django_db
def test_every_user_signs_in_when_the_server_refuses_a_minted_token(monkeypatch):
    UserFactory(username="one")

    def http(method, url, body=None, token=None):
        if url.endswith("/api/user"):
            return 401, b"{}"
        return 200, json.dumps({"user": {"token": f"signed-{body['user']['email']}"}}).encode()

    monkeypatch.setattr(tokens, "http", http)

    signed, how = tokens.tokens_for("http://127.0.0.1:1", ["one"])

    assert (signed, how) == ({"one": "signed-one@bench.conduit.local"}, "signed in")


def test_lock_wait_numbers_from_samples():
    summary = locks.summary([(0, 1), (2, 0), (0, 0), (5, 3)])

    assert summary == {
        "samples": 4, "interval_ms": 20, "lock_waiting_mean": 1.75, "lock_waiting_max": 5,
        "share_of_samples_with_lock_wait": 0.5, "idle_in_transaction_mean": 1.0,
    }  # fmt: skip
    assert locks.summary([])["lock_waiting_mean"] is None


@pytest.mark.django_db
def test_lock_waits_are_not_sampled_off_postgresql():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's case")
    sampler = locks.LockSampler()
    sampler.start()
    assert sampler.stop() is None


@pytest.mark.pg
@pytest.mark.django_db(transaction=True)
def test_a_backend_waiting_on_a_row_lock_is_sampled():
    user = UserFactory(username="locked")
    holding, waited = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user.pk).first()
            holding.set()
            waited.wait(10)
        connections.close_all()

    def wait() -> None:
        holding.wait(10)
        User.objects.filter(pk=user.pk).update(bio="waited")
        connections.close_all()

    sampler = locks.LockSampler()
    sampler.start()
    threads = [threading.Thread(target=hold), threading.Thread(target=wait)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    waited.set()
    for thread in threads:
        thread.join(10)
    result = sampler.stop()

    assert result is not None
    assert result["lock_waiting_max"] >= 1
    assert result["idle_in_transaction_mean"] > 0  # the holder, between its statements
    assert result["share_of_samples_with_lock_wait"] > 0


def test_a_write_is_divided_by_bare_write_and_a_read_by_the_read_references():
    raw = {"requests_per_s": 300.0, "requests": 3000, "duration_s": 10.0, "bytes": 3_000_000,
           "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "mean": 1.2, "max": 9.0},
           "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0}}  # fmt: skip
    refs = {"nginx_static": 30_000.0, "bare_django": 6_000.0, "bare_write": 1_200.0}
    waits = locks.summary([(1, 0), (0, 0)])

    write = report.scenario_entry(raw, refs, kind="write", lock_waits=waits)
    read = report.scenario_entry(raw, refs)

    assert write["ratio"] == {"bare_write": 0.25}
    assert read["ratio"] == {"nginx_static": 0.01, "bare_django": 0.05}
    assert write["lock_waits"]["share_of_samples_with_lock_wait"] == 0.5
    references = {"nginx_static": None, "bare_django": None,
                  "bare_write": report.scenario_entry(raw, {}, kind="write")}  # fmt: skip
    report.cross_ratios(references, {"nginx_static": None, "bare_django": None, "bare_write": 300})
    assert references["bare_write"]["ratio"] == {"bare_write": 1.0}
    text = report.table({"references": references, "scenarios": {"hot_follow": write}})
    assert "/bare_w" in text
    line = next(line for line in text.splitlines() if line.startswith("hot_follow"))
    assert " 0.250 " in line
    assert " 0.50 " in line  # lock waits: the mean
    assert " 50.0 " in line  # and the percentage of samples with one


def test_before_after_measures_bare_write_in_the_after_cached_run_only():
    envs = {}

    def run_side(cache, out, env):
        side = f"{'after' if env['BENCH_APP_DIR'] == str(REPO) else 'before'}-{cache}"
        envs[side] = env["BENCH_REFERENCES"]
        refs = {"bare_django": {"requests_per_s": 5000.0}, "bare_write": {"requests_per_s": 900.0}}
        return {"references": refs if "bare_write" in env["BENCH_REFERENCES"] else {},
                "scenarios": {"comment": {"requests_per_s": 300.0}}}  # fmt: skip

    def summary(result):
        return {"comment": {"requests_per_s": result["scenarios"]["comment"]["requests_per_s"]}}

    rounds, _ = before_after.run_rounds(Path("/before"), "redis", 1, {}, run_side, summary)

    assert envs == {"before-off": "0", "before-redis": "0", "after-off": "0",
                    "after-redis": "bare_django,bare_write"}  # fmt: skip
    assert rounds[0]["bare_write_requests_per_s"] == 900.0
    assert rounds[0]["bare_django_requests_per_s"] == 5000.0
    printed = before_after.table(rounds, before_after.criteria(rounds), "abc1234")
    assert "bare_write" in printed
