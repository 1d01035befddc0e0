"""The result document (bench/README.md: docs/performance.md, plot.py and ratio.py read it), its
notes, the table printed at the end of a run, and the result file's name."""

from __future__ import annotations

from typing import Any

# A read scenario's req/s is divided by the first two (its share of the static-file ceiling and
# of Django's own request path), a write scenario's by bare_write (of Django's write path).
READ_REFERENCES = ("nginx_static", "bare_django")
WRITE_REFERENCES = ("bare_write",)
REFERENCES = READ_REFERENCES + WRITE_REFERENCES
GENERATOR_BOUND_CORES = 0.8  # wrk -t1 cannot use more than one core


def references_of(kind: str) -> tuple[str, ...]:
    """The references a scenario of this kind (scenarios.READ or WRITE) is divided by."""
    return WRITE_REFERENCES if kind == "write" else READ_REFERENCES


def references_wanted(value: str) -> tuple[str, ...]:
    """``BENCH_REFERENCES``: ``1`` (or empty) all, ``0`` none, or a comma-separated subset
    (``bare_django``: make bench-ratio's before/after mode needs only that one)."""
    if value in ("", "1"):
        return REFERENCES
    if value == "0":
        return ()
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(set(names) - set(REFERENCES))
    if unknown:
        known = ", ".join(REFERENCES)
        raise ValueError(f"BENCH_REFERENCES: unknown {', '.join(unknown)}; 0, 1 or some of {known}")
    return names


NOTES = [
    "Generator: one wrk thread (-t1), so it can use at most one of the cores it shares with the "
    "server; requests are built once in Lua init() where possible, and no response() callback "
    "is defined, so wrk never copies headers or bodies into Lua. Each run records the CPU "
    "seconds of wrk itself (getrusage of the child), of the app server's and PostgreSQL's "
    "process trees and of nginx (/proc/<pid>/stat), and the whole machine's busy time "
    "(/proc/stat): cpu_cores.other is what the rest of the machine used during the run. A "
    "scenario whose wrk + app + db cores add up to nproc was CPU-bound on the shared machine, "
    "not limited by the server alone.",
    "Errors: connect/read/write/timeout are wrk's socket errors; non_2xx is wrk's count of "
    "responses with a status above 399 (no 3xx is expected: APPEND_SLASH is off). Each scenario's "
    "first request is also sent once from Python before the run and must answer 2xx.",
    "Reads are anonymous except the signed-in list and the feed; writes are signed in "
    "(Authorization: Token, minted by the bench with the server's SECRET_KEY, or from POST "
    "/api/users/login when the server refuses it) but register's. favorite_unfavorite and "
    "follow_unfollow POST on each of 1,000 articles or users, then DELETE them, and around "
    "again; hot_favorite and hot_follow POST as each of 256 users on one article or author, "
    "then DELETE as each: a POST and its DELETE are 1,000 or 256 requests apart, so they never "
    "race and every answer should be a 200.",
    "Writes are undone after the run through the domain's services (favorite_remove, "
    "article_delete_many, follow_remove, comment_delete, account_erase, user_update for the "
    "bio), so a kept database stays as seeded; cleanup.after.counter_drift lists any counter "
    "they touched that disagrees with its rows.",
    "References: nginx_static is nginx (1 worker, keepalive, access_log off) serving a captured "
    "copy of GET /api/articles; bare_django is /bench/bare on the same app server config "
    "returning the same bytes from memory behind the same middleware; bare_write is POST "
    "/bench/bare-write there, one transaction with one INSERT and one counter UPDATE (one of "
    "1,000 rows, at random). ratio = scenario req/s / reference req/s: reads against "
    "nginx_static and bare_django, writes against bare_write. A reference runs only when a "
    "selected scenario is divided by it.",
    "lock_waits: pg_stat_activity sampled every 20 ms during the run from the bench process (its "
    "CPU is cpu_cores.bench): backends waiting on a lock (mean, max, share of samples with at "
    "least one) and backends idle in transaction (mean); null when the database is not "
    "PostgreSQL.",
]


def scenario_entry(
    raw: dict[str, Any],
    references: dict[str, float | None],
    cpu: dict[str, float | None] | None = None,
    request: str = "",
    *,
    kind: str = "read",
    lock_waits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One scenario (or reference) in the result document, from a parsed wrk result; its ratios
    to the references of its kind that ``references`` holds."""
    errors = raw["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    rps = float(raw["requests_per_s"])
    requests = int(raw["requests"])
    return {
        "request": request,
        "requests_per_s": round(rps, 1),
        "latency_ms": {k: raw["latency_ms"][k] for k in ("p50", "p95", "p99", "mean", "max")},
        "requests": requests,
        "duration_s": round(float(raw["duration_s"]), 3),
        "bytes_per_response": round(raw["bytes"] / requests) if requests else 0,
        "errors": socket_errors + errors["status"],
        "non_2xx": errors["status"],
        "socket_errors": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
        "ratio": {
            name: (round(rps / ref, 4) if ref else None)
            for name, ref in references.items()
            if name in references_of(kind)
        },
        "cpu_cores": cpu,
        "lock_waits": lock_waits,
    }


def cross_ratios(
    references: dict[str, dict[str, Any] | None], ref_rps: dict[str, float | None]
) -> None:
    """Each measured reference's ratio to the references of its kind (itself included: 1.0)."""
    for name, entry in references.items():
        if entry is not None:
            kind = "write" if name in WRITE_REFERENCES else "read"
            entry["ratio"] = {
                n: (round(entry["requests_per_s"] / r, 4) if r else None)
                for n, r in ref_rps.items()
                if n in references_of(kind)
            }


def generator_notes(entries: dict[str, dict[str, Any] | None]) -> list[str]:
    """A note for each run where wrk itself was close to its one core: that req/s is a floor
    set by the generator, not the server's ceiling."""
    notes = []
    for name, entry in entries.items():
        if entry is None:
            continue
        wrk = (entry.get("cpu_cores") or {}).get("wrk")
        if wrk is not None and wrk >= GENERATOR_BOUND_CORES:
            notes.append(
                f"{name}: wrk used {wrk:.2f} cores (its one thread can use at most 1): its "
                f"{entry['requests_per_s']:,.0f} req/s is what the generator could send, a floor "
                "for the server, and the ratios against it are upper bounds."
            )
    return notes


def build_result(
    *,
    commit: dict[str, Any],
    size: dict[str, Any],
    server: dict[str, Any],
    machine: dict[str, Any],
    generator: dict[str, Any],
    check_plans: dict[str, Any],
    references: dict[str, dict[str, Any] | None],
    scenarios: dict[str, dict[str, Any]],
    started_at: str,
    notes: list[str],
    **extra: Any,
) -> dict[str, Any]:
    """The document written to bench/results/<commit>-<size>.json (see bench/README.md)."""
    return {
        "commit": commit,
        "size": size,
        "server": server,
        "machine": machine,
        "generator": generator,
        "check_plans": check_plans,
        "references": references,
        "scenarios": scenarios,
        "started_at": started_at,
        "notes": notes,
        **extra,
    }


def variant_suffix(variant: dict[str, Any]) -> str:
    """The result file's name after ``<commit>-<size>``: empty for the default variant."""
    parts = []
    if variant["cache"] != "locmem":
        parts.append(f"cache-{variant['cache']}")
    if variant["replica"]:
        parts.append("replica")
    if variant["db"] != "persistent":
        parts.append(variant["db"])
    if variant["redis_killed"]:
        parts.append("redis-killed")
    if variant.get("broker", "redis") != "redis":
        parts.append(f"tasks-{variant['broker']}")
    if variant.get("tracing"):
        parts.append("tracing")
    if variant.get("timelines", "database") != "database":
        parts.append(f"timelines-{variant['timelines']}")
    if not variant.get("feed_heads", True):
        parts.append("feed-heads-off")
    return "".join(f"-{part}" for part in parts)


def _fmt(value: float | None, spec: str) -> str:
    return format("-", spec.split(".")[0]) if value is None else format(value, spec)


def table(result: dict[str, Any]) -> str:
    """The human-readable summary printed at the end of a run. Lock waits: backends waiting on
    a lock (mean, max), the percentage of samples with one, and backends idle in transaction
    (mean). CPU is in cores (CPU seconds per second of the run): "server" is the app server, or
    nginx for its reference row."""
    head = (
        f"{'':20} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'/nginx':>7} {'/bare':>6} {'/bare_w':>7} | lock waits: {'mean':>5} {'max':>3} "
        f"{'%':>5} {'idle':>5} | cores: {'wrk':>4} {'server':>6} {'db':>4} {'other':>5}"
    )
    lines = [head, "-" * len(head)]

    def row(name: str, entry: dict[str, Any] | None) -> str:
        if entry is None:
            return f"{name:20} {'not run':>8}"
        lat, ratio, cpu = entry["latency_ms"], entry["ratio"], entry.get("cpu_cores") or {}
        locks = entry.get("lock_waits") or {}
        share = locks.get("share_of_samples_with_lock_wait")
        server = None if cpu.get("app") is None else cpu["app"] + (cpu.get("nginx") or 0.0)
        return (
            f"{name:20} {entry['requests_per_s']:>8,.0f} {lat['p50']:>8.2f} {lat['p95']:>8.2f} "
            f"{lat['p99']:>8.2f} {entry['errors']:>6} {_fmt(ratio.get('nginx_static'), '>7.3f')} "
            f"{_fmt(ratio.get('bare_django'), '>6.3f')} {_fmt(ratio.get('bare_write'), '>7.3f')} "
            f"|             {_fmt(locks.get('lock_waiting_mean'), '>5.2f')} "
            f"{_fmt(locks.get('lock_waiting_max'), '>3.0f')} "
            f"{_fmt(None if share is None else share * 100, '>5.1f')} "
            f"{_fmt(locks.get('idle_in_transaction_mean'), '>5.2f')} |        "
            f"{_fmt(cpu.get('wrk'), '>4.2f')} {_fmt(server, '>6.2f')} "
            f"{_fmt(cpu.get('db'), '>4.2f')} {_fmt(cpu.get('other'), '>5.2f')}"
        )

    lines += [row(name, result["references"].get(name)) for name in REFERENCES]
    lines.append("")
    lines += [row(name, entry) for name, entry in result["scenarios"].items()]
    return "\n".join(lines)


def plans_summary(check_plans: dict[str, Any]) -> str:
    if check_plans.get("passed") is None:
        return f"check_plans: not run ({check_plans.get('skipped')})"
    if check_plans["passed"]:
        return f"check_plans: passed ({check_plans['queries']} queries)"
    failing = "; ".join(f"{c['case']}: {', '.join(c['problems'])}" for c in check_plans["failing"])
    count = f"{len(check_plans['failing'])} of {check_plans['queries']} queries"
    return f"check_plans: FAILED, {count} ({failing})"
