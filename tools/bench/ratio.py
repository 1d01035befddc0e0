"""`make bench-ratio`: the cache's speed-up measured in interleaved rounds, so that the machine's
drift falls on both sides of the ratio.

One `make bench` run per side gives a ratio of two numbers measured minutes apart. On a shared
2-core VM the same uncached run measured 415 and 610 req/s an hour apart (docs/performance.md),
which is more than the difference the ratio is asked to show. Here each round runs the uncached
server (``BENCH_CACHE=off``) and the cached one back to back, in alternating order, on the same
server config and the same kept database, and the result is the per-round ratios with their
median, smallest and largest:

    make bench-ratio                                   # Redis, signed-in list, 3 rounds
    BENCH_RATIO_CACHE=locmem BENCH_ROUNDS=5 make bench-ratio
    BENCH_SCENARIOS=signed_in_list,article_detail BENCH_THREADS=2 make bench-ratio

Each run is tools/bench/run.sh with ``BENCH_REFERENCES=0`` (the references do not enter the
ratio) and ``BENCH_KEEP_DB=1`` (seeded once). Every other ``BENCH_*`` variable passes through,
and ``BENCH_WORKERS`` is set for both sides to the cached side's default (1 for the in-process
cache, which is correct for one process only, else 2), since a ratio across two configs says
nothing. Writes ``bench/results/<commit>-<size>-ratio-cache-<cache>-<workers>x<threads>.json`` (the
server's shape in the name, so a run with other threads does not overwrite the default one).

``BENCH_RATIO_BEFORE=<rev>`` compares a change with an earlier commit instead (issue 15's
acceptance): each round runs four sides, that commit's server and this tree's, each uncached and
cached, and the result carries the acceptance criteria with pass/fail
(benchkit/before_after.py; ``<commit>-<size>-ratio-before-<rev>-cache-<cache>-<shape>.json``):

    BENCH_RATIO_BEFORE=38f577f make bench-ratio        # Redis, both lists, 4 rounds
"""

from __future__ import annotations

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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit, also when loaded by path
from benchkit import before_after  # noqa: E402


def positive(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"{name} must be a positive integer, not {raw!r}")
    return int(raw)


def run_side(cache: str, out: Path, env: dict[str, str]) -> dict[str, Any]:
    side_env = {**env, "BENCH_CACHE": cache, "BENCH_OUT": str(out)}
    print(f"\n##### BENCH_CACHE={cache}", flush=True)
    subprocess.run(["bash", str(REPO / "tools/bench/run.sh")], env=side_env, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def side_summary(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per scenario: req/s, errors and the app's CPU per request."""
    summary = {}
    for name, entry in result["scenarios"].items():
        rps = entry["requests_per_s"]
        cores = entry.get("cpu_cores", {})
        app = cores.get("app")
        summary[name] = {
            "requests_per_s": rps,
            "errors": entry["errors"],  # socket errors and non-2xx answers (report.py)
            "app_cpu_ms_per_request": round(app / rps * 1000, 3) if app and rps else None,
            "machine_busy_cores": cores.get("machine_busy"),
        }
    return summary


def summarise(rounds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    scenarios: dict[str, dict[str, Any]] = {}
    for name in rounds[0]["off"]:
        off = [r["off"][name]["requests_per_s"] for r in rounds]
        cached = [r["cached"][name]["requests_per_s"] for r in rounds]
        ratios = [round(c / o, 3) for c, o in zip(cached, off, strict=True) if o]
        scenarios[name] = {
            "off_requests_per_s": off,
            "cached_requests_per_s": cached,
            "ratios": ratios,
            "median_ratio": round(statistics.median(ratios), 3),
            "min_ratio": min(ratios),
            "max_ratio": max(ratios),
            "errors": sum(r["off"][name]["errors"] + r["cached"][name]["errors"] for r in rounds),
        }
    return scenarios


def main() -> None:
    cache = os.environ.get("BENCH_RATIO_CACHE", "redis")
    if cache not in ("redis", "locmem"):
        sys.exit(f"BENCH_RATIO_CACHE must be redis or locmem, not {cache!r}")
    before = os.environ.get("BENCH_RATIO_BEFORE", "")
    # Before/after: 4 rounds complete its order's square (benchkit/before_after.py).
    rounds_wanted = positive("BENCH_ROUNDS", 4 if before else 3)
    workers = os.environ.get("BENCH_WORKERS") or ("1" if cache == "locmem" else "2")
    env = {
        **os.environ,
        "BENCH_WORKERS": workers,
        "BENCH_KEEP_DB": "1",
        "BENCH_REFERENCES": "0",
        "BENCH_SCENARIOS": os.environ.get("BENCH_SCENARIOS") or "signed_in_list",
    }
    if before:
        before_after.main(before, cache, rounds_wanted, env, run_side, side_summary)
        return
    rounds: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="conduit-bench-ratio.") as tmp:
        for number in range(1, rounds_wanted + 1):
            # Alternate which side goes first: a drift within a round then favours neither.
            order = ["off", cache] if number % 2 else [cache, "off"]
            results = {
                side: run_side(side, Path(tmp, f"round{number}-{side}.json"), env) for side in order
            }
            first = first or results["off"]
            rounds.append(
                {
                    "round": number,
                    "order": order,
                    "off": side_summary(results["off"]),
                    "cached": side_summary(results[cache]),
                }
            )
    assert first is not None  # noqa: S101  (at least one round ran)
    scenarios = summarise(rounds)
    result = {
        "commit": first["commit"],
        "size": first["size"],
        "cache": cache,
        "server": {k: first["server"][k] for k in ("granian", "interface", "workers", "threads")},
        "machine": first["machine"],
        "generator": first["generator"],
        "rounds": rounds,
        "scenarios": scenarios,
        "notes": [
            "Each round ran BENCH_CACHE=off and the cached variant back to back (the order "
            "alternating), on one server config and one kept database; ratios are per round.",
        ],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    shape = f"{result['server']['workers']}x{result['server']['threads']}"
    name = f"{first['commit']['id']}-{first['size']['name']}-ratio-cache-{cache}-{shape}.json"
    out = RESULTS / name
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'scenario':<18} {'off req/s':>22} {cache + ' req/s':>24}  ratios (median)")
    for name, s in scenarios.items():
        off = " ".join(f"{v:,.0f}" for v in s["off_requests_per_s"])
        cached = " ".join(f"{v:,.0f}" for v in s["cached_requests_per_s"])
        ratios = " ".join(f"{r:.2f}" for r in s["ratios"])
        print(f"{name:<18} {off:>22} {cached:>24}  {ratios} ({s['median_ratio']:.2f})")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
