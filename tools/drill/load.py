"""The drill's load: a bounded mix of reads and acknowledged writes sent to the stack's front door
by a few users registered at the start, each request written in the ledger (ledger.py).

- Bounded: requests are sent for ``duration`` seconds, at most ``rate`` a second across
  ``concurrency`` threads (a cap, not a schedule: a thread held up by a slow request does not make
  the others burst to catch up afterwards); a request gives up after ``timeout`` seconds.
- The mix (out of 100): 30 article lists, 30 single articles (anonymous), 15 new articles,
  15 comments, 10 favorites, the writes signed in as one of the users at random.
- A write that gets no answer or a 5xx is retried ``write_retries`` times, 0.5 s apart, with the
  same marker, as a client with a retry would: if the first attempt was applied although its
  answer was lost, the marker shows up twice in the database (reconcile.py).
- Loopback only: the front door's host must be 127.0.0.1 or localhost.
"""

from __future__ import annotations

import http.client
import json
import random
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .ledger import Record

MIX = (("list", 30), ("article", 30), ("create_article", 15), ("comment", 15), ("favorite", 10))
LOOPBACK = {"127.0.0.1", "localhost"}


class LoadError(Exception):
    """The load could not start (the users could not register, the site does not answer)."""


@dataclass(frozen=True)
class Settings:
    url: str  # the front door, http://127.0.0.1:<STACK_HTTP_PORT>
    duration: float = 40.0
    rate: float = 40.0
    concurrency: int = 8
    users: int = 4
    timeout: float = 30.0
    write_retries: int = 1
    seed: int = 0


@dataclass
class User:
    username: str
    token: str


@dataclass
class Shared:
    """What the threads share, each piece behind ``lock``."""

    slugs: list[str]  # articles to read and comment on: seeded ones and the run's acknowledged
    own_slugs: list[str] = field(default_factory=list)  # the run's acknowledged articles
    favorited: set[tuple[str, str]] = field(default_factory=set)  # pairs already sent
    records: list[Record] = field(default_factory=list)
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_number(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter


class Connection:
    """One keep-alive HTTP connection to the front door, made again after any failure."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def send(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str = ""
    ) -> tuple[int, dict[str, Any] | None]:
        """The status and the JSON answer; raises OSError or http.client's errors."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json", "User-Agent": "conduit-drill"}
        if token:
            headers["Authorization"] = f"Token {token}"
        try:
            self.conn.request(method, path, json.dumps(body) if body else None, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return response.status, parsed if isinstance(parsed, dict) else None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def favorite_acknowledged(answer: dict[str, Any], marker: str) -> str:
    """The pair, when the answer says the article is now favorited (KeyError otherwise)."""
    if answer["article"]["favorited"] is not True:
        raise KeyError("favorited")
    return marker


class Load:
    """One run of the load; ``run`` (a few hex digits) starts every marker and username."""

    def __init__(self, settings: Settings, run: str = "") -> None:
        parts = urllib.parse.urlsplit(settings.url)
        if parts.hostname not in LOOPBACK:
            raise LoadError(f"{settings.url}: the drill sends load to loopback only")
        self.settings = settings
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.run = run or secrets.token_hex(3)
        self.users: list[User] = []
        self.shared = Shared(slugs=[])
        self.t0 = 0.0
        self.cap_lock = threading.Lock()
        self.next_slot = 0.0

    def prefix(self) -> str:
        return f"drill-{self.run}"

    # --- before the load ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Register the users and pick the seeded articles to read (before the clock starts)."""
        try:
            self._prepare()
        except (OSError, http.client.HTTPException) as error:
            raise LoadError(f"{self.settings.url} does not answer: {error!r}") from error

    def _prepare(self) -> None:
        conn = Connection(self.host, self.port, self.settings.timeout)
        for i in range(1, self.settings.users + 1):
            name = f"{self.prefix()}-u{i}"
            user = {"username": name, "email": f"{name}@drill.invalid",
                    "password": secrets.token_urlsafe(16)}  # fmt: skip
            status, answer = conn.send("POST", "/api/users", {"user": user})
            if status != 201 or not answer:
                raise LoadError(f"registering {name} answered {status}: {answer}")
            self.users.append(User(name, answer["user"]["token"]))
        status, answer = conn.send("GET", "/api/articles?limit=20")
        if status != 200 or not answer or not answer.get("articles"):
            raise LoadError(f"GET /api/articles answered {status}: the stack has no articles?")
        self.shared.slugs = [a["slug"] for a in answer["articles"]]
        conn.close()

    # --- the load -----------------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic() - self.t0

    def wait_for_slot(self) -> bool:
        """Sleep until this thread may send (the rate cap); False once the duration is over."""
        with self.cap_lock:
            slot = max(self.next_slot, self.now())
            self.next_slot = slot + 1 / self.settings.rate
        if slot >= self.settings.duration:
            return False
        delay = slot - self.now()
        if delay > 0:
            time.sleep(delay)
        return True

    def attempt(
        self, conn: Connection, kind: str, method: str, path: str, *, body: dict[str, Any] | None
        = None, token: str = "", marker: str = "", attempt: int = 1,
    ) -> tuple[Record, dict[str, Any] | None]:  # fmt: skip
        start = self.now()
        try:
            status, answer = conn.send(method, path, body, token)
            error = ""
        except (OSError, http.client.HTTPException) as exc:
            status, answer, error = 0, None, type(exc).__name__
        record = Record(kind, start, self.now(), status, error, marker, attempt=attempt)
        return record, answer

    def write(
        self, conn: Connection, kind: str, path: str, body: dict[str, Any] | None, user: User,
        marker: str, acknowledge: Callable[[dict[str, Any]], str],
    ) -> dict[str, Any] | None:  # fmt: skip
        """A write with its retries; ``acknowledge(answer)`` is what a 2xx answer confirmed."""
        answer = None
        for attempt in range(1, self.settings.write_retries + 2):
            record, answer = self.attempt(conn, kind, "POST", path, body=body, token=user.token,
                                          marker=marker, attempt=attempt)  # fmt: skip
            if record.ok:
                try:
                    record = replace(record, acknowledged=acknowledge(answer or {}))
                except (KeyError, TypeError):  # a 2xx without what it must confirm: a failure
                    record = replace(record, status=0, error="bad answer")
            self.record(record)
            if record.ok or 400 <= record.status < 500 or self.now() >= self.settings.duration:
                return answer if record.ok else None
            time.sleep(0.5)
        return None

    def record(self, record: Record) -> None:
        with self.shared.lock:
            self.shared.records.append(record)

    def one(self, conn: Connection, rng: random.Random) -> None:
        kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        shared = self.shared
        with shared.lock:
            slug = rng.choice(shared.own_slugs or shared.slugs)
            read_slug = rng.choice(shared.slugs)
        user = rng.choice(self.users)
        if kind == "list":
            self.record(self.attempt(conn, kind, "GET", "/api/articles?limit=10")[0])
        elif kind == "article":
            self.record(self.attempt(conn, kind, "GET", f"/api/articles/{read_slug}")[0])
        elif kind == "create_article":
            title = f"{self.prefix()}-a-{shared.next_number()}"
            body = {"article": {"title": title, "description": "drill", "body": title,
                                "tagList": ["drill"]}}  # fmt: skip
            answer = self.write(conn, kind, "/api/articles", body, user, title,
                                lambda a: a["article"]["slug"])  # fmt: skip
            if answer:
                with shared.lock:
                    shared.own_slugs.append(answer["article"]["slug"])
                    shared.slugs.append(answer["article"]["slug"])
        elif kind == "comment":
            text = f"{self.prefix()}-c-{shared.next_number()}"
            self.write(conn, kind, f"/api/articles/{slug}/comments", {"comment": {"body": text}},
                       user, text, lambda a: str(a["comment"]["id"]))  # fmt: skip
        else:
            # Each pair once (a favorite is a set, not a counter), on the run's own articles.
            with shared.lock:
                fresh = [s for s in shared.own_slugs if (user.username, s) not in shared.favorited]
                slug = rng.choice(fresh or shared.slugs)
                if (user.username, slug) in shared.favorited:
                    return
                shared.favorited.add((user.username, slug))
            marker = f"{user.username} {slug}"
            self.write(conn, kind, f"/api/articles/{slug}/favorite", None, user, marker,
                       lambda a: favorite_acknowledged(a, marker))  # fmt: skip

    def worker(self, index: int) -> None:
        rng = random.Random(f"{self.settings.seed}-{index}")  # noqa: S311 - picks, not secrets
        conn = Connection(self.host, self.port, self.settings.timeout)
        while self.wait_for_slot():
            self.one(conn, rng)
        conn.close()

    def start(self) -> list[threading.Thread]:
        """Start the clock and the threads; ``join`` them (at most duration + timeout later)."""
        self.t0 = time.monotonic()
        threads = [threading.Thread(target=self.worker, args=(i,), name=f"drill-{i}", daemon=True)
                   for i in range(self.settings.concurrency)]  # fmt: skip
        for thread in threads:
            thread.start()
        return threads

    def records(self) -> list[Record]:
        with self.shared.lock:
            return sorted(self.shared.records, key=lambda r: r.start)
