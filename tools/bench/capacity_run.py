"""``make bench-capacity``'s measurement against one running ``make stack`` (tools/bench/capacity.sh
starts the stacks, seeds them and calls this under ``flock /tmp/conduit-bench.lock``).

    capacity_run.py run --url URL --apps N --out FILE [--scenarios a,b] [--step-seconds 4]
                    [--start-rate R] [--factor 1.5] [--max-rate 3000] [--p99-ms 100]

For each scenario it offers a constant rate (open model, benchkit/openload.py) in steps of
``--step-seconds``, each ``--factor`` times the last, until a step's p99 passes ``--p99-ms``,
or a request fails, or ``--max-rate``. The knee is the highest offered rate with p99 within the
bound and no error. Per step it reads the CPU of the stack's app servers, PostgreSQL, Redis,
nginx and Celery from /proc and divides it by the requests served (bench/README.md,
"Capacity"). Run with the project's virtualenv and the stack's environment (DATABASE_URL,
SECRET_KEY, CACHE_URL, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit
from benchkit import REPO
from benchkit.cpu import settle
from benchkit.facts import commit_info, machine_info
from benchkit.net import loopback_only, wait_until_up
from benchkit.openload import run_step

# Each scenario's first offered rate (req/s): a few steps below where it bends on one 2-core
# machine, so that the knee is found in a handful of short steps.
SCENARIOS = {"global_list_cached": 100.0, "global_list_uncached": 25.0, "signed_in_list": 25.0,
             "article": 25.0, "feed": 10.0, "favorite": 10.0, "publish": 10.0}  # fmt: skip
WARMUP_SECONDS = 2.0  # per scenario, at the start rate, not counted
MIN_REQUESTS = 150  # per step: a longer step at low rates


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--url", required=True)
    run.add_argument("--apps", type=int, required=True)
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--state", type=Path, default=REPO / "var" / "stack" / "state.json")
    run.add_argument("--scenarios", default="", help="comma-separated; all when empty")
    run.add_argument("--step-seconds", type=float, default=3.0)
    run.add_argument("--start-rate", type=float, help="every scenario's first rate (SCENARIOS)")
    run.add_argument("--factor", type=float, default=1.5)
    run.add_argument("--max-rate", type=float, default=3000.0)
    run.add_argument("--p99-ms", type=float, default=100.0)
    run.add_argument("--connections", type=int, default=256)
    run.add_argument("--timeout", type=float, default=5.0)
    return p


def knee(steps: list[dict[str, Any]], p99_ms: float) -> dict[str, Any] | None:
    """The last step before the first one over the bound (p99 or an error): the steps rise."""
    best = None
    for step in steps:
        if step["errors"] or step["latency_ms"]["p99"] > p99_ms:
            break
        best = step
    return best


def over(step: dict[str, Any], p99_ms: float) -> bool:
    return bool(step["errors"]) or step["latency_ms"]["p99"] > p99_ms


def measure(
    args: argparse.Namespace, name: str, plan: Any, pids: dict[str, list[int]]
) -> dict[str, Any]:
    """Steps up the offered rate until one is over the bound twice running (a shared machine's
    hiccup fails a step now and then: the first failure is run again at the same rate)."""
    from benchkit.capacity_scenarios import cpu_per_request, cpu_snapshot

    first = 0  # request numbers count on across the steps (favorite's passes, unique titles)

    def one(rate: float, seconds: float) -> dict[str, Any]:
        nonlocal first
        settle(longest=3.0)
        before, wall = cpu_snapshot(pids), time.monotonic()
        step = run_step(args.url, plan, first=first, rate=rate, seconds=seconds,
                        timeout=args.timeout, connections=args.connections)  # fmt: skip
        step.update(cpu_per_request(before, cpu_snapshot(pids), step["ok"],
                                    time.monotonic() - wall))  # fmt: skip
        first += step["requests"]
        return step

    rate = args.start_rate or SCENARIOS[name]
    warmup = one(rate, WARMUP_SECONDS)  # connections, caches, the workers' imports
    steps: list[dict[str, Any]] = []
    while rate <= args.max_rate:
        # At least MIN_REQUESTS a step, so that its p99 is not one request's latency.
        step = one(rate, max(args.step_seconds, MIN_REQUESTS / rate))
        if over(step, args.p99_ms):
            retry = one(rate, max(args.step_seconds, MIN_REQUESTS / rate))
            retry["first_attempt"] = step
            step = retry
        steps.append(step)
        lat = step["latency_ms"]
        print(f"  {name:22} {rate:7.0f}/s offered {step['achieved_rps']:7.0f}/s ok  p50 "
              f"{lat['p50']:7.1f}  p99 {lat['p99']:7.1f} ms  errors {step['errors']:4}  app "
              f"{step['cpu_ms_per_request']['app']} ms/req  other "
              f"{step['cpu_cores']['other']} cores"
              + ("  (retried)" if "first_attempt" in step else "")
              + ("  (generator-limited)" if step["generator_limited"] else ""),
              flush=True)  # fmt: skip
        if over(step, args.p99_ms):
            break
        rate = round(rate * args.factor, 1)
    top = knee(steps, args.p99_ms)
    return {
        "knee_rps": top["offered_rps"] if top else None,
        "knee_p99_ms": top["latency_ms"]["p99"] if top else None,
        "cpu_ms_per_request": top["cpu_ms_per_request"] if top else None,
        "other_cores_at_knee": top["cpu_cores"]["other"] if top else None,
        # "generator": the last step's requests left late (benchkit/openload.py): the knee is
        # then a lower bound, this process could not offer more on the machine it shares.
        "stopped_by": ("max rate" if top is steps[-1] else
                       "generator" if steps[-1]["generator_limited"] else
                       "errors" if steps[-1]["errors"] else "p99"),
        "generator_limited_at_knee": bool(top and top["generator_limited"]),
        "warmup": warmup,
        "steps": steps,
    }  # fmt: skip


def run(args: argparse.Namespace) -> None:
    loopback_only(args.url)
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from benchkit.capacity_scenarios import scenarios, stack_pids
    from benchkit.cleanup import undo_writes
    from benchkit.dataset import dataset_counts, pick_actors, pick_inputs
    from benchkit.tokens import tokens_for

    wanted = [s for s in args.scenarios.split(",") if s] or list(SCENARIOS)
    unknown = set(wanted) - set(SCENARIOS)
    if unknown:
        sys.exit(f"BENCH_CAPACITY_SCENARIOS: unknown {sorted(unknown)}; known: {SCENARIOS}")
    wait_until_up(args.url + "/api/articles", None)
    actors = pick_actors()
    restore = args.out.with_suffix(".restore.json")
    undo_writes(actors, restore)  # what a run cut short left
    inputs = pick_inputs(actors)
    tokens, how = tokens_for(args.url, [inputs.reader, actors.fav_actor, actors.writer])
    run_id = str(int(time.time()))
    plans = scenarios(inputs, tokens, run_id)
    pids = stack_pids(args.state)
    doc: dict[str, Any] = {
        "kind": "capacity", "commit": commit_info(), "machine": machine_info(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "apps": args.apps, "url": args.url, "size": dataset_counts(), "tokens": how,
        "method": {"model": "open (constant arrival rate; latency from the scheduled send time)",
                   "generator": "tools/bench/benchkit/openload.py (asyncio + aiohttp)",
                   "step_seconds": args.step_seconds,
                   "start_rates": {n: args.start_rate or r for n, r in SCENARIOS.items()},
                   "factor": args.factor, "max_rate": args.max_rate, "p99_bound_ms": args.p99_ms,
                   "connections": args.connections, "timeout_s": args.timeout},
        "processes": pids, "scenarios": {},
    }  # fmt: skip
    print(f"capacity of {args.url} ({args.apps} app servers), steps of {args.step_seconds} s")
    try:
        for name in wanted:
            request, plan = plans[name]
            result = measure(args, name, plan, pids)
            doc["scenarios"][name] = {"request": request, **result}
    finally:
        doc["cleanup"] = undo_writes(actors, restore, articles=inputs.favorite_slugs)
        doc["machine"]["loadavg_at_end"] = list(os.getloadavg())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.out}")
    for name, s in doc["scenarios"].items():
        cpu = s["cpu_ms_per_request"] or {}
        print(
            f"{name:22} knee {s['knee_rps'] or 0:7.0f}/s  app {cpu.get('app')} pg "
            f"{cpu.get('postgres')} redis {cpu.get('redis')} ms/req"
        )


def main() -> None:
    args = parser().parse_args()
    run(args)


if __name__ == "__main__":
    main()
