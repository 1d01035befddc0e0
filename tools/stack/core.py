"""What every component of `make stack` shares: where things live, starting a process in its own
session, waiting until it is ready, stopping it by PID, handing out ports, and the state file that
records it all (var/stack/state.json)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import postgres  # tools/postgres.py

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "var" / "stack"
STATE = STACK / "state.json"
LOGS = STACK / "logs"
PG_BASE = Path(f"/tmp/conduit-stack-{hashlib.md5(str(ROOT).encode()).hexdigest()[:8]}")  # noqa: S324
PY = ROOT / ".venv" / "bin" / "python"
DEPLOY = ROOT / "deploy"
TIMEOUT = float(os.environ.get("STACK_TIMEOUT", "60"))

State = dict[str, Any]  # components (name, pid, address, log, match, stop), env, url, ...


class StackError(Exception):
    """A component did not start or become ready; the message names its log."""


# --- processes ----------------------------------------------------------------------------------


def binary(name: str) -> str:
    """A Debian daemon's path: nginx, haproxy and others live in /usr/sbin, which a non-login
    shell's PATH may lack."""
    found = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    if not found:
        raise StackError(f"{name} not found: tools/debian-packages.sh installs it (as root)")
    return found


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None


def pid_alive(pid: int, match: str = "") -> bool:
    """Alive, not a zombie, and (when ``match`` is given) still the program we started."""
    if not postgres.pid_alive(pid):
        return False
    if not match:
        return True
    # /proc/PID/cmdline can read empty for a moment while the process's memory map is busy (seen
    # with Prometheus replaying its WAL): try again, and an alive process that never shows its
    # command line is taken as ours (its PID was not reused within these few milliseconds).
    for _ in range(5):
        cmdline = _cmdline(pid)
        if cmdline is None:
            return False
        if cmdline:
            return match in cmdline
        time.sleep(0.01)
    return postgres.pid_alive(pid)


def fresh_directory(path: Path) -> Path:
    """``path`` made empty (deleted with what it holds, then made again with its parents): what
    a component starts with when make stack starts it afresh."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> int:
    """Start ``cmd`` in its own session (its PID is the server's, and the ID of the process group
    its children join), output appended to ``log``, in ``cwd`` (the checkout; a process run as
    postgres needs one it may enter: a checkout under /root is not)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True,
        )  # fmt: skip
    return proc.pid


def left_in_group(pgid: int, match: str) -> list[int]:
    """Processes of ours still in the process group ``pgid`` (a spawned process's PID): what a
    main process leaves behind when it dies without stopping its children. A granian server
    SIGKILLed (a crash, the OOM killer) leaves its worker serving the port."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:  # the fields after "(comm)": state, ppid, pgrp, ...
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        pid = int(stat.parent.name)
        if int(pgrp) == pgid and state != "Z" and match in (_cmdline(pid) or ""):
            found.append(pid)
    return found


def _wait_gone(pids: list[int], match: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(pid_alive(p, match) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
            os.kill(pid, sig)


def stop_pid(pid: int, sig: int, match: str, timeout: float = 30) -> None:
    """Stop a spawned process with its own graceful signal, SIGKILL after ``timeout`` seconds;
    then whatever of ours is left in its process group (SIGTERM, SIGKILL after 10 s)."""
    if pid_alive(pid, match):
        _signal([pid], sig)
        if not _wait_gone([pid], match, timeout):
            print(f"pid {pid} did not stop in {timeout:.0f} s: SIGKILL", file=sys.stderr)
            _signal([pid], signal.SIGKILL)
            _wait_gone([pid], match, 10)
    left = left_in_group(pid, match)
    if left:
        print(f"pid {pid} left {left} in its process group: SIGTERM", file=sys.stderr)
        _signal(left, signal.SIGTERM)
        if not _wait_gone(left, match, 10):
            _signal(left, signal.SIGKILL)
            _wait_gone(left, match, 10)


def wait_for(what: str, ready: Callable[[], bool], log: Path, pid: int, match: str = "") -> None:
    """Poll ``ready()`` until it is true; fail when the process dies or after STACK_TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    last = ""
    while True:
        try:
            if ready():
                return
        except Exception as error:  # not ready yet, whatever the reason
            last = f"{type(error).__name__}: {error}"
        if pid and not pid_alive(pid, match):
            raise StackError(f"{what} exited during start-up; see {log}")
        if time.monotonic() > deadline:
            raise StackError(f"{what} not ready after {TIMEOUT:.0f} s ({last}); see {log}")
        time.sleep(0.2)


def http_get(url: str, timeout: float = 2) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def answers_200(url: str) -> Callable[[], bool]:
    return lambda: http_get(url)[0] == 200


# --- ports --------------------------------------------------------------------------------------


class Ports:
    """Hands out ports: the one asked for in the environment (which must be free), else any."""

    def __init__(self) -> None:
        self.taken: set[int] = set()

    def take(self, var: str, default: int = 0, offset: int = 0) -> int:
        wanted = int(os.environ.get(var, str(default)))
        return self.claim(wanted + offset, var) if wanted else self.any()

    def claim(self, port: int, var: str) -> int:
        """``port``, which ``var`` asked for: it must be free."""
        if port in self.taken or not postgres.port_is_free(port):
            raise StackError(f"port {port} ({var}) is in use: free it or set {var}=<port>/0")
        self.taken.add(port)
        return port

    def any(self) -> int:
        port = postgres.free_port()
        while port in self.taken:
            port = postgres.free_port()
        self.taken.add(port)
        return port


# --- state --------------------------------------------------------------------------------------


def load_state() -> State | None:
    if not STATE.exists():
        return None
    return dict(json.loads(STATE.read_text()))


def save_state(state: State) -> None:
    STACK.mkdir(parents=True, exist_ok=True)
    tmp = STATE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(STATE)


class Stack:
    """The stack being started: every process is recorded (and the state file written) the
    moment it is spawned, so `stop` finds it even when a later component fails."""

    def __init__(self) -> None:
        self.state: State = {"components": [], "pg_base": str(PG_BASE), "complete": False,
                             "env": {}}  # fmt: skip
        save_state(self.state)

    def record(
        self, name: str, pid: int, address: str, log: Path, match: str, stop: str, **details: Any
    ) -> None:
        """``match``: a word of the process's command line (a reused PID is not ours);
        ``stop``: its graceful stop signal without SIG (postgres INT, nginx QUIT, ...);
        ``details``: more to remember (a Patroni member's ``rest_port`` and ``postmaster``, the
        data directory whose postmaster.pid names a process outside its process group)."""
        self.state["components"].append(
            {"name": name, "pid": pid, "address": address, "log": str(log), "match": match,
             "stop": stop, **details}
        )  # fmt: skip
        save_state(self.state)

    def set(self, **values: Any) -> None:
        self.state.update(values)
        save_state(self.state)
