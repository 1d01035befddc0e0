"""The client-side ledger of a drill's load and what it says by itself: every request's kind, start,
end and status, and for a write the logical write it belongs to (its marker) and what the server
acknowledged. From it: the error window, the time to recover, latencies and a per-second timeline.
The ledger against the database: reconcile.py.

Times are seconds since the load started (a monotonic clock); ``fault_at`` is on the same scale.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

READS = ("list", "article")
WRITES = ("create_article", "comment", "favorite")


@dataclass(frozen=True)
class Record:
    """One request. ``status`` 0: no HTTP answer (refused, reset, timed out; ``error`` names it).
    A write's ``marker`` is the logical write's client-made unique key (an article's title, a
    comment's body, ``username slug`` for a favorite), the same on a retry; ``acknowledged`` is
    what a 2xx answer confirmed (the article's slug, the comment's id, the favorite's pair)."""

    kind: str
    start: float
    end: float
    status: int
    error: str = ""
    marker: str = ""
    acknowledged: str = ""
    attempt: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_write(self) -> bool:
        return self.kind in WRITES

    def to_json(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(**data)


def failures(records: list[Record]) -> list[Record]:
    return [r for r in records if not r.ok]


def error_window(records: list[Record]) -> dict[str, float] | None:
    """From the start of the first failing request to the end of the last one (a single failed
    request that took 3 s is a 3 s window); None when nothing failed."""
    failed = failures(records)
    if not failed:
        return None
    first = min(r.start for r in failed)
    last = max(r.end for r in failed)
    return {"first_failure_s": first, "last_failure_s": last, "seconds": last - first}


def time_to_recover(records: list[Record], fault_at: float) -> float:
    """Seconds from the fault to the end of the first successful request sent no earlier than the
    last failing request was sent: from then on the service answered again. 0 when no request
    failed; infinity when nothing sent after the last failure succeeded (not recovered within the
    load)."""
    failed = failures(records)
    if not failed:
        return 0.0
    last_sent = max(r.start for r in failed)
    after = [r.end for r in records if r.ok and r.start >= last_sent]
    if not after:
        return math.inf
    return max(0.0, min(after) - fault_at)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank, as the bench reports its latencies."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_ms(records: list[Record]) -> dict[str, float]:
    values = [(r.end - r.start) * 1000 for r in records]
    return {
        "p50": round(percentile(values, 50), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values, default=0.0), 1),
    }


def timeline(records: list[Record], seconds: int | None = None) -> list[dict[str, Any]]:
    """Per second of the load, by the second each request was sent in: how many succeeded and
    failed, and the slowest one's latency (a request that waited through a failover shows here
    even when it succeeded)."""
    last = max((int(r.start) for r in records), default=-1) + 1
    span = max(last, seconds or 0)
    out = [{"second": s, "ok": 0, "errors": 0, "max_latency_ms": 0.0} for s in range(span)]
    for r in records:
        bucket = out[int(r.start)]
        bucket["ok" if r.ok else "errors"] += 1
        bucket["max_latency_ms"] = max(bucket["max_latency_ms"], round((r.end - r.start) * 1000, 1))
    return out


def outcome(record: Record) -> str:
    return str(record.status) if record.status else (record.error or "no answer")


def summary(records: list[Record], fault_at: float) -> dict[str, Any]:
    """What a drill prints and records about its requests (reconcile.py adds the writes' fate)."""
    failed = failures(records)
    window = error_window(records)
    recover = time_to_recover(records, fault_at)
    by_kind = {}
    for kind in (*READS, *WRITES):
        mine = [r for r in records if r.kind == kind]
        by_kind[kind] = {"requests": len(mine), "errors": len(failures(mine))}
    return {
        "requests": len(records),
        "errors": len(failed),
        "errors_by_outcome": dict(Counter(outcome(r) for r in failed)),
        "error_window_s": round(window["seconds"], 2) if window else 0.0,
        "first_failure_after_fault_s": round(window["first_failure_s"] - fault_at, 2)
        if window
        else None,
        "last_failure_after_fault_s": round(window["last_failure_s"] - fault_at, 2)
        if window
        else None,
        "time_to_recover_s": round(recover, 2) if math.isfinite(recover) else None,
        "recovered": math.isfinite(recover),
        "latency_ms": latency_ms(records),
        "latency_after_fault_ms": latency_ms([r for r in records if r.end >= fault_at]),
        "by_kind": by_kind,
        "failed_requests": [r.to_json() for r in sorted(failed, key=lambda r: r.start)][:50],
    }
