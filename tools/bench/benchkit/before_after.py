"""``BENCH_RATIO_BEFORE=<rev> make bench-ratio``: a change's before and after in one run.

Issue 15's acceptance compares a refactor with the commit before it, and the machine drifts more
between two runs an hour apart than the refactor may cost. So each round runs four sides on one
server config and the kept database, in an order that changes every round: the before commit's
code uncached and cached, and this tree's uncached and cached. Only the app server (granian
serving ``config.wsgi:application``) runs the before code, from a ``git archive`` of it in
``var/bench-before/<sha>`` (tools/bench/run.sh's ``BENCH_APP_DIR``) on this tree's virtualenv;
the load, the seeding, the migrations and this module are this tree's. That is sound only when
both commits lock the same packages for the server and have the same migrations: both are
checked first (benchkit/before_tree.py). The after-cached run also measures ``bare_django``
(this tree's bare view), which the anonymous criterion divides by, and ``bare_write`` when a
write scenario was selected: the before commit's server may not have them.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchkit import REPO, RESULTS
from benchkit.before_tree import before_tree, check_same_dependencies, check_same_migrations
from benchkit.facts import git

SIDES = ("before-off", "before-cached", "after-off", "after-cached")
# A Williams square: over any 4 rounds each side runs once in each position and right after each
# other side once, so neither a drift through the round nor the side before favours a side.
ORDERS = ((0, 1, 3, 2), (1, 2, 0, 3), (2, 3, 1, 0), (3, 0, 2, 1))
DEFAULT_SCENARIOS = "signed_in_list,global_list"
# Issue 15's acceptance: the signed-in list's cached/uncached speed-up, the cached anonymous
# list's share of the bare view, and the uncached lists no more than 5% slower than before.
SPEEDUP, SIGNED_IN = 3.3, "signed_in_list"
SHARE_OF_BARE, ANONYMOUS = 0.85, "global_list"
UNCACHED_TOLERANCE = 0.05

NOTES = [
    "Each round ran four sides back to back on one server config and one kept database, in the "
    "order of a 4x4 Williams square (over 4 rounds each side once in each position and once "
    "right after each other side). before-* served the before commit's code (granian "
    "--working-dir var/bench-before/<sha>, this tree's virtualenv); everything else, load and "
    "data included, was this tree's.",
    "bare_django was measured in each round's after-cached run, before its scenarios; the "
    "anonymous criterion divides that run's global_list by it. bare_write (POST "
    "/bench/bare-write, which the before commit may not have) likewise, when a write scenario "
    "was selected.",
]
AFTER_REFERENCES = "bare_django,bare_write"  # this tree's bare views, in the after-cached run

Round = dict[str, Any]
RunSide = Callable[[str, Path, dict[str, str]], dict[str, Any]]
SideSummary = Callable[[dict[str, Any]], dict[str, dict[str, Any]]]


def round_order(number: int) -> list[str]:
    return [SIDES[i] for i in ORDERS[(number - 1) % len(ORDERS)]]


def requests_per_s(side: str, scenario: str) -> Callable[[Round], float | None]:
    def read(round_: Round) -> float | None:
        entry = round_["sides"][side].get(scenario)
        return entry["requests_per_s"] if entry else None

    return read


def bare_django(round_: Round) -> float | None:
    value: float | None = round_["bare_django_requests_per_s"]
    return value


def ratios(
    rounds: list[Round],
    top: Callable[[Round], float | None],
    bottom: Callable[[Round], float | None],
) -> list[float]:
    """top / bottom per round, for the rounds that measured both."""
    pairs = [(top(r), bottom(r)) for r in rounds]
    return [round(t / b, 3) for t, b in pairs if t is not None and b]


def judged(values: list[float], threshold: float) -> dict[str, Any]:
    median = round(statistics.median(values), 3) if values else None
    return {
        "ratios": values,
        "median": median,
        "min": min(values, default=None),
        "max": max(values, default=None),
        "threshold": threshold,
        "pass": None if median is None else median >= threshold,  # None: not measured
    }


def criteria(rounds: list[Round]) -> dict[str, Any]:
    """Issue 15's three criteria from the rounds, each from the median of per-round ratios."""
    speedup, share = {}, {}
    for code in ("after", "before"):
        cached, off = f"{code}-cached", f"{code}-off"
        speedup[code] = judged(
            ratios(rounds, requests_per_s(cached, SIGNED_IN), requests_per_s(off, SIGNED_IN)),
            SPEEDUP,
        )
        share[code] = judged(
            ratios(rounds, requests_per_s(cached, ANONYMOUS), bare_django), SHARE_OF_BARE
        )
    uncached = {}
    for name in rounds[0]["sides"]["after-off"]:
        after_over_before = ratios(
            rounds, requests_per_s("after-off", name), requests_per_s("before-off", name)
        )
        entry = judged(after_over_before, 1 - UNCACHED_TOLERANCE)
        median = entry["median"]
        entry["within_5_percent"] = (
            None if median is None else round(abs(median - 1), 6) <= UNCACHED_TOLERANCE
        )
        uncached[name] = entry
    verdicts = [speedup["after"]["pass"], share["after"]["pass"]]
    verdicts += [entry["pass"] for entry in uncached.values()] or [None]
    return {
        "signed_in_speedup": {"what": f"{SIGNED_IN} cached / uncached req/s", **speedup},
        "anonymous_share_of_bare": {"what": f"{ANONYMOUS} cached / bare_django req/s", **share},
        "uncached_after_over_before": {
            "what": "after-off / before-off req/s per scenario; passes at >= 0.95: only a "
            "slowdown beyond 5% fails, within_5_percent says whether it also stayed within +5%",
            "scenarios": uncached,
        },
        "pass": all(verdict is True for verdict in verdicts),
    }


def verdict(entry: dict[str, Any]) -> str:
    return {True: "PASS", False: "FAIL", None: "not measured"}[entry["pass"]]


def uncached_note(entry: dict[str, Any]) -> str:
    if entry["pass"] is not True:
        return ""
    return " (within 5%)" if entry["within_5_percent"] else " (more than 5% faster)"


def table(rounds: list[Round], summary: dict[str, Any], before_id: str) -> str:
    def number(value: float | None, spec: str = ",.0f") -> str:
        return "-" if value is None else format(value, spec)

    lines = [f"{'side':<14} {'scenario':<15} req/s per round (median)"]
    for side in SIDES:
        for name in rounds[0]["sides"][side]:
            values = [requests_per_s(side, name)(r) for r in rounds]
            known = [v for v in values if v is not None]
            median = statistics.median(known) if known else None
            lines.append(
                f"{side:<14} {name:<15} {' '.join(number(v) for v in values)} ({number(median)})"
            )
    bare = [bare_django(r) for r in rounds]
    lines.append(f"{'after-cached':<14} {'bare_django':<15} {' '.join(number(v) for v in bare)}")
    bare_write = [r.get("bare_write_requests_per_s") for r in rounds]
    if any(v is not None for v in bare_write):
        measured = " ".join(number(v) for v in bare_write)
        lines.append(f"{'after-cached':<14} {'bare_write':<15} {measured}")
    lines += [
        "",
        f"{'criterion (median of per-round ratios)':<44} {'after':>7} "
        f"{'before ' + before_id:>15}  threshold  verdict",
    ]
    for key, label in (
        ("signed_in_speedup", f"{SIGNED_IN} cached/off"),
        ("anonymous_share_of_bare", f"{ANONYMOUS} cached/bare_django"),
    ):
        after, before = summary[key]["after"], summary[key]["before"]
        lines.append(
            f"{label:<44} {number(after['median'], '.2f'):>7} "
            f"{number(before['median'], '.2f'):>15}  >= {after['threshold']:<6}  "
            f"{verdict(after)}"
        )
    for name, entry in summary["uncached_after_over_before"]["scenarios"].items():
        lines.append(
            f"{'uncached ' + name + ' after/before':<44} "
            f"{number(entry['median'], '.3f'):>7} {'':>15}  >= {entry['threshold']:<6}  "
            f"{verdict(entry)}{uncached_note(entry)}"
        )
    lines.append(f"all three criteria: {'PASS' if summary['pass'] else 'FAIL'}")
    return "\n".join(lines)


def run_rounds(
    tree: Path, cache: str, rounds_wanted: int, env: dict[str, str], run_side: RunSide,
    side_summary: SideSummary,
) -> tuple[list[Round], dict[str, Any]]:  # fmt: skip
    """The rounds, and the last after-cached run's document (its commit, server, machine)."""
    rounds: list[Round] = []
    after_run: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="conduit-bench-ratio.") as tmp:
        for number in range(1, rounds_wanted + 1):
            order = round_order(number)
            sides, bare, bare_write = {}, None, None
            for position, side in enumerate(order, start=1):
                code, variant = side.split("-")
                print(f"\n##### round {number}/{rounds_wanted}, {position}/4: {side}", flush=True)
                side_env = {
                    **env,
                    "BENCH_APP_DIR": str(tree if code == "before" else REPO),
                    "BENCH_REFERENCES": AFTER_REFERENCES if side == "after-cached" else "0",
                }
                out = Path(tmp, f"round{number}-{side}.json")
                result = run_side("off" if variant == "off" else cache, out, side_env)
                sides[side] = side_summary(result)
                if side == "after-cached":
                    references = result["references"]
                    bare = (references.get("bare_django") or {}).get("requests_per_s")
                    bare_write = (references.get("bare_write") or {}).get("requests_per_s")
                    after_run = result
            rounds.append({"round": number, "order": order, "bare_django_requests_per_s": bare,
                           "bare_write_requests_per_s": bare_write,
                           "sides": {side: sides[side] for side in SIDES}})  # fmt: skip
    return rounds, after_run


def main(
    rev: str, cache: str, rounds_wanted: int, env: dict[str, str], run_side: RunSide,
    side_summary: SideSummary,
) -> None:  # fmt: skip
    sha, tree = before_tree(rev)
    dependencies = check_same_dependencies(sha)
    check_same_migrations(sha)
    before_id = git("rev-parse", "--short", sha)
    print(f"before: {before_id} in {tree.relative_to(REPO)}; {dependencies}", flush=True)
    env = {**env, "BENCH_SCENARIOS": os.environ.get("BENCH_SCENARIOS") or DEFAULT_SCENARIOS}
    rounds, after_run = run_rounds(tree, cache, rounds_wanted, env, run_side, side_summary)
    summary = criteria(rounds)
    server = after_run["server"]
    subject = git("log", "-1", "--format=%s", sha)
    before = {"rev": rev, "sha": sha, "id": before_id, "subject": subject,
              "tree": str(tree.relative_to(REPO)), "dependencies": dependencies}  # fmt: skip
    result = {
        "commit": after_run["commit"],
        "before": before,
        "size": after_run["size"],
        "cache": cache,
        "server": {k: server[k] for k in ("granian", "interface", "workers", "threads")},
        "machine": after_run["machine"],
        "generator": after_run["generator"],
        "rounds": rounds,
        "criteria": summary,
        "notes": NOTES,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    shape = f"{server['workers']}x{server['threads']}"
    out = RESULTS / (
        f"{after_run['commit']['id']}-{after_run['size']['name']}-ratio-before-"
        f"{before_id}-cache-{cache}-{shape}.json"
    )
    out.write_text(json.dumps(result, indent=2) + "\n")
    print("\n" + table(rounds, summary, before_id))
    print(f"wrote {out.relative_to(REPO)}")
