"""The stack's log rotation (tools/stack/logrotate.py, docs/retention.md): a real nginx keeps
writing after its access log is renamed and it is told to reopen it; a real process appending
to its log keeps writing after the copy-and-truncate; only STACK_LOG_KEEP generations stay."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.services import ServerProcess, free_port
from tests.stack.conftest import ROOT, fetch, stack

logrotate = stack.logrotate


def wait_until(found, what: str, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not found():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def nginx():  # type: ignore[no-untyped-def]
    # nginx's workers (nobody) reopen the log by its path: pytest's tmp_path (0700) is closed
    # to them, as var/stack/ is not.
    workdir, port = Path(tempfile.mkdtemp(prefix="conduit-logrotate-")), free_port()
    workdir.chmod(0o755)
    (workdir / "tmp").mkdir()
    conf = stack.nginx_conf(workdir, port, [free_port()], ROOT)  # no app behind it: 502s
    argv = [stack.binary("nginx"), "-p", str(workdir), "-c", str(conf),
            "-e", str(workdir / "error.log"), "-g", "daemon off;"]  # fmt: skip
    process = ServerProcess(
        name="nginx", argv=argv, port=port, workdir=workdir, stop_signal=signal.SIGQUIT
    )
    process.start()
    yield port, workdir
    process.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.services
def test_nginx_reopens_its_access_log_after_the_rename(nginx) -> None:  # type: ignore[no-untyped-def]
    port, workdir = nginx
    access = workdir / "access.log"
    fetch(port, "GET", "/api/articles?before=rotation")
    wait_until(lambda: "before=rotation" in access.read_text(), "the first line")
    assert logrotate.rotate_reopened(access, workdir / "nginx.pid", keep=3)
    wait_until(access.exists, "nginx made a new access log")

    def logged_in_the_new_file() -> bool:  # its worker reopens on its next event: ask again
        fetch(port, "GET", "/api/articles?after=rotation")
        return "after=rotation" in access.read_text()

    wait_until(logged_in_the_new_file, "nginx reopened")
    assert "before=rotation" not in access.read_text()
    old = logrotate.generation(access, 1).read_text()
    assert old.startswith('{"time"')
    assert "before=rotation" in old


def test_a_process_appending_to_its_log_goes_on_after_copy_and_truncate(tmp_path: Path) -> None:
    log = tmp_path / "app-1.log"
    writer = (
        "import sys, time\n"
        "for i in range(400):\n"
        "    print(f'line {i}', flush=True); time.sleep(0.005)\n"
    )
    with open(log, "ab") as out:  # as tools/stack's spawn gives a server its stdout
        process = subprocess.Popen([sys.executable, "-c", writer], stdout=out)  # noqa: S603
    try:
        wait_until(lambda: log.stat().st_size > 200, "the writer started")
        assert logrotate.rotate_copied(log, keep=2)
    finally:
        process.wait(timeout=30)
    rotated = logrotate.generation(log, 1).read_text().splitlines()
    current = log.read_bytes()
    assert b"\0" not in current  # the writer went on at the start, not at its old offset
    lines = rotated + current.decode().splitlines()
    assert rotated[0] == "line 0"
    assert lines[-1] == "line 399"
    assert len(lines) >= 398  # at most a line between the copy and the truncate


def test_only_keep_generations_stay(tmp_path: Path) -> None:
    log = tmp_path / "celery-worker.log"
    for turn in range(5):
        log.write_text(f"turn {turn}\n")
        assert logrotate.rotate_copied(log, keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "celery-worker.log",
        "celery-worker.log.1",
        "celery-worker.log.2",
        "celery-worker.log.3",
    ]
    assert logrotate.generation(log, 1).read_text() == "turn 4\n"
    assert logrotate.generation(log, 3).read_text() == "turn 2\n"
    assert not logrotate.rotate_copied(log, keep=3)  # empty now: nothing to rotate


def test_between_whole_rotations_only_large_logs_rotate(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(logrotate, "LOGS", tmp_path)
    monkeypatch.setattr(logrotate, "NGINX", tmp_path / "no-nginx")
    monkeypatch.setattr(logrotate, "MAX_BYTES", 100)
    (tmp_path / "app-1.log").write_text("x" * 101)
    (tmp_path / "app-2.log").write_text("small\n")
    (tmp_path / "other.log").write_text("y" * 500)  # not a log the rotation owns
    assert logrotate.rotate_all(only_large=True) == ["app-1.log"]
    assert logrotate.rotate_all() == ["app-2.log"]
    assert not (tmp_path / "other.log.1").exists()


def test_the_command_rotates_now(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "tools" / "stack"), "rotate-logs", "--bogus"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "STACK_LOG_KEEP" in result.stdout
