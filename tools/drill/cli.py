"""`make drill NAME`: one fault injected into a running `make stack` under a bounded load, measured
from the client's side and checked against the database.

    .venv/bin/python tools/drill NAME      (make drill NAME, or make drill NAME=NAME)

NAME: app-kill, worker-kill, redis-kill, replica-kill, primary-kill, primary-switchover,
etcd-kill, broker-restart, pitr (pitr.py: a table dropped by mistake, restored to the
instant before into a scratch cluster). It starts nothing of the stack: `make stack` must be
running (any STACK_* settings; the drill finds the front door and every target through
`make stack-status JSON=1`), and it runs under the stack's own rate limits (its few users stay far
below them at the default rate). The load (load.py) runs DRILL_DURATION seconds; the fault
(faults.py) is injected DRILL_FAULT_AT seconds in; once the load is over the drill waits until the
stack is whole again (a leader, a synchronous replica, every process up), reads the run's writes
from the leader and reconciles them with the ledger (reconcile.py). It prints the figures and
writes them to bench/results/drill-NAME-<commit>.json (DRILL_OUT: elsewhere), and the full ledger
to var/drill/NAME-ledger.json.

    DRILL_DURATION=40  DRILL_FAULT_AT=10  DRILL_RATE=40 (requests/s, a cap)  DRILL_CONCURRENCY=8
    DRILL_USERS=4  DRILL_TIMEOUT=30 (seconds per request)  DRILL_WRITE_RETRIES=1  DRILL_SEED=0
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchkit import facts  # tools/bench/benchkit: the commit and the machine, as make bench
from stack import core

from . import faults, ledger, load, pitr, reconcile

OUT_DIR = core.ROOT / "bench" / "results"
DRILLS = {**faults.DRILLS, pitr.DRILL.name: pitr.DRILL}
LEDGERS = core.ROOT / "var" / "drill"


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def settings_from_env(url: str) -> load.Settings:
    return load.Settings(
        url=url,
        duration=env_float("DRILL_DURATION", 40),
        rate=env_float("DRILL_RATE", 40),
        concurrency=int(env_float("DRILL_CONCURRENCY", 8)),
        users=int(env_float("DRILL_USERS", 4)),
        timeout=env_float("DRILL_TIMEOUT", 30),
        write_retries=int(env_float("DRILL_WRITE_RETRIES", 1)),
        seed=int(env_float("DRILL_SEED", 0)),
    )


def targets(name: str, figures: dict[str, Any], synchronous: bool | None) -> dict[str, Any]:
    """Issue 17's targets for this drill, each with whether it was met. Without synchronous mode a
    failover may lose acknowledged writes by design: primary-kill then reports the loss, with no
    target on it."""
    lost = figures["writes"]["lost"]
    found: dict[str, Any] = {}
    if name == "primary-kill":
        found["error_window_at_most_15_s"] = figures["error_window_s"] <= 15
    elif name == "primary-switchover":
        found["error_window_at_most_5_s"] = figures["error_window_s"] <= 5
    elif name == "app-kill":
        found["no_failed_request_after_the_balancers_retry"] = figures["errors"] == 0
    if name != "primary-kill" or synchronous:
        found["no_acknowledged_write_lost"] = lost == 0
    if name == "pitr":
        restored = figures.get("pitr", {})
        found["restored_to_the_instant_before_the_mistake"] = bool(
            restored.get("restored") and restored["rows_lost"] == 0 and restored["checksum_matches"]
        )
    found["all_met"] = all(found.values())
    return found


def variant(stack: dict[str, Any]) -> str:
    """The result file's suffix for a stack that is not the default one."""
    suffix = "" if stack["balancer"] == "nginx" else f"-{stack['balancer']}"
    return suffix + ("-sync-off" if stack["patroni_synchronous_mode"] is False else "")


def balancer_retries(log: Path, offset: int) -> int:
    """Requests the load balancer passed to a second app server, from its access log past
    ``offset``: nginx names every upstream it tried (``"upstream":"a, b"``), HAProxy counts
    ``retries``."""
    try:
        with log.open("rb") as lines:
            lines.seek(offset)
            tail = lines.read().decode(errors="replace").splitlines()
    except OSError:
        return 0
    retried = 0
    for line in tail:
        try:
            entry = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        if ", " in str(entry.get("upstream", "")) or int(entry.get("retries", 0) or 0) > 0:
            retried += 1
    return retried


def balancer_log(status: dict[str, Any]) -> Path:
    names = {c["name"]: c for c in status["components"]}
    if "haproxy" in names:
        return Path(names["haproxy"]["log"])
    return core.STACK / "nginx" / "access.log"


def stack_facts(status: dict[str, Any], synchronous: bool | None) -> dict[str, Any]:
    names = [c["name"] for c in status["components"]]
    return {
        "url": status["url"],
        "balancer": "haproxy" if "haproxy" in names else "nginx",
        "app_servers": sum(1 for n in names if n.startswith("app-")),
        "patroni_synchronous_mode": synchronous,
        "components": {
            c["name"]: {"pid": c["pid"], "port": c["port"], "role": c["role"]}
            for c in status["components"]
        },
    }


def run_fault(
    drill: faults.Drill, fault_at: float, clock: faults.Clock, outcome: dict[str, Any]
) -> None:
    """In its own thread: wait for the offset, find the target now, inject."""
    time.sleep(max(0.0, fault_at - clock()))
    try:
        outcome.update(drill.inject(faults.stack_status(), clock))
    except Exception as error:  # reported in the result; the load and the check go on
        outcome["error"] = f"{type(error).__name__}: {error}"
        outcome.setdefault("injected_at_s", round(clock(), 3))


def measure(name: str, status: dict[str, Any]) -> dict[str, Any]:
    drill = DRILLS[name]
    synchronous = faults.synchronous_mode(status)
    settings = settings_from_env(status["url"])
    fault_at = env_float("DRILL_FAULT_AT", 10)
    the_load = load.Load(settings)
    the_load.prepare()
    access_log = balancer_log(status)
    log_offset = access_log.stat().st_size if access_log.exists() else 0
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    print(f"drill {name}: {drill.summary}, {fault_at:g} s into {settings.duration:g} s of load "
          f"at up to {settings.rate:g} requests/s on {settings.url} (run {the_load.run})",
          flush=True)  # fmt: skip
    threads = the_load.start()
    fault: dict[str, Any] = {"action": drill.summary}
    injector = threading.Thread(target=run_fault, args=(drill, fault_at, the_load.now, fault))
    injector.start()
    for thread in threads:
        thread.join()
    injector.join()
    records = the_load.records()
    print(f"load over: {len(records)} requests; waiting for the stack to be whole", flush=True)
    try:
        settled: float | None = round(faults.wait_healthy(synchronous), 1)
    except faults.DrillError as error:  # recorded: the figures so far still say what happened
        settled, fault["not_whole_after_load"] = None, str(error)
    found = reconcile.found_in_database(status["env"]["DATABASE_URL"], the_load.run)
    injected = float(fault.get("injected_at_s", fault_at))
    figures = ledger.summary(records, injected)
    figures["writes"] = reconcile.reconcile(records, found)
    figures["balancer_retries"] = balancer_retries(access_log, log_offset)
    if name == "pitr":
        print("restoring to the instant before the mistake", flush=True)
        figures["pitr"] = pitr.verify(fault)
    LEDGERS.mkdir(parents=True, exist_ok=True)
    ledger_path = LEDGERS / f"{name}-ledger.json"
    ledger_path.write_text(json.dumps([r.to_json() for r in records]) + "\n")
    return {
        "drill": name,
        "command": f"make drill {name}",
        "commit": facts.commit_info(),
        "started_at": started_at,
        "machine": facts.machine_info(),
        "stack": stack_facts(status, synchronous),
        "load": {**dataclasses.asdict(settings), "mix": dict(load.MIX), "run": the_load.run},
        "fault": fault,
        **{k: v for k, v in figures.items() if k != "failed_requests"},
        "stack_whole_again_after_load_s": settled,
        "targets": targets(name, figures, synchronous),
        "timeline": ledger.timeline(records, int(settings.duration)),
        "failed_requests": figures["failed_requests"],
        "ledger": str(ledger_path.relative_to(core.ROOT)),
    }


def report(result: dict[str, Any]) -> str:
    writes = result["writes"]
    window = result["error_window_s"]
    recover = result["time_to_recover_s"]
    lines = [
        f"\ndrill {result['drill']} at {result['commit']['id']}: {result['fault']['action']}",
        f"  requests            {result['requests']} ({result['errors']} failed: "
        f"{result['errors_by_outcome'] or 'none'})",
        f"  error window        {window:.2f} s" + (
            f" (from {result['first_failure_after_fault_s']:+.2f} s to "
            f"{result['last_failure_after_fault_s']:+.2f} s of the fault)" if result["errors"]
            else ""),
        f"  time to recover     {'not within the load' if recover is None else f'{recover:.2f} s'}",
        f"  slowest request     {result['latency_ms']['max']:.0f} ms (p99 "
        f"{result['latency_ms']['p99']:.0f} ms)",
        f"  writes              {writes['writes']} ({writes['acknowledged']} acknowledged, "
        f"{writes['failed']} failed, {writes['applied_without_ack']} of those applied anyway)",
        f"  acknowledged lost   {writes['lost']}",
        f"  balancer retries    {result['balancer_retries']} (requests passed to a second app "
        "server)",
        f"  duplicate writes    {writes['duplicates']}",
    ]  # fmt: skip
    if "pitr" in result:
        found = result["pitr"]
        same = "equal" if found.get("checksum_matches") else "DIFFERENT"
        lines.append(
            f"  restored            {found.get('rows_restored', 0)} of "
            f"{found.get('rows_expected', '?')} rows, checksum {same}, in "
            f"{found.get('total_s', '?')} s (backup set {found.get('backup_set', '?')})"
        )
    if "error" in result["fault"]:
        lines.append(f"  FAULT FAILED        {result['fault']['error']}")
    if "not_whole_after_load" in result["fault"]:
        lines.append(f"  STACK NOT WHOLE     {result['fault']['not_whole_after_load']}")
    for target, met in result["targets"].items():
        if target != "all_met":
            lines.append(f"  {'MET ' if met else 'MISS'} {target}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    known = ", ".join(DRILLS)
    if len(argv) != 1 or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 2
    name = argv[0]
    if name not in DRILLS:
        print(f"make drill: no drill named {name!r} (drills: {known})", file=sys.stderr)
        return 2
    status = faults.stack_status()
    if not status.get("complete") or not status.get("running"):
        down = [c["name"] for c in status.get("components", []) if not c["up"]]
        print("make drill needs a running `make stack` (it starts nothing itself): "
              + (f"down: {', '.join(down)}" if down else "no stack is running")
              + ". Start one, e.g. flock /tmp/conduit-bench.lock bash -c "
              f"'make stack && make drill {name}; make stack-stop'", file=sys.stderr)  # fmt: skip
        return 3
    try:
        result = measure(name, status)
    except (faults.DrillError, load.LoadError, core.StackError) as error:
        print(f"make drill {name} failed: {error}", file=sys.stderr)
        return 1
    default = OUT_DIR / f"drill-{name}-{result['commit']['id']}{variant(result['stack'])}.json"
    out = Path(os.environ.get("DRILL_OUT") or default)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(report(result))
    print(f"\nwrote {out.relative_to(core.ROOT) if out.is_relative_to(core.ROOT) else out}")
    return 1 if {"error", "not_whole_after_load"} & set(result["fault"]) else 0
