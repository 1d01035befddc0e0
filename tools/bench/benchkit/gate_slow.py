"""A deliberately slowed Conduit: the regression gate must trip on it (tests/test_bench_gate.py).

``tools/bench/gate.py --slow ENDPOINT:MS`` serves the endpoint's server process from this module
(``benchkit.gate_slow:application``) instead of ``config.wsgi:application``, with
``BENCH_GATE_SLOW_PATH`` (a regular expression on the request path) and ``BENCH_GATE_SLOW_MS``
in that process's environment only: every request whose path matches first spends that many
milliseconds of the thread's own CPU time in a busy loop (a regression of CPU work, not a sleep,
which another thread could overlap). Nothing of the product reads these variables, and no other
server starts from this module.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from config.wsgi import application as conduit_application

PATTERN = re.compile(os.environ.get("BENCH_GATE_SLOW_PATH", "") or r"(?!)")  # unset: never
SECONDS = float(os.environ.get("BENCH_GATE_SLOW_MS", "0") or 0) / 1000


def burn(seconds: float) -> None:
    """Busy for ``seconds`` of this thread's CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if SECONDS and PATTERN.search(environ.get("PATH_INFO", "")):
        burn(SECONDS)
    return conduit_application(environ, start_response)
