"""`make stack`: the one-machine topology on loopback, from Debian packages.

    .venv/bin/python tools/stack start|stop|status

PostgreSQL 15 primary + streaming replica, Redis (cache and Celery broker), an SMTP sink (aiosmtpd),
STACK_APPS granian app servers behind nginx or HAProxy (STACK_LB=haproxy) on
http://127.0.0.1:8080, a Celery worker (every queue) and beat, Debian's node exporter and
Prometheus scraping them all with the alert rules of deploy/prometheus/alerts.yml. Each process runs
in its own session and is recorded by PID in var/stack/state.json; `stop` stops exactly those (and
what is left in their process groups). A second `start` while everything recorded is alive only
prints the table.

Ports (0 = any free port; a port given here must be free):
    STACK_HTTP_PORT=8080  STACK_PG_PORT=0  STACK_PG_REPLICA_PORT=0  STACK_REDIS_PORT=0
    STACK_SMTP_PORT=0  STACK_PROMETHEUS_PORT=0  STACK_WORKER_METRICS_PORT=0
    STACK_NODE_EXPORTER_PORT=0  STACK_LB_STATS_PORT=0 (HAProxy's /metrics and /stats)
    STACK_APP_PORT=0 (the first app server's port; the next ones follow)
    STACK_APPS=2 (app-server processes)  STACK_TIMEOUT=60 (seconds each component may take)
    STACK_LB=nginx|haproxy (the load balancer)
    STACK_DRAIN_TIMEOUT=30 (seconds a stopping app server lets in-flight requests finish)

PostgreSQL's data lives under /tmp/conduit-stack-<hash of the checkout>/ (the postgres user
cannot enter /root-owned directories); everything else under var/stack/. The database is made
fresh (migrate + seed_demo) at each start. The nginx, HAProxy and Prometheus configurations are
made from deploy/ (ADR 0021).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from . import apps, balancers, databases, monitoring, services, tasks
from .core import (
    LOGS,
    ROOT,
    STACK,
    STATE,
    Ports,
    Stack,
    StackError,
    State,
    load_state,
    pid_alive,
    stop_pid,
)

PACKAGES = [
    "postgresql-15",
    "patroni",
    "etcd-server",
    "redis-server",
    "nginx",
    "haproxy",
    "prometheus",
    "prometheus-node-exporter",
]


def boot(stack: Stack, n_apps: int, lb: str) -> None:
    """Every component in dependency order, each ready before the next that needs it."""
    ports = Ports()
    http_port = ports.take("STACK_HTTP_PORT", 8080)
    pg_port = ports.take("STACK_PG_PORT")
    replica_port = ports.take("STACK_PG_REPLICA_PORT")
    redis_port = ports.take("STACK_REDIS_PORT")
    smtp_port = ports.take("STACK_SMTP_PORT")
    prom_port = ports.take("STACK_PROMETHEUS_PORT")
    app_ports = [ports.take("STACK_APP_PORT", offset=i) for i in range(n_apps)]
    worker_port = ports.take("STACK_WORKER_METRICS_PORT")
    node_port = ports.take("STACK_NODE_EXPORTER_PORT")
    lb_stats_port = ports.take("STACK_LB_STATS_PORT")

    database_url = databases.start_primary(stack, pg_port)
    replica_url = databases.start_replica(stack, replica_port, pg_port)
    services.start_redis(stack, redis_port)
    services.start_smtp_sink(stack, smtp_port)
    # DATABASE_REPLICA_URLS, CACHE_URL and EMAIL_URL are read by replica reads (ADR 0017),
    # caching (ADR 0016) and mail (the notifications app).
    urls = {
        "DATABASE_URL": database_url,
        "DATABASE_REPLICA_URLS": replica_url,
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
    }
    site_url = f"http://127.0.0.1:{http_port}"
    env = apps.app_environment(stack, urls, site_url, media_serve=lb == "haproxy")
    apps.set_up_database(env)
    apps.start_app_servers(stack, app_ports, env)

    stack.set(url=site_url)
    if lb == "haproxy":
        balancers.start_haproxy(stack, http_port, app_ports, lb_stats_port)
    else:
        balancers.start_nginx(stack, http_port, app_ports)
    tasks.start_celery(stack, worker_port, env)

    jobs = {"conduit-app": app_ports, "celery-worker": [worker_port]}
    if lb == "haproxy":
        jobs["haproxy"] = [lb_stats_port]
    if monitoring.start_node_exporter(stack, node_port):
        jobs["node"] = [node_port]
    monitoring.start_prometheus(stack, prom_port, jobs)


def start() -> int:
    state = load_state()
    if state is not None:
        if state.get("complete") and running(state):
            print("the stack is already running (make stack-stop stops it):\n")
            print(table(state))
            return 0
        print("a previous stack is partly down: stopping what is left of it", file=sys.stderr)
        stop_all(state)

    n_apps = int(os.environ.get("STACK_APPS", "2"))
    if n_apps < 1:
        print("STACK_APPS must be at least 1", file=sys.stderr)
        return 2
    lb = os.environ.get("STACK_LB", "nginx")
    if lb not in {"nginx", "haproxy"}:
        print("STACK_LB must be nginx (the default) or haproxy", file=sys.stderr)
        return 2
    subprocess.run(["bash", str(ROOT / "tools" / "debian-packages.sh"), *PACKAGES], check=True)

    STACK.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(exist_ok=True)
    stack = Stack()
    try:
        boot(stack, n_apps, lb)
    except (StackError, subprocess.CalledProcessError, OSError) as error:
        print(f"\nmake stack failed: {error}", file=sys.stderr)
        print("stopping what was started", file=sys.stderr)
        stop_all(stack.state)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping what was started", file=sys.stderr)
        stop_all(stack.state)
        return 130
    stack.set(complete=True)
    print("\nthe stack is running (make stack-status, make stack-stop):\n")
    print(table(stack.state))
    return 0


def running(state: State) -> bool:
    return all(pid_alive(c["pid"], c["match"]) for c in state["components"])


def stop_all(state: State) -> bool:
    """Stop every recorded process in reverse start order; True when none is left alive."""
    for c in reversed(state["components"]):
        if pid_alive(c["pid"], c["match"]):
            print(f"stopping {c['name']} (pid {c['pid']})", flush=True)
        # An app server may take STACK_DRAIN_TIMEOUT to finish its requests: no SIGKILL before.
        grace = apps.DRAIN_TIMEOUT + 5 if c["match"] == "granian" else 30
        # Also when the process itself is gone: what it left in its process group is stopped.
        stop_pid(c["pid"], getattr(signal, f"SIG{c['stop']}"), c["match"], grace)
    left = [c for c in state["components"] if pid_alive(c["pid"], c["match"])]
    for c in left:
        print(f"still alive: {c['name']} (pid {c['pid']})", file=sys.stderr)
    if not left:
        for name in ("primary", "replica"):
            (Path(state["pg_base"]) / name / "server.pid").unlink(missing_ok=True)
        STATE.unlink(missing_ok=True)
    return not left


def stop() -> int:
    state = load_state()
    if state is None:
        print("no stack recorded in var/stack/state.json: nothing to stop")
        return 0
    if stop_all(state):
        print("the stack is stopped")
        return 0
    return 1


def status() -> int:
    state = load_state()
    if state is None:
        print("the stack is not running (no var/stack/state.json)")
        return 3
    state.setdefault("url", "-")
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
        f"prometheus: {state.get('prometheus_url', '-')}",
        f"DATABASE_URL={env.get('DATABASE_URL', '-')}",
        f"DATABASE_REPLICA_URLS={env.get('DATABASE_REPLICA_URLS', '-')}",
        f"CACHE_URL={env.get('CACHE_URL', '-')}",
        f"EMAIL_URL={env.get('EMAIL_URL', '-')}"
        f"  (mail lands in {os.path.relpath(STACK / 'mail', ROOT)}/)",
        f"CELERY_BROKER_URL={env.get('CELERY_BROKER_URL', '-')}  (queues {tasks.QUEUES})",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in {"start", "stop", "status"}:
        print(__doc__)
        return 2
    os.chdir(ROOT)
    return {"start": start, "stop": stop, "status": status}[argv[0]]()
