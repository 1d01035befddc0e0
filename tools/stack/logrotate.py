"""Rotation of the stack's logs (docs/retention.md): nginx's access log and the app servers' and
Celery's JSON logs under var/stack/, rotated every STACK_LOG_ROTATE_INTERVAL seconds (a day) or
sooner when one grows past STACK_LOG_MAX_BYTES, keeping STACK_LOG_KEEP generations (7: a week
at the daily rotation), the oldest deleted.

    .venv/bin/python tools/stack rotate-logs [--loop]   # make stack runs the loop

nginx's access log is renamed and nginx told to reopen it (SIGUSR1, as Debian's logrotate
script for nginx does). The app servers and Celery write to the file they inherited as stdout,
opened for appending: they cannot reopen it, so it is copied and then truncated (logrotate's
``copytruncate``; a line written between the copy and the truncate, microseconds apart, is lost).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from .core import LOGS, PY, ROOT, STACK, Stack, spawn, wait_for

KEEP = int(os.environ.get("STACK_LOG_KEEP", "7"))
INTERVAL = float(os.environ.get("STACK_LOG_ROTATE_INTERVAL", "86400"))
MAX_BYTES = int(os.environ.get("STACK_LOG_MAX_BYTES", str(100 * 1024 * 1024)))
NGINX = STACK / "nginx"


def generation(path: Path, n: int) -> Path:
    return path.with_name(f"{path.name}.{n}")


def _make_room(path: Path, keep: int) -> Path:
    """Delete ``path.<keep>``, move ``path.<n>`` to ``path.<n+1>``; returns ``path.1``."""
    generation(path, keep).unlink(missing_ok=True)
    for n in range(keep - 1, 0, -1):
        if generation(path, n).exists():
            generation(path, n).rename(generation(path, n + 1))
    return generation(path, 1)


def rotate_reopened(path: Path, pid_file: Path, keep: int = KEEP) -> bool:
    """Rename ``path`` and have the process in ``pid_file`` reopen it (nginx: SIGUSR1)."""
    if keep < 1 or not path.exists() or path.stat().st_size == 0 or not pid_file.exists():
        return False
    path.rename(_make_room(path, keep))
    os.kill(int(pid_file.read_text().strip()), signal.SIGUSR1)
    return True


def rotate_copied(path: Path, keep: int = KEEP) -> bool:
    """Copy ``path`` to its first generation and truncate it (its writer appends: it goes on
    at the new end)."""
    if keep < 1 or not path.exists() or path.stat().st_size == 0:
        return False
    shutil.copyfile(path, _make_room(path, keep))
    os.truncate(path, 0)
    return True


def stack_logs() -> list[Path]:
    """The copy-and-truncate logs: every app server's and Celery's."""
    return sorted([*LOGS.glob("app-*.log"), *LOGS.glob("celery-*.log")])


def rotate_all(*, only_large: bool = False) -> list[str]:
    """Rotate every log (``only_large``: those past MAX_BYTES); returns the names rotated."""

    def due(path: Path) -> bool:
        return path.exists() and (not only_large or path.stat().st_size > MAX_BYTES)

    done = []
    access = NGINX / "access.log"
    if due(access) and rotate_reopened(access, NGINX / "nginx.pid"):
        done.append(access.name)
    done += [path.name for path in stack_logs() if due(path) and rotate_copied(path)]
    return done


def loop(interval: float = INTERVAL, check_every: float = 60.0) -> int:
    """Rotate everything every ``interval`` seconds, and a log past MAX_BYTES within
    ``check_every`` seconds; SIGTERM stops it."""
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"{_now()} log rotation: every {interval:.0f} s, keeping {KEEP}", flush=True)
    next_run = next_check = time.monotonic()
    next_run += interval
    while not stopping:
        time.sleep(0.2)
        now = time.monotonic()
        if now < min(next_run, next_check):
            continue
        whole = now >= next_run
        next_check = now + check_every
        if whole:
            next_run = now + interval
        rotated = rotate_all(only_large=not whole)
        if rotated:
            print(f"{_now()} rotated {', '.join(rotated)}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    """``rotate-logs``: rotate everything now; ``rotate-logs --loop``: the stack's loop."""
    if argv == ["--loop"]:
        return loop()
    if argv:
        print(__doc__)
        return 2
    rotated = rotate_all()
    print(f"rotated: {', '.join(rotated) or 'nothing (no log, or all empty)'}")
    return 0


def start(stack: Stack) -> None:
    """The rotation loop, as one of the stack's processes."""
    log = LOGS / "logrotate.log"
    seen = log.stat().st_size if log.exists() else 0
    pid = spawn([str(PY), str(ROOT / "tools" / "stack"), "rotate-logs", "--loop"], log)
    stack.record("log-rotation", pid, f"every {INTERVAL:.0f} s", log, "rotate-logs", "TERM")
    wait_for("the log rotation", lambda: b"log rotation:" in log.read_bytes()[seen:], log, pid,
             "rotate-logs")  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
