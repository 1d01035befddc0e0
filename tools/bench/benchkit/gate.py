"""The regression gate's arithmetic (tools/bench/gate.py runs the servers and wrk; ADR 0039).

Each measured endpoint is divided by the bare Django view (``/bench/bare``) served by the same
server process in the same round, so whatever slows the whole machine (another process, CPU
steal, a slower VM) falls on both sides of the ratio. A round measures every endpoint and its
bare view as a pair of runs back to back (``round_pairs``: the order rotates from round to round
and the bare view goes first every other round), so each ratio compares two runs seconds apart.
The speed of one run is requests per CPU-second of the server process tree and its own
PostgreSQL's (the kernel's per-thread run time, ``/proc/<pid>/task/<tid>/schedstat``, in
nanoseconds), not requests per second of the wall clock: on a shared machine the wall clock
measures the neighbours (a busy loop of 300 ms got 100 ms of CPU here while other suites ran),
whereas the CPU a request costs is the app's own. For a CPU-bound server this is its capacity:
a 30% drop in requests per CPU-second is a 30% drop in the throughput the cores can carry.
The verdict is on the median over the rounds of the per-round ratios,
against the committed baseline's: more than ``max_drop`` below it fails.

Only the standard library: the unit tests import it without Django.
"""

from __future__ import annotations

import contextlib
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_DROP = 0.30  # issue 20: "fails on a drop of more than 30%"


@dataclass(frozen=True)
class Endpoint:
    name: str
    server: str  # "cached" or "uncached": which server process, and so which bare view
    script: str  # tools/bench/lua/<script>
    path: str  # what the URL asks for (static.lua), or "/" with a file of paths (paths.lua)
    signed_in: bool = False
    slow_pattern: str = ""  # the path regex BENCH_GATE_SLOW_PATH takes to slow this endpoint


ENDPOINTS = (
    Endpoint(
        "cached_list", "cached", "static.lua", "/api/articles", slow_pattern=r"^/api/articles$"
    ),
    Endpoint(
        "uncached_list", "uncached", "static.lua", "/api/articles", slow_pattern=r"^/api/articles$"
    ),
    Endpoint(
        "signed_in_list",
        "cached",
        "static.lua",
        "/api/articles",
        signed_in=True,
        slow_pattern=r"^/api/articles$",
    ),
    Endpoint("article", "cached", "paths.lua", "/", slow_pattern=r"^/api/articles/[^/]+$"),
)
BARE = "bare"


def run_key(server: str, name: str) -> str:
    return f"{server}:{name}"


def round_pairs(endpoints: list[Endpoint], number: int) -> list[tuple[str, str]]:
    """Round ``number`` (from 0): each endpoint's run right next to a run of its server's bare
    view, so the two share whatever the machine was doing then. The endpoints' order rotates
    from round to round, and every other round the bare view goes second."""
    shift = number % len(endpoints)
    rotated = endpoints[shift:] + endpoints[:shift]
    pairs = []
    for e in rotated:
        bare, mine = run_key(e.server, BARE), run_key(e.server, e.name)
        pairs.append((mine, bare) if number % 2 else (bare, mine))
    return pairs


def speed(requests: int, cpu_ns: int) -> float:
    """Requests per CPU-second."""
    return requests / (cpu_ns / 1e9) if cpu_ns > 0 else 0.0


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # exited meanwhile
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_cpu_ns(roots: list[int]) -> dict[str, int]:
    """Nanoseconds on a CPU so far of every thread of ``roots`` and their live descendants, per
    thread (``pid/tid``)."""
    children, times, todo = _children(), {}, list(roots)
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                times[f"{pid}/{task.parent.name}"] = int(task.read_text().split()[0])
        todo.extend(children.get(pid, []))
    return times


def cpu_used_ns(before: dict[str, int], after: dict[str, int]) -> int:
    """What the threads used between two ``tree_cpu_ns`` snapshots. A thread that exited
    meanwhile (an autovacuum worker, a backend) takes its time with it and counts nothing; one
    that started counts all of its time. Never negative: a sum over the tree would drop by an
    exited thread's whole life."""
    return sum(ns - before.get(task, 0) for task, ns in after.items())


def pair_ratio(mine: float, bare: float) -> float:
    """An endpoint's speed over its bare view's, measured side by side."""
    return round(mine / bare, 4) if bare else 0.0


def judge(
    rounds: list[dict[str, float]], baseline: dict[str, float], max_drop: float = MAX_DROP
) -> dict[str, dict[str, Any]]:
    """Per endpoint measured: the rounds' ratios, their median, the baseline's median, the
    change, and ``pass`` (the median is at most ``max_drop`` below the baseline). An endpoint
    without a baseline fails: a gate that cannot compare must not pass quietly."""
    verdicts: dict[str, dict[str, Any]] = {}
    for name in rounds[0]:
        ratios = [r[name] for r in rounds if name in r]
        median = statistics.median(ratios)
        base = baseline.get(name)
        change = round(median / base - 1, 4) if base else None
        verdicts[name] = {
            "ratios": ratios,
            "median_ratio": round(median, 4),
            "baseline_ratio": base,
            "change": change,
            "pass": change is not None and change >= -max_drop,
        }
    return verdicts


def failed(verdicts: dict[str, dict[str, Any]]) -> list[str]:
    return [name for name, verdict in verdicts.items() if not verdict["pass"]]


def table(verdicts: dict[str, dict[str, Any]], max_drop: float = MAX_DROP) -> str:
    lines = [
        f"{'endpoint':<16} {'ratio to bare (rounds)':<40} {'median':>7} {'baseline':>9} "
        f"{'change':>7}  verdict (fails below -{max_drop:.0%})"
    ]
    for name, v in verdicts.items():
        ratios = " ".join(f"{r:.3f}" for r in v["ratios"])
        base = f"{v['baseline_ratio']:.3f}" if v["baseline_ratio"] else "none"
        change = f"{v['change']:+.0%}" if v["change"] is not None else "n/a"
        verdict = "pass" if v["pass"] else "FAIL"
        lines.append(
            f"{name:<16} {ratios:<40} {v['median_ratio']:>7.3f} {base:>9} {change:>7}  {verdict}"
        )
    return "\n".join(lines)
