"""The log writer (``conduit/platform/observability/logs.py``, ADR 0042): lines of info and below
wait up to ``LOG_FLUSH_SECONDS`` and go out in one batch; warnings and errors go out at once,
after the lines before them; a process that exits writes what was waiting."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conduit.platform.observability import logs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def writer():
    return logs.LineWriter(flush_seconds=0.05)


def test_no_wait_writes_each_line_at_once(capsys):
    writer = logs.LineWriter()  # the test settings' LOG_FLUSH_SECONDS: 0
    writer.write("one")
    assert capsys.readouterr().out == "one\n"


def test_lines_wait_then_go_out_together(writer, capsys):
    writer.write("one")
    writer.write("two")
    assert capsys.readouterr().out == ""

    deadline = time.monotonic() + 5
    out = ""
    while time.monotonic() < deadline and out.count("\n") < 2:
        time.sleep(0.01)
        out += capsys.readouterr().out
    assert out == "one\ntwo\n"


def test_an_urgent_line_goes_out_at_once_after_the_waiting_ones(writer, capsys):
    writer.write("request")
    writer.write("database down", urgent=True)
    assert capsys.readouterr().out == "request\ndatabase down\n"


def test_too_many_waiting_lines_are_written_by_the_logging_thread(writer, capsys, monkeypatch):
    monkeypatch.setattr(logs, "MAX_WAITING_LINES", 3)
    writer.write("1")
    writer.write("2")
    assert capsys.readouterr().out == ""
    writer.write("3")
    assert capsys.readouterr().out == "1\n2\n3\n"


def test_warnings_through_the_standard_library_are_urgent(monkeypatch, capsys):
    writer = logs.LineWriter(flush_seconds=60)
    monkeypatch.setattr(logs, "writer", writer)
    handler = logs.StdoutHandler()
    logger = logs.logging.getLogger("test_log_writer")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("disk full")
    finally:
        logger.removeHandler(handler)
    assert capsys.readouterr().out == "disk full\n"


def test_a_process_that_exits_writes_its_waiting_lines():
    code = (
        "import django; django.setup()\n"
        "import structlog\n"
        "structlog.get_logger('conduit.access').info('request', path='/last')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_FLUSH_SECONDS": "10",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert '"path": "/last"' in result.stdout
    assert time.monotonic() - started < 10  # written at exit, not after the wait
