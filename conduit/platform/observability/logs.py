"""Logging plumbing for the settings (structlog renders every line; see ADR 0013).

Two paths end in the same renderer and the same stdout:

* structlog's own loggers (the access log, ``structlog.get_logger()`` in the app) run their
  processors and write the rendered line straight to stdout with ``StdoutLogger``: no stdlib
  ``LogRecord``, which keeps the per-request access line to a few microseconds;
* the standard library's loggers (Django's, the libraries') go through the root handler,
  ``StdoutHandler``, whose formatter is structlog's ``ProcessorFormatter``.

Both resolve ``sys.stdout`` when they write, not when logging was configured, so test capture and
a replaced stdout see every line.
"""

import logging
import sys
from threading import Lock
from typing import Any

_write_lock = Lock()


class StdoutHandler(logging.StreamHandler):
    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


class StdoutLogger:
    """The final "logger" of structlog's chain: writes the rendered line to stdout."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or "conduit"

    def msg(self, message: str) -> None:
        with _write_lock:
            stream = sys.stdout
            stream.write(message + "\n")
            stream.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def stdout_logger_factory(*args: Any) -> StdoutLogger:
    return StdoutLogger(args[0] if args else None)
