"""``make bench-capacity``'s scenarios: what each one's i-th request is, and the CPU of the
stack's processes (app servers, PostgreSQL, Redis, nginx, Celery) read from var/stack/state.json.
Django must be set up for ``scenarios`` (the inputs and tokens come from the database)."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from benchkit.cleanup import WRITE_TITLE
from benchkit.cpu import machine_busy_seconds, proc_stats, tree_cpu
from benchkit.dataset import Inputs
from benchkit.openload import Plan, Request, cpu_seconds_self

UNCACHED_PAGES = 2_000  # distinct offsets: few repeat within the micro-caches' second


def scenarios(inputs: Inputs, tokens: dict[str, str], run_id: str) -> dict[str, tuple[str, Plan]]:
    """name -> (what it requests, its plan). ``tokens``: the reader's and the actors'."""
    q = urllib.parse.quote
    reader, actors = tokens[inputs.reader], inputs.actors
    details = [f"/api/articles/{q(s)}" for s in inputs.detail_slugs]
    favorites = [f"/api/articles/{q(s)}/favorite" for s in inputs.favorite_slugs]
    fav_token, writer = tokens[actors.fav_actor], tokens[actors.writer]

    def favorite(i: int) -> Request:
        # A pass of POSTs over the articles, then a pass of DELETEs: a POST and its DELETE are
        # len(favorites) requests apart, and every answer is a 200.
        method = "POST" if (i // len(favorites)) % 2 == 0 else "DELETE"
        return Request(method, favorites[i % len(favorites)], fav_token)

    def publish(i: int) -> Request:
        # Titled as make bench's writes, so that its clean-up deletes them (benchkit/cleanup.py).
        article = {"title": f"{WRITE_TITLE}capacity {run_id} {i}", "description": "capacity",
                   "body": f"Published by make bench-capacity, run {run_id}, request {i}.",
                   "tagList": ["bench"]}  # fmt: skip
        return Request("POST", "/api/articles", writer, json.dumps({"article": article}).encode())

    return {
        "global_list_cached": ("GET /api/articles, anonymous (nginx's edge cache and the app's "
                               "micro-cache serve it)", lambda i: Request("GET", "/api/articles")),
        "global_list_uncached": (
            f"GET /api/articles?offset=<i mod {UNCACHED_PAGES}>, anonymous: a page the caches "
            "rarely hold", lambda i: Request("GET", f"/api/articles?offset={i % UNCACHED_PAGES}")),
        "signed_in_list": (f"GET /api/articles signed in as {inputs.reader}",
                           lambda i: Request("GET", "/api/articles", reader)),
        "article": (f"GET /api/articles/<slug> over {len(details)} random articles, anonymous",
                    lambda i: Request("GET", details[i % len(details)])),
        "feed": (f"GET /api/articles/feed signed in as {inputs.reader} (follows "
                 f"{inputs.reader_following})", lambda i: Request("GET", "/api/articles/feed",
                                                                  reader)),
        "favorite": (f"POST then DELETE /api/articles/<slug>/favorite as {actors.fav_actor} over "
                     f"{len(favorites)} articles (passes of POSTs, then of DELETEs)", favorite),
        "publish": (f"POST /api/articles as {actors.writer}, a unique title each (its fan-out "
                    "goes to the stack's Celery worker)", publish),
    }  # fmt: skip


def stack_pids(state_file: Path) -> dict[str, list[int]]:
    """The stack's processes by component: app servers, PostgreSQL (every Patroni member's
    postmaster: the primary and the replica replaying its WAL), Redis, nginx, Celery."""
    state = json.loads(state_file.read_text())
    groups: dict[str, list[int]] = {"app": [], "postgres": [], "redis": [], "nginx": [],
                                    "celery": []}  # fmt: skip
    for c in state["components"]:
        name = c["name"]
        if name.startswith("app-"):
            groups["app"].append(c["pid"])
        elif "postmaster" in c:
            try:  # the postmaster's PID: postmaster.pid's first line (tools/stack/patroni.py)
                pid = (Path(c["postmaster"]) / "postmaster.pid").read_text().split("\n", 1)[0]
                groups["postgres"].append(int(pid))
            except (OSError, ValueError):
                pass  # that member is down
        elif name in ("redis", "nginx", "haproxy"):
            groups["redis" if name == "redis" else "nginx"].append(c["pid"])
        elif name.startswith("celery"):
            groups["celery"].append(c["pid"])
    return groups


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each group's process trees (exited children waited for included:
    PostgreSQL's backends), of this process (the generator) and of the whole machine."""
    stats = proc_stats(reaped_children=True)
    snap = {name: sum(tree_cpu(stats, pid) for pid in pids) for name, pids in groups.items()}
    snap["generator"] = cpu_seconds_self()
    snap["machine"] = machine_busy_seconds()
    return snap


def cpu_per_request(
    before: dict[str, float], after: dict[str, float], served: int, wall: float
) -> dict[str, Any]:
    """Each component's CPU milliseconds per request served, and its cores over the step;
    ``other``: the rest of the machine (other helpers, other processes), per request too."""
    used = {name: max(0.0, after[name] - before[name]) for name in before}
    machine = used.pop("machine")
    used["other"] = max(0.0, machine - sum(used.values()))
    per = {name: round(seconds * 1000 / served, 3) if served else None
           for name, seconds in used.items()}  # fmt: skip
    cores = {name: round(seconds / wall, 3) for name, seconds in used.items()}
    return {"cpu_ms_per_request": per, "cpu_cores": cores}
