"""``make bench-fanout``'s pieces that can be checked without the benchmark: the latency summary,
the CPU accounting, and the SMTP sink that decides "exactly once" (tools/bench/fanout.py)."""

import importlib.util
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType

import pytest

from tests.services import free_port

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fanout() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fanout", REPO / "tools/bench/fanout.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["fanout"] = module
    spec.loader.exec_module(module)
    return module


def test_summary_takes_nearest_rank_percentiles(fanout: ModuleType) -> None:
    result = fanout.summary([float(n) for n in range(100, 0, -1)])
    assert (result["n"], result["p50"], result["p99"]) == (100, 50.5, 99.0)
    assert (result["min"], result["max"], result["mean"]) == (1.0, 100.0, 50.5)
    assert result["samples"][:2] == [100.0, 99.0]  # in the order measured
    assert fanout.summary([float(n) for n in range(1, 21)])["p99"] == 20.0  # 20 samples: the max


def test_cpu_cores_gives_the_rest_of_the_machine_as_other(fanout: ModuleType) -> None:
    before = {"celery_workers": 10.0, "bench_process": 1.0, "machine": 100.0}
    after = {"celery_workers": 26.0, "bench_process": 3.0, "machine": 120.0}
    assert fanout.cpu_cores(before, after, 10.0) == {
        "celery_workers": 1.6,
        "bench_process": 0.2,
        "other": 0.2,
    }


def test_the_sink_counts_a_repeated_email_as_a_duplicate(fanout: ModuleType) -> None:
    from aiosmtpd.controller import Controller

    sink = fanout.CountingSink()
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
