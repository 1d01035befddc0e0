"""Many Server-Sent Event streams from one asyncio loop in a thread: ``make bench-events``.

Idle streams read and drop what arrives (heartbeats); listening streams also record, for each
``comment`` event, the wall-clock time it arrived with its data, so that the bench can subtract
the comment's ``createdAt`` (same machine, same clock).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Arrival:
    at: float  # time.time() when the event's data line was read
    data: dict[str, Any]


@dataclass
class Streams:
    port: int
    opened: int = 0
    failed: int = 0
    closed_early: int = 0
    arrivals: list[Arrival] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def open(self, paths: list[str], *, listen: bool, batch: int = 200) -> float:
        """Open one stream per path (``batch`` at a time); seconds it took."""
        started = time.monotonic()
        future = asyncio.run_coroutine_threadsafe(self._open_all(paths, listen, batch), self._loop)
        future.result(timeout=180)
        return time.monotonic() - started

    async def _open_all(self, paths: list[str], listen: bool, batch: int) -> None:
        for i in range(0, len(paths), batch):
            await asyncio.gather(*(self._open(p, listen) for p in paths[i : i + batch]))

    async def _open(self, path: str, listen: bool) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Accept: text/event-stream\r\n\r\n".encode()
            )
            status = await asyncio.wait_for(reader.readline(), 30)
            if b" 200 " not in status:
                self.failed += 1
                writer.close()
                return
            while (await reader.readline()) not in (b"\r\n", b""):
                pass  # headers
            first = await asyncio.wait_for(reader.readuntil(b"\n\n"), 30)  # retry + ": open"
            if b"retry:" not in first:
                self.failed += 1
                return
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            self.failed += 1
            return
        self.opened += 1
        self._writers.append(writer)
        asyncio.get_running_loop().create_task(self._read(reader, listen))

    async def _read(self, reader: asyncio.StreamReader, listen: bool) -> None:
        try:
            while line := await reader.readline():
                if listen and line.startswith(b"data: "):
                    # a chunked body: the chunk-size lines are skipped as non-"data" lines
                    self.arrivals.append(Arrival(time.time(), json.loads(line[6:])))
        except (OSError, ValueError):
            pass
        self.closed_early += 1

    def close_all(self) -> None:
        async def close() -> None:
            for writer in self._writers:
                writer.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
