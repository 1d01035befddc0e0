"""tools/stack/core.py: stopping a component stops all of it, also after its main process died."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from tests.services import wait_until
from tests.stack.conftest import stack

# A main process that starts a child in its own process group and waits: as granian does with its
# worker, which keeps serving the port when the main process is SIGKILLed.
PARENT = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", sys.argv[1]])
time.sleep(120)
"""


def test_stop_pid_stops_what_a_crashed_main_process_left_in_its_group(tmp_path: Path) -> None:
    marker = str(tmp_path / "stack-orphan-test")
    pid = stack.spawn([sys.executable, "-c", PARENT, marker], tmp_path / "log")
    both = "the main process and its child"
    wait_until(lambda: len(stack.core.left_in_group(pid, marker)) == 2, both)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not stack.core.pid_alive(pid, marker), "the main process gone")
    orphans = stack.core.left_in_group(pid, marker)
    assert len(orphans) == 1  # the child outlives its main process, as granian's worker does

    started = time.monotonic()
    stack.stop_pid(pid, signal.SIGTERM, marker, timeout=5)

    assert stack.core.left_in_group(pid, marker) == []
    assert not stack.core.pid_alive(orphans[0], marker)
    assert time.monotonic() - started < 5  # SIGTERM was enough


def test_stop_pid_stops_a_live_process_with_its_own_signal(tmp_path: Path) -> None:
    marker = str(tmp_path / "stack-stop-test")
    # Exits 0 on SIGINT (KeyboardInterrupt caught), and would ignore SIGTERM.
    # Its SIGINT handler is set explicitly: a process started with SIGINT ignored (anything a
    # non-interactive shell ran in the background) inherits that, and Python then sets none.
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "try:\n    time.sleep(120)\nexcept KeyboardInterrupt:\n    sys.exit(0)\n"
    )
    pid = stack.spawn([sys.executable, "-c", code, marker], tmp_path / "log")
    wait_until(lambda: stack.core.pid_alive(pid, marker), "the process")
    time.sleep(0.5)  # its signal handlers are set

    started = time.monotonic()
    stack.stop_pid(pid, signal.SIGINT, marker, timeout=10)

    assert not stack.core.pid_alive(pid, marker)
    assert time.monotonic() - started < 5  # no SIGKILL after the timeout was needed
