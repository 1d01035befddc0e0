"""The ledger's own figures (tools/drill/ledger.py) on made-up requests: the error window, the
time to recover, the timeline and the summary a drill prints."""

import math

import pytest
from drill.ledger import Record, error_window, summary, time_to_recover, timeline


def ok(start: float, end: float, kind: str = "list") -> Record:
    return Record(kind, start, end, 200)


def failed(start: float, end: float, status: int = 502, kind: str = "list") -> Record:
    return Record(kind, start, end, status, "" if status else "ConnectionResetError")


def test_no_failure_means_no_window_and_nothing_to_recover() -> None:
    records = [ok(0, 0.01), ok(1, 1.01), ok(12, 12.5)]
    assert error_window(records) is None
    assert time_to_recover(records, fault_at=10) == 0.0


def test_the_window_runs_from_the_first_failure_sent_to_the_last_one_answered() -> None:
    records = [ok(9.9, 10.0), failed(10.2, 10.3), failed(11.0, 13.5), ok(11.5, 11.6),
               failed(12.0, 12.1), ok(14.0, 14.1)]  # fmt: skip
    window = error_window(records)
    assert window == {
        "first_failure_s": 10.2,
        "last_failure_s": 13.5,
        "seconds": pytest.approx(3.3),
    }


def test_a_single_slow_failure_is_a_window_of_its_own_length() -> None:
    window = error_window([ok(0, 1), failed(10, 13, status=0)])
    assert window is not None
    assert window["seconds"] == pytest.approx(3.0)


def test_recovery_ends_at_the_first_success_sent_after_the_last_failure_was_sent() -> None:
    records = [
        failed(10.5, 11.0),
        failed(12.0, 12.2),  # the last failure sent
        ok(11.9, 12.8),  # sent before it: does not count, though it ended later
        ok(12.3, 13.4),
        ok(12.5, 13.1),  # the first to end of those sent after it
    ]
    assert time_to_recover(records, fault_at=10.0) == pytest.approx(3.1)


def test_a_failure_that_hangs_does_not_hold_recovery_back_when_later_requests_fail_too() -> None:
    # Sent at 10.1, timed out at 40: requests sent later failed until 14 and then succeeded.
    records = [failed(10.1, 40.0, status=0), failed(13.0, 14.0), ok(14.5, 14.6)]
    assert time_to_recover(records, fault_at=10.0) == pytest.approx(4.6)


def test_nothing_successful_after_the_last_failure_is_never_recovered() -> None:
    records = [ok(5, 5.1), failed(10.0, 10.1), failed(20, 20.5)]
    assert math.isinf(time_to_recover(records, fault_at=10.0))
    assert summary(records, fault_at=10.0)["time_to_recover_s"] is None
    assert summary(records, fault_at=10.0)["recovered"] is False


def test_timeline_counts_by_the_second_a_request_was_sent_and_keeps_empty_seconds() -> None:
    records = [ok(0.1, 0.2), failed(0.5, 2.5), ok(2.0, 2.25, kind="comment")]
    assert timeline(records, seconds=4) == [
        {"second": 0, "ok": 1, "errors": 1, "max_latency_ms": 2000.0},
        {"second": 1, "ok": 0, "errors": 0, "max_latency_ms": 0.0},
        {"second": 2, "ok": 1, "errors": 0, "max_latency_ms": 250.0},
        {"second": 3, "ok": 0, "errors": 0, "max_latency_ms": 0.0},
    ]


def test_summary_counts_failures_by_outcome_and_kind_relative_to_the_fault() -> None:
    records = [
        ok(1, 1.01),
        ok(2, 2.02, kind="create_article"),
        failed(10.5, 10.6, status=502, kind="create_article"),
        failed(10.7, 11.0, status=0, kind="article"),
        Record("comment", 11.5, 11.6, 409),  # a 4xx is a failure too
        ok(12, 12.01, kind="comment"),
    ]
    found = summary(records, fault_at=10.0)
    assert found["requests"] == 6
    assert found["errors"] == 3
    assert found["errors_by_outcome"] == {"502": 1, "ConnectionResetError": 1, "409": 1}
    assert found["error_window_s"] == pytest.approx(1.1)
    assert found["first_failure_after_fault_s"] == pytest.approx(0.5)
    assert found["last_failure_after_fault_s"] == pytest.approx(1.6)
    assert found["time_to_recover_s"] == pytest.approx(2.01)
    assert found["by_kind"]["create_article"] == {"requests": 2, "errors": 1}
    assert found["by_kind"]["favorite"] == {"requests": 0, "errors": 0}
    assert [r["start"] for r in found["failed_requests"]] == [10.5, 10.7, 11.5]
    assert found["latency_after_fault_ms"]["max"] == pytest.approx(300.0)


def test_a_record_survives_the_ledger_file() -> None:
    record = Record("favorite", 1.23456, 2.5, 200, marker="u s", acknowledged="u s", attempt=2)
    assert Record.from_json(record.to_json()) == Record("favorite", 1.2346, 2.5, 200, "", "u s",
                                                        "u s", 2)  # fmt: skip
