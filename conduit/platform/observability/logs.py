"""Logging plumbing for the settings (structlog renders every line; see ADR 0013).

Two paths end in the same renderer and the same stdout:

* structlog's own loggers (the access log, ``structlog.get_logger()`` in the app) run their
  processors and write the rendered line straight to stdout with ``StdoutLogger``: no stdlib
  ``LogRecord``, which keeps the per-request access line to a few microseconds;
* the standard library's loggers (Django's, the libraries') go through the root handler,
  ``StdoutHandler``, whose formatter is structlog's ``ProcessorFormatter``.

Both hand their lines to one ``LineWriter``, which resolves ``sys.stdout`` when it writes, not
when logging was configured, so test capture and a replaced stdout see every line.

With ``LOG_FLUSH_SECONDS`` above 0 (the default, 0.05) the lines of info and below wait in the
process for up to that long and a thread of the writer's own writes them in one batch; warnings
and errors are written at once, after the lines before them. A write to stdout releases the
GIL, and under load another of the server's threads takes it: one such handoff per request (the
access line) cost bare Django half its throughput with granian's 4 threads (ADR 0042).
"""

import atexit
import logging
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, MutableMapping
from typing import Any

from django.conf import settings

# Past this many waiting lines (stdout slower than the logging) the logging thread writes them
# itself: it waits, and no line is dropped.
MAX_WAITING_LINES = 10_000


class LineWriter:
    """Writes log lines to stdout: each at once (``flush_seconds`` 0), or the lines of info and
    below in batches, at most ``flush_seconds`` after they were logged, by a thread of its own
    (started in each process that logs; lines waiting at exit are written by ``atexit``)."""

    def __init__(self, flush_seconds: float | None = None) -> None:
        self._flush_seconds = flush_seconds  # None: the LOG_FLUSH_SECONDS setting
        self._waiting: deque[str] = deque()
        self._lock = threading.Lock()  # one batch at a time, in order
        self._thread_pid = 0
        os.register_at_fork(after_in_child=self._forked)

    @property
    def flush_seconds(self) -> float:
        if self._flush_seconds is not None:
            return self._flush_seconds
        # Lines logged while the settings load (django-environ's) are written at once.
        return float(getattr(settings, "LOG_FLUSH_SECONDS", 0)) if settings.configured else 0.0

    def write(self, line: str, *, urgent: bool = False) -> None:
        self._waiting.append(line)
        if urgent or self.flush_seconds <= 0 or len(self._waiting) >= MAX_WAITING_LINES:
            self.flush()
        elif self._thread_pid != os.getpid():
            self._start()

    def flush(self) -> None:
        """Write every waiting line now."""
        with self._lock:
            waiting, take = self._waiting, self._waiting.popleft
            lines = [take() for _ in range(len(waiting))]
            if lines:
                stream = sys.stdout
                stream.write("\n".join(lines) + "\n")
                stream.flush()

    def _start(self) -> None:
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()
        threading.Thread(target=self._run, name="log-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.flush_seconds or 0.05)
            self.flush()

    def _forked(self) -> None:
        # The parent writes what was waiting when it forked; the child starts its own thread.
        self._waiting = deque()
        self._lock = threading.Lock()
        self._thread_pid = 0


writer = LineWriter()
atexit.register(writer.flush)
_URGENT = logging.WARNING


class StdoutHandler(logging.Handler):
    """The standard library's lines, through the same writer."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            writer.write(self.format(record), urgent=record.levelno >= _URGENT)
        except Exception:  # logging's contract: report, never raise
            self.handleError(record)


class StdoutLogger:
    """The final "logger" of structlog's chain: hands the rendered line to the writer."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or "conduit"

    def msg(self, message: str) -> None:
        writer.write(message)

    def urgent(self, message: str) -> None:
        writer.write(message, urgent=True)

    log = debug = info = msg
    warn = warning = error = critical = exception = fatal = urgent


def stdout_logger_factory(*args: Any) -> StdoutLogger:
    return StdoutLogger(args[0] if args else None)


class RedactCapabilities:
    """A structlog processor: the last segment of a capability URL (a signed link that works
    without signing in: an export download, an unsubscribe) is written ``[redacted]`` in a line's
    ``event`` and ``path``, so that whoever reads the logs cannot use the links in them. nginx
    does the same in its access log (deploy/nginx/conduit.conf.template)."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        alternatives = "|".join(re.escape(prefix) for prefix in prefixes)
        self._pattern = re.compile(f'({alternatives})[^/?#\\s"]+') if alternatives else None

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        pattern = self._pattern
        if pattern is not None:
            for key in ("event", "path"):
                value = event_dict.get(key)
                if isinstance(value, str):
                    event_dict[key] = pattern.sub(r"\1[redacted]", value)
        return event_dict
