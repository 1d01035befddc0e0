"""Lock waits during a load run: PostgreSQL's ``pg_stat_activity`` sampled every ~20 ms from a
thread with a database connection of its own (Django's, opened in that thread: the runner's own
connection is closed during the load). Per run: how many backends waited on a lock
(``wait_event_type = 'Lock'``: a row, a tuple or a transaction id another one holds), on average
and at most, the share of samples with at least one waiting, and how many sat ``idle in
transaction`` (a transaction open between two statements). None when the database is not
PostgreSQL. Django must be set up."""

from __future__ import annotations

import threading
import time
from typing import Any

INTERVAL_S = 0.02
_SAMPLE = """
    SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),
           count(*) FILTER (WHERE state = 'idle in transaction')
    FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND datname = current_database()
      AND pid <> pg_backend_pid()
"""


def summary(samples: list[tuple[int, int]], interval_s: float = INTERVAL_S) -> dict[str, Any]:
    """The lock-wait numbers of a run from its (waiting on a lock, idle in transaction) samples."""
    n = len(samples)
    waiting = [sample[0] for sample in samples]
    idle = [sample[1] for sample in samples]
    return {
        "samples": n,
        "interval_ms": round(interval_s * 1000),
        "lock_waiting_mean": round(sum(waiting) / n, 3) if n else None,
        "lock_waiting_max": max(waiting, default=None),
        "share_of_samples_with_lock_wait": (
            round(sum(1 for w in waiting if w) / n, 4) if n else None
        ),
        "idle_in_transaction_mean": round(sum(idle) / n, 3) if n else None,
    }


class LockSampler:
    """``start()`` before a run, ``stop()`` after it: its summary, or None off PostgreSQL."""

    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: str | None = None

    @staticmethod
    def available() -> bool:
        from django.db import connection

        return connection.vendor == "postgresql"

    def start(self) -> None:
        if not self.available():
            return
        self._samples, self._error = [], None
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lock-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any] | None:
        if self._thread is None:
            return None
        self._stop.set()
        self._thread.join(timeout=10)
        self._thread = None
        result = summary(self._samples, self.interval_s)
        if self._error:
            result["error"] = self._error
        return result

    def _run(self) -> None:
        from django.db import connections

        connection = connections["default"]  # this thread's own
        try:
            with connection.cursor() as cursor:
                next_at = time.monotonic()
                while not self._stop.is_set():
                    cursor.execute(_SAMPLE)
                    row = cursor.fetchone()
                    if row is not None:
                        self._samples.append((int(row[0]), int(row[1])))
                    next_at = max(next_at + self.interval_s, time.monotonic())  # no bursts
                    self._stop.wait(max(0.0, next_at - time.monotonic()))
        except Exception as error:  # recorded with the run's numbers, not fatal to the run
            self._error = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
