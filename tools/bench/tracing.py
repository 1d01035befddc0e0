"""`make bench-tracing`: what OpenTelemetry costs a request (ADR 0037), tracing off and on in
interleaved rounds of the same server config and the same kept database.

Each round runs tools/bench/run.sh twice, ``BENCH_TRACING=0`` and ``BENCH_TRACING=1`` (the order
alternating, so that the machine's drift falls on both sides): on, granian's workers trace
Django, psycopg and Redis and export every span (always-on sampling, the default) over OTLP/HTTP
to an OTLP sink on the same machine that counts and drops them. The result per scenario: req/s
and the app's CPU ms per request on each side, per round, and their medians:

    make bench-tracing                                  # global list and an article, 3 rounds
    BENCH_CACHE=off BENCH_ROUNDS=2 make bench-tracing   # uncached: every query a span
    OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.05 make bench-tracing

Every other ``BENCH_*`` variable passes through (``BENCH_REFERENCES=0``, ``BENCH_KEEP_DB=1`` are
set, and ``BENCH_PG_DIR`` defaults to ``/tmp/conduit-bench-pg-tracing-<size>``). It holds
``/tmp/conduit-bench.lock`` from the first round to the last.
Writes ``bench/results/<commit>-<size>-tracing-cache-<cache>-<workers>x<threads>.json`` (the
on side's sampler after ``tracing`` when ``OTEL_TRACES_SAMPLER`` sets another one).
"""

from __future__ import annotations

import fcntl
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
SIDES = {"off": "0", "on": "1"}


def positive(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"{name} must be a positive integer, not {raw!r}")
    return int(raw)


LOCK = "/tmp/conduit-bench.lock"
LOCK_FD = 9  # run.sh's: handed down, its flock on the same open file succeeds at once


def hold_the_lock() -> None:
    """Hold the bench lock for every round, as fd 9: between two run.sh runs another
    checkout's bench would otherwise take the machine (and the rounds could wait for hours)."""
    fd = os.open(LOCK, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"waiting for {LOCK} (another bench is running)", flush=True)
        fcntl.flock(fd, fcntl.LOCK_EX)
    os.dup2(fd, LOCK_FD)  # the duplicate shares the open file, hence the lock


def run_side(side: str, out: Path, env: dict[str, str]) -> dict[str, Any]:
    print(f"\n##### BENCH_TRACING={SIDES[side]}", flush=True)
    side_env = {**env, "BENCH_TRACING": SIDES[side], "BENCH_OUT": str(out)}
    subprocess.run(
        ["bash", str(REPO / "tools/bench/run.sh")],
        env=side_env,
        check=True,
        pass_fds=(LOCK_FD,),
    )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def side_summary(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per scenario: req/s, errors and the app's CPU ms per request."""
    summary = {}
    for name, entry in result["scenarios"].items():
        rps = entry["requests_per_s"]
        app = entry.get("cpu_cores", {}).get("app")
        summary[name] = {
            "requests_per_s": rps,
            "errors": entry["errors"],
            "app_cpu_ms_per_request": round(app / rps * 1000, 3) if app and rps else None,
        }
    return summary


def summarise(rounds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    scenarios: dict[str, dict[str, Any]] = {}
    for name in rounds[0]["off"]:
        row: dict[str, Any] = {}
        for side in SIDES:
            rps = [r[side][name]["requests_per_s"] for r in rounds]
            cpu = [r[side][name]["app_cpu_ms_per_request"] for r in rounds]
            row[f"{side}_requests_per_s"] = rps
            row[f"{side}_app_cpu_ms_per_request"] = cpu
            row[f"{side}_median_requests_per_s"] = round(statistics.median(rps), 1)
            known = [c for c in cpu if c is not None]
            row[f"{side}_median_app_cpu_ms"] = round(statistics.median(known), 3) if known else None
        off_cpu, on_cpu = row["off_median_app_cpu_ms"], row["on_median_app_cpu_ms"]
        row["added_app_cpu_ms_per_request"] = (
            round(on_cpu - off_cpu, 3) if off_cpu is not None and on_cpu is not None else None
        )
        row["throughput_ratio_on_off"] = round(
            row["on_median_requests_per_s"] / row["off_median_requests_per_s"], 3
        )
        row["errors"] = sum(r[side][name]["errors"] for r in rounds for side in SIDES)
        scenarios[name] = row
    return scenarios


def main() -> None:
    rounds_wanted = positive("BENCH_ROUNDS", 3)
    cache = os.environ.get("BENCH_CACHE", "locmem")
    size = os.environ.get("BENCH_SIZE", "10k")
    env = {
        **os.environ,
        # A database of its own, kept between the sides: another checkout's bench (under the
        # same lock, between two of these runs) may migrate /tmp/conduit-bench-pg-<size> to
        # its own schema.
        "BENCH_PG_DIR": os.environ.get("BENCH_PG_DIR") or f"/tmp/conduit-bench-pg-tracing-{size}",
        "BENCH_KEEP_DB": "1",
        "BENCH_REFERENCES": "0",
        "BENCH_SCENARIOS": os.environ.get("BENCH_SCENARIOS") or "global_list,article_detail",
    }
    hold_the_lock()
    rounds: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="conduit-bench-tracing.") as tmp:
        for number in range(1, rounds_wanted + 1):
            order = ["off", "on"] if number % 2 else ["on", "off"]
            results = {
                side: run_side(side, Path(tmp, f"{number}-{side}.json"), env) for side in order
            }
            first = first or results["off"]
            rounds.append(
                {"round": number, "order": order}
                | {side: side_summary(results[side]) for side in SIDES}
            )
    assert first is not None  # noqa: S101  (at least one round ran)
    server = {k: first["server"][k] for k in ("granian", "interface", "workers", "threads")}
    # The on side's sampler: the SDK's default unless the environment (passed through to the
    # app server) sets one, e.g. OTEL_TRACES_SAMPLER=parentbased_traceidratio, _ARG=0.05.
    sampler = os.environ.get("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    sampler_arg = os.environ.get("OTEL_TRACES_SAMPLER_ARG", "")
    result = {
        "commit": first["commit"],
        "sampler": {"name": sampler, "arg": sampler_arg},
        "size": first["size"],
        "cache": cache,
        "server": server,
        "machine": first["machine"],
        "generator": first["generator"],
        "rounds": rounds,
        "scenarios": summarise(rounds),
        "notes": [
            "Each round ran BENCH_TRACING=0 and =1 back to back (the order alternating) on one "
            "server config and one kept database. On: always-on sampling, every span exported "
            "over OTLP/HTTP to tools/bench/benchkit/otlp_sink.py on the same 2 cores (its CPU "
            "is not the app's, but it competes with the app for the machine).",
        ],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    shape = f"{server['workers']}x{server['threads']}"
    sampled = "" if sampler == "parentbased_always_on" else f"-{sampler}{sampler_arg}"
    name = f"{first['commit']['id']}-{first['size']['name']}-tracing{sampled}-cache-{cache}-{shape}"
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'scenario':<16} {'req/s off':>10} {'on':>8} {'CPU ms off':>11} {'on':>7}")
    for name, s in result["scenarios"].items():
        rps_off, rps_on = s["off_median_requests_per_s"], s["on_median_requests_per_s"]
        cpu_off, cpu_on = s["off_median_app_cpu_ms"], s["on_median_app_cpu_ms"]
        print(f"{name:<16} {rps_off:>10,.0f} {rps_on:>8,.0f} {cpu_off!s:>11} {cpu_on!s:>7}")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
