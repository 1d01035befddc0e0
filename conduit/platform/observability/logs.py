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
import re
import sys
from collections.abc import Iterable, MutableMapping
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
