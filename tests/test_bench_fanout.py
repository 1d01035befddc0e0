"""``make bench-fanout``'s pieces that can be checked without the benchmark: its settings, the
latency summary, the CPU accounting, and the SMTP sink that decides "exactly once"
(tools/bench/fanout.py and the ``benchkit`` modules it uses)."""

import itertools
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType

import pytest

from tests.services import free_port
from tests.support import load_tool

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "bench"))  # as fanout.py finds it
from benchkit import cpu, fanout_report, latency, smtp_sink  # noqa: E402


@pytest.fixture(scope="module")
def fanout() -> ModuleType:
    return load_tool("fanout", REPO / "tools/bench/fanout.py")


def test_settings_come_from_the_environment(fanout: ModuleType, monkeypatch) -> None:
    monkeypatch.setenv("BENCH_FOLLOWERS", "1000")
    monkeypatch.setenv("BENCH_PROBE_INTERVAL", "0.25")
    config = fanout.Config.from_env()
    assert (config.followers, config.repeats, config.probe_interval) == (1000, 20, 0.25)
    monkeypatch.setenv("BENCH_REPEATS", "0")
    with pytest.raises(SystemExit, match="BENCH_REPEATS must be a positive integer"):
        fanout.Config.from_env()


def test_summary_takes_nearest_rank_percentiles() -> None:
    result = latency.summary([float(n) for n in range(100, 0, -1)])
    assert (result["n"], result["p50"], result["p99"]) == (100, 50.5, 99.0)
    assert (result["min"], result["max"], result["mean"]) == (1.0, 100.0, 50.5)
    assert result["samples"][:2] == [100.0, 99.0]  # in the order measured
    assert latency.summary([float(n) for n in range(1, 21)])["p99"] == 20.0  # 20 samples: the max


def test_cpu_cores_gives_the_rest_of_the_machine_as_other() -> None:
    before = {"celery_workers": 10.0, "bench_process": 1.0, "machine": 100.0}
    after = {"celery_workers": 26.0, "bench_process": 3.0, "machine": 120.0}
    assert cpu.cpu_cores(before, after, 10.0) == {
        "celery_workers": 1.6,
        "bench_process": 0.2,
        "other": 0.2,
    }


def test_the_sink_counts_a_repeated_email_as_a_duplicate() -> None:
    from aiosmtpd.controller import Controller

    sink = smtp_sink.CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            for recipient, message_id in [("a@x.test", "<1@x>"), ("b@x.test", "<2@x>")] * 2:
                message = EmailMessage()
                message["From"], message["To"] = "n@x.test", recipient
                message["Message-ID"], message["Subject"] = message_id, "New article"
                message.set_content("Hello")
                smtp.send_message(message)
            smtp.send_message(message, to_addrs=["c@x.test"])  # same Message-ID, new recipient
    finally:
        controller.stop()
    assert sink.received == 5
    assert sink.recipients == {"a@x.test": 2, "b@x.test": 2, "c@x.test": 1}
    assert sink.message_ids == {"<1@x>": 2, "<2@x>": 3}
    delivery = sink.delivery({"a@x.test", "b@x.test", "d@x.test"})
    assert delivery == {
        "expected": 3,
        "received": 5,
        "distinct_recipients": 3,
        "duplicate_emails": 2,
        "duplicate_message_ids": 3,
        "missing_recipients": 1,
        "unexpected_recipients": 1,
    }
    assert not fanout_report.exactly_once({**delivery, "records_sent": 3}, 3)


def test_exactly_once_needs_every_email_once_and_every_record_sent() -> None:
    clean = {
        "received": 3,
        "distinct_recipients": 3,
        "duplicate_emails": 0,
        "duplicate_message_ids": 0,
        "missing_recipients": 0,
        "unexpected_recipients": 0,
        "records_sent": 3,
    }
    assert fanout_report.exactly_once(clean, 3)
    assert not fanout_report.exactly_once({**clean, "records_sent": 2}, 3)
    assert not fanout_report.exactly_once(clean, 4)


def test_settle_waits_until_the_machine_is_quiet_or_for_the_longest():
    # Busy seconds read at each sample, 0.1 s apart: 2 cores busy twice, then quiet.
    readings = iter([0.0, 0.2, 0.2, 0.4, 0.4, 0.41])
    slept: list[float] = []
    assert cpu.settle(busy=lambda: next(readings), sleep=slept.append) == 0.3
    assert slept == [0.1, 0.1, 0.1]
    always_busy = itertools.count(step=0.2)
    assert cpu.settle(longest=1.0, busy=lambda: next(always_busy), sleep=lambda _: None) == 1.0
