"""What `make stack-status` prints: a table for people, or (``--json``, make stack-status JSON=1)
one JSON document for a drill that must find, say, the PostgreSQL leader's postmaster and kill it.
The members' roles are asked from Patroni's REST API at that moment, so they are right after a
failover."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from . import patroni, services, tasks
from .core import ROOT, STACK, State, load_state, pid_alive


def running(state: State) -> bool:
    return all(pid_alive(c["pid"], c["match"]) for c in state["components"])


def members(state: State) -> list[patroni.Member]:
    return [
        patroni.Member(m["name"], Path(m["directory"]), m["pg_port"], m["rest_port"])
        for m in state.get("patroni", {}).get("members", [])
    ]


def components(state: State) -> list[dict[str, Any]]:
    """Each recorded component: name, PID, port (its first), up; for a PostgreSQL member also
    its role now (``leader`` or ``replica``, ``unknown`` when no member's Patroni answers),
    whether it is the synchronous standby, its Patroni REST port and its postmaster's PID (the
    Patroni process is ``pid``)."""
    found = patroni.roles(members(state)) if state.get("patroni") else {}
    cluster = services.redis_cluster_of(state)
    cluster_roles = {f"127.0.0.1:{n.port}": n.role for n in cluster.nodes} if cluster else {}
    out = []
    for c in state["components"]:
        port = re.search(r":(\d+)", c["address"])
        entry: dict[str, Any] = {
            "name": c["name"],
            "pid": c["pid"],
            "port": int(port.group(1)) if port else None,
            "address": c["address"],
            "up": pid_alive(c["pid"], c["match"]),
            "role": None,
            "log": c["log"],
        }
        if "tls_port" in c:  # Redis's TLS port (a drill restarts Redis with it)
            entry["tls_port"] = c["tls_port"]
        if c["name"].startswith("redis-cluster-"):  # master, replica or down, asked now
            entry["role"] = cluster_roles.get(c["address"].split()[0], "down")
        if "postmaster" in c:
            role = found.get(c["name"], "unknown")
            entry["role"] = "replica" if role == "sync_standby" else role
            entry["synchronous_standby"] = role == "sync_standby"
            entry["rest_port"] = c["rest_port"]
            entry["postmaster_pid"] = patroni.postmaster_pid(Path(c["postmaster"]))
        out.append(entry)
    return out


def cluster_state(state: State) -> str | None:
    """The Redis Cluster's cluster_state (``ok``, ``fail``; ``down``: no node answers), None
    when the stack runs none."""
    cluster = services.redis_cluster_of(state)
    return cluster.state() if cluster else None


def status(as_json: bool = False) -> int:
    """0 when every recorded process is up, 1 when one is down, 3 when no stack is recorded."""
    state = load_state()
    if state is None:
        if as_json:
            print(json.dumps({"running": False, "components": []}))
        else:
            print("the stack is not running (no var/stack/state.json)")
        return 3
    state.setdefault("url", "-")
    if as_json:
        listed = components(state)
        document = {
            "running": all(c["up"] for c in listed),
            "complete": state.get("complete", False),
            "url": state["url"],
            "components": listed,
            "redis_cluster_state": cluster_state(state),
            "env": state.get("env", {}),
        }
        print(json.dumps(document, indent=2))
        return 0 if document["running"] else 1
    print(table(state, with_status=True))
    return 0 if running(state) else 1


def table(state: State, with_status: bool = False) -> str:
    rows = [["component", "pid", "address", "log"] + (["status"] if with_status else [])]
    for c in state["components"]:
        log = Path(c["log"])
        row = [c["name"], str(c["pid"]), c["address"],
               str(log.relative_to(ROOT) if log.is_relative_to(ROOT) else log)]  # fmt: skip
        if with_status:
            row.append("up" if pid_alive(c["pid"], c["match"]) else "DOWN")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    env = state.get("env", {})
    lines += [
        "",
        f"site:       {state['url']}  (API: {state['url']}/api/articles)",
        *(
            [f"https:      {state['https_url']}  (CA: {os.path.relpath(state['ca'], ROOT)})"]
            if state.get("https_url")
            else []
        ),
        f"prometheus: {state.get('prometheus_url', '-')}",
    ]
    if state.get("patroni"):
        found = patroni.roles(members(state))
        roles = ", ".join(f"{name} {role}" for name, role in found.items())
        config = members(state)[0].config
        lines.append(f"patroni:    {roles}  (patronictl -c {config} list)")
    cluster = services.redis_cluster_of(state)
    if cluster:
        nodes = ", ".join(f":{n.port} {n.role}" for n in cluster.nodes)
        lines.append(f"redis cluster: cluster_state:{cluster_state(state)}  ({nodes})")
        lines.append(f"TIMELINE_URL={cluster.url}")
    lines += [
        f"DATABASE_URL={env.get('DATABASE_URL', '-')}",
        f"DATABASE_REPLICA_URLS={env.get('DATABASE_REPLICA_URLS', '-')}",
        f"CACHE_URL={env.get('CACHE_URL', '-')}",
        f"EMAIL_URL={env.get('EMAIL_URL', '-')}"
        f"  (mail lands in {os.path.relpath(STACK / 'mail', ROOT)}/)",
        f"CELERY_BROKER_URL={env.get('CELERY_BROKER_URL', '-')}  (queues {tasks.QUEUES})",
    ]
    return "\n".join(lines)
