"""``make bench-fanout``'s result: the verdict, the document written to
``bench/results/<commit>-fanout.json`` (bench/README.md) and the summary printed at the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchkit import REPO, RESULTS
from benchkit.latency import summary

NOTES = [
    "publish_latency_ms.no_followers/followers: POST /api/articles by an author with 0 "
    "and with `followers` followers, interleaved, after 3 warm-ups each, with no "
    "worker running, one new HTTP connection per request (urllib). The request only "
    "enqueues one fan-out task after its commit; those queued fan-outs were dropped.",
    "no_followers_during_fanout: the same request every BENCH_PROBE_INTERVAL s while "
    "the workers sent the emails, on the same 2 cores.",
    "delivery: from just before the delivered publish request to the last email "
    "received by the aiosmtpd sink (in the bench process); then 3 s more for late "
    "duplicates. Recipients and Message-IDs are counted; records are ArticleEmail "
    "rows.",
    "delivery.cpu_cores: CPU seconds per second during the delivery, per process "
    "tree (bench_process is the SMTP sink and the prober); other is the rest of the "
    "machine (other sessions). Worker-bound when celery_workers is near nproc.",
]


def exactly_once(delivery: dict[str, Any], followers: int) -> bool:
    """Every follower got one email, none twice, nobody else got one, every record is sent."""
    return (
        delivery["received"] == followers
        and delivery["distinct_recipients"] == followers
        and delivery["duplicate_emails"] == 0
        and delivery["duplicate_message_ids"] == 0
        and delivery["missing_recipients"] == 0
        and delivery["unexpected_recipients"] == 0
        and delivery["records_sent"] == followers
    )


def latency_summaries(
    idle: dict[str, list[float]], busy: list[float], the_request_ms: float
) -> dict[str, Any]:
    return {
        "no_followers": summary(idle["no_followers"]),
        "followers": summary(idle["followers"]),
        "no_followers_during_fanout": summary(busy) if busy else None,
        "the_delivered_publish": round(the_request_ms, 2),
    }


def write_result(
    *,
    commit: dict[str, Any],
    started_at: str,
    ok: bool,
    config: dict[str, Any],
    latency: dict[str, Any],
    delivery: dict[str, Any],
    machine: dict[str, Any],
) -> Path:
    """Writes the document; ``-fanout.json``, or ``-fanout-<followers>.json`` if not 10,000."""
    result = {
        "benchmark": "fanout",
        "commit": commit,
        "started_at": started_at,
        "exactly_once": ok,
        "config": config,
        "publish_latency_ms": latency,
        "delivery": delivery,
        "machine": machine,
        "notes": NOTES,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    followers = config["followers"]
    suffix = "" if followers == 10_000 else f"-{followers}"
    out = RESULTS / f"{commit['id']}-fanout{suffix}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return out


def print_summary(
    latency: dict[str, Any], the_request_ms: float, delivery: dict[str, Any], ok: bool, out: Path
) -> None:
    for name, entry in latency.items():
        if isinstance(entry, dict):
            p50, p99, n = entry["p50"], entry["p99"], entry["n"]
            print(f"  publish {name:28s} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  (n={n})")
    print(f"  the delivered publish request    {the_request_ms:.1f} ms")
    print(f"  delivery: {json.dumps(delivery)}")
    print(f"  exactly once: {'yes' if ok else 'NO'}; written to {out.relative_to(REPO)}")
