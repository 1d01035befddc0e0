"""Helpers for the live-update tests: an events server like make run's, and an SSE reader."""

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from conduit.platform.events import publish
from tests.services import free_port


@dataclass
class SseEvent:
    id: str
    kind: str
    data: Any


class SseStream:
    """One open stream: ``next_events(n)`` reads n events, skipping comment lines."""

    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        self.conn.request("GET", path, headers=headers or {})
        self.response = self.conn.getresponse()
        self.comments: list[str] = []

    @property
    def status(self) -> int:
        return self.response.status

    def next_events(self, count: int, timeout: float = 5.0) -> list[SseEvent]:
        sock = self.conn.sock
        assert sock is not None
        deadline = time.monotonic() + timeout
        events: list[SseEvent] = []
        fields: dict[str, str] = {}
        while len(events) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(events)} of {count} events within {timeout} s")
            sock.settimeout(left)
            line = self.response.fp.readline().decode().rstrip("\n")
            if line == "":
                if "data" in fields:
                    data = json.loads(fields["data"])
                    events.append(SseEvent(fields.get("id", ""), fields.get("event", ""), data))
                fields = {}
            elif line.startswith(":"):
                self.comments.append(line)
            else:
                name, _, value = line.partition(": ")
                fields[name] = value
        return events

    def nothing_within(self, seconds: float) -> bool:
        """True when no event arrives within ``seconds`` (comment lines are not events)."""
        try:
            self.next_events(1, timeout=seconds)
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def fresh_broker() -> Iterator[None]:
    """The process's broker made again from the (possibly overridden) settings."""
    publish.broker.cache_clear()
    publish._Health.down_until = 0.0
    yield
    publish.broker.cache_clear()
    publish._Health.down_until = 0.0


@pytest.fixture(scope="session")
def events_server() -> Iterator[int]:
    """make run's events server: uvicorn in a thread of this process, on a free port."""
    from conduit.platform.events.embedded import serve_in_thread
    from config.asgi import application

    port = free_port()
    server = serve_in_thread(application, "127.0.0.1", port)
    yield port
    server.should_exit = True
