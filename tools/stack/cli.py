"""`make stack`: the one-machine topology on loopback, from Debian packages.

    .venv/bin/python tools/stack start|stop|status [--json]

PostgreSQL 15 under Patroni (two members, leader and replica, etcd as the consensus store) behind
HAProxy on Patroni's health checks, Redis (cache and Celery broker), a Redis Cluster of three
masters each with a replica (the home timelines, TIMELINE_URL), an SMTP sink (aiosmtpd),
STACK_APPS granian app servers behind nginx or HAProxy (STACK_LB=haproxy) on
http://127.0.0.1:8080 (and on HTTPS: ADR 0033, certificates in var/stack/tls/), a Celery
worker (every queue) and beat, Debian's node exporter (its
textfile collector on var/stack/textfile/), a PostgreSQL exporter per member, a Redis exporter and
Prometheus scraping them all with the alert rules of deploy/prometheus/alerts.yml. Each process runs
in its own session and is recorded by PID in var/stack/state.json; `stop` stops exactly those (and
what is left in their process groups, and each member's postmaster). A second `start` while
everything recorded is alive only prints the table. `status --json` (make stack-status JSON=1)
prints each component's name, PID, port and, for the PostgreSQL members, the role Patroni gives
it now (leader or replica) and its postmaster's PID.

Ports (0 = any free port; a port given here must be free):
    STACK_HTTP_PORT=8080  STACK_REDIS_PORT=0  STACK_SMTP_PORT=0  STACK_PROMETHEUS_PORT=0
    STACK_REDIS_CLUSTER_PORT=0 (the Redis Cluster's first node P: nodes on P..P+5, cluster
        buses on P+10000..; or six ports separated by commas)
    STACK_HTTPS_PORT=0 (the balancer's HTTPS)  STACK_REDIS_TLS_PORT=0 (Redis's TLS port, the app's)
    STACK_PG_PORT=0 (HAProxy: the leader, DATABASE_URL)
    STACK_PG_REPLICA_PORT=0 (HAProxy: the replica, DATABASE_REPLICA_URLS)
    STACK_PG_MEMBER_PORT=0 (the first member's PostgreSQL; the second follows)
    STACK_PATRONI_PORT=0 (the first member's Patroni REST API; the second follows)
    STACK_ETCD_PORT=0  STACK_ETCD_PEER_PORT=0
    STACK_WORKER_METRICS_PORT=0  STACK_NODE_EXPORTER_PORT=0
    STACK_LB_STATS_PORT=0 (HAProxy's /metrics and /stats)
    STACK_PG_EXPORTER_PORT=0 (the first member's PostgreSQL exporter; the second follows)
    STACK_REDIS_EXPORTER_PORT=0
    STACK_APP_PORT=0 (the first app server's port; the next ones follow)
    STACK_EVENTS_PORT=0 (the events server: granian ASGI, /events/; ADR 0030)
    STACK_APPS=2 (app-server processes)  STACK_TIMEOUT=60 (seconds each component may take)
    STACK_LB=nginx|haproxy (the load balancer)
    STACK_HTTP_REDIRECT=browsers|all|off (which plain HTTP requests are redirected to HTTPS:
        browsers' navigations, the default; every one; none)
    STACK_PG_SYNC=on|off (Patroni's synchronous mode, on by default: ADR 0026)
    STACK_DRAIN_TIMEOUT=30 (seconds a stopping app server lets in-flight requests finish)
    STACK_BACKUP_INTERVAL=3600 (seconds between scheduled incremental backups)
    STACK_RESTORE_PORT=0 (the scratch cluster of `restore`)
    STACK_LOG_ROTATE_INTERVAL=86400  STACK_LOG_KEEP=7  STACK_LOG_MAX_BYTES=104857600 (nginx's
    access log and the app and Celery logs: logrotate.py; `tools/stack rotate-logs` rotates now)

Backups (pgBackRest, ADR 0027; backup_commands.py says more):
    .venv/bin/python tools/stack backup [--type incr|diff|full] | backup-status [--json]
    .venv/bin/python tools/stack restore --target TIME|latest [--keep] [--json]

PostgreSQL's data lives under /tmp/conduit-stack-<hash of the checkout>/patroni-N/ (the postgres
user cannot enter /root-owned directories); everything else, etcd's data too, under var/stack/.
The cluster and the database are made fresh (migrate + seed_demo) at each start. The nginx,
HAProxy, Patroni and Prometheus configurations are made from deploy/ (ADR 0021).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from . import (
    apps,
    backup_commands,
    backups,
    balancers,
    configs,
    databases,
    logrotate,
    monitoring,
    patroni,
    services,
    tasks,
)
from . import tls as certificates
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
from .status import running, status, table

PACKAGES = [
    "postgresql-15",
    "patroni",
    "etcd-server",
    "pgbackrest",
    "redis-server",
    "nginx",
    "libnginx-mod-http-brotli-static",
    "haproxy",
    "prometheus",
    "prometheus-node-exporter",
    "prometheus-postgres-exporter",
    "prometheus-redis-exporter",
]


def boot(stack: Stack, n_apps: int, lb: str, synchronous: bool) -> None:
    """Every component in dependency order, each ready before the next that needs it."""
    ports = Ports()
    http_port = ports.take("STACK_HTTP_PORT", 8080)
    https_port = ports.take("STACK_HTTPS_PORT")
    redis_tls_port = ports.take("STACK_REDIS_TLS_PORT")
    pg = databases.DatabasePorts(
        primary=ports.take("STACK_PG_PORT"),
        replica=ports.take("STACK_PG_REPLICA_PORT"),
        members=[ports.take("STACK_PG_MEMBER_PORT", offset=i) for i in range(2)],
        rest=[ports.take("STACK_PATRONI_PORT", offset=i) for i in range(2)],
        etcd=ports.take("STACK_ETCD_PORT"),
        etcd_peer=ports.take("STACK_ETCD_PEER_PORT"),
    )
    redis_port = ports.take("STACK_REDIS_PORT")
    cluster_ports, cluster_buses = services.redis_cluster_ports(ports)
    smtp_port = ports.take("STACK_SMTP_PORT")
    prom_port = ports.take("STACK_PROMETHEUS_PORT")
    app_ports = [ports.take("STACK_APP_PORT", offset=i) for i in range(n_apps)]
    events_port = ports.take("STACK_EVENTS_PORT")
    worker_port = ports.take("STACK_WORKER_METRICS_PORT")
    node_port = ports.take("STACK_NODE_EXPORTER_PORT")
    lb_stats_port = ports.take("STACK_LB_STATS_PORT")
    pg_exporter_ports = [ports.take("STACK_PG_EXPORTER_PORT", offset=i) for i in range(2)]
    redis_exporter_port = ports.take("STACK_REDIS_EXPORTER_PORT")

    # One local CA and server certificate, made once (ADR 0033): the app reaches PostgreSQL and
    # Redis over TLS, verified against the CA, and nginx serves HTTPS with it.
    tls = certificates.ensure()
    database_url, replica_url = databases.start_postgres(stack, pg, synchronous, tls)
    services.start_redis(stack, redis_port, redis_tls_port)
    timelines = services.start_redis_cluster(stack, cluster_ports, cluster_buses)
    services.start_smtp_sink(stack, smtp_port)
    # DATABASE_REPLICA_URLS, CACHE_URL and EMAIL_URL are read by replica reads (ADR 0017),
    # caching (ADR 0016) and mail (the notifications app).
    urls = {
        "DATABASE_URL": database_url,
        "DATABASE_REPLICA_URLS": replica_url,
        "CACHE_URL": tls.redis_url(redis_tls_port, 0),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_BROKER_URL": tls.redis_url(redis_tls_port, 1),
        # Live updates (ADR 0030): published by the app servers and the workers, read by the
        # events server, which nginx or HAProxy routes /events/ to.
        "EVENTS_URL": tls.redis_url(redis_tls_port, 2),
        # The home timelines (ADR 0034): sorted sets sharded over the Redis Cluster.
        "TIMELINE_URL": timelines.url,
    }
    site_url = f"http://127.0.0.1:{http_port}"
    env = apps.app_environment(stack, urls, site_url, lb=lb)
    apps.set_up_database(env)
    backups.start(stack)  # the full backup of the set-up database, and the schedule
    apps.start_app_servers(stack, app_ports, env)
    apps.start_events_server(stack, events_port, env)

    stack.set(url=site_url)
    https = (https_port, tls, os.environ.get("STACK_HTTP_REDIRECT") or "browsers")
    if lb == "haproxy":
        balancers.start_haproxy(stack, http_port, app_ports, lb_stats_port, https, events_port)
    else:
        balancers.start_nginx(stack, http_port, app_ports, https, events_port)
    stack.set(https_url=f"https://127.0.0.1:{https_port}", ca=str(tls.ca))
    tasks.start_celery(stack, worker_port, env)

    jobs = {"conduit-app": app_ports, "conduit-events": [events_port],
            "celery-worker": [worker_port]}  # fmt: skip
    if lb == "haproxy":
        jobs["haproxy"] = [lb_stats_port]
    if monitoring.start_node_exporter(stack, node_port):
        jobs["node"] = [node_port]
    members = [(m["name"], m["pg_port"], m["rest_port"]) for m in stack.state["patroni"]["members"]]
    jobs |= monitoring.start_exporters(stack, members=members, postgres_ports=pg_exporter_ports,
                                       redis_port=redis_port,
                                       redis_exporter_port=redis_exporter_port)  # fmt: skip
    monitoring.start_prometheus(stack, prom_port, jobs)
    logrotate.start(stack)  # access and app logs: daily, STACK_LOG_KEEP kept (docs/retention.md)


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
    if (os.environ.get("STACK_HTTP_REDIRECT") or "browsers") not in configs.HTTP_REDIRECTS:
        print("STACK_HTTP_REDIRECT must be browsers (the default), all or off", file=sys.stderr)
        return 2
    sync = os.environ.get("STACK_PG_SYNC", "on")
    if sync not in {"on", "off"}:
        print("STACK_PG_SYNC must be on (the default) or off", file=sys.stderr)
        return 2
    subprocess.run(["bash", str(ROOT / "tools" / "debian-packages.sh"), *PACKAGES], check=True)

    STACK.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(exist_ok=True)
    stack = Stack()
    try:
        boot(stack, n_apps, lb, synchronous=sync == "on")
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


def stop_all(state: State) -> bool:
    """Stop every recorded process in reverse start order; True when none is left alive.
    The Patroni members are signalled together: one after the other, a stopping leader would
    hand its key to the next member, which would promote itself only to be stopped."""
    members = [c for c in state["components"] if "postmaster" in c]
    for c in reversed(state["components"]):
        if pid_alive(c["pid"], c["match"]):
            print(f"stopping {c['name']} (pid {c['pid']})", flush=True)
        if c in members:
            for member in members:
                if pid_alive(member["pid"], member["match"]):
                    os.kill(member["pid"], signal.SIGTERM)
            members = []
        # An app server may take STACK_DRAIN_TIMEOUT to finish its requests: no SIGKILL before.
        grace = apps.DRAIN_TIMEOUT + 5 if c["match"] == "granian" else 30
        # Also when the process itself is gone: what it left in its process group is stopped.
        stop_pid(c["pid"], getattr(signal, f"SIG{c['stop']}"), c["match"], grace)
        if "postmaster" in c:  # a Patroni member: the PostgreSQL a killed Patroni left running
            patroni.stop_postmaster(Path(c["postmaster"]))
    left = [c["name"] for c in state["components"] if pid_alive(c["pid"], c["match"])]
    left += [f"{c['name']}'s postmaster" for c in state["components"]
             if "postmaster" in c and patroni.postmaster_pid(Path(c["postmaster"]))]  # fmt: skip
    for name in left:
        print(f"still alive: {name}", file=sys.stderr)
    if not left:
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


def main(argv: list[str]) -> int:
    commands = {("start",): start, ("stop",): stop, ("status",): status,
                ("status", "--json"): lambda: status(as_json=True)}  # fmt: skip
    if argv and argv[0] == "rotate-logs":
        os.chdir(ROOT)
        return logrotate.main(argv[1:])
    if argv and argv[0] in backup_commands.COMMANDS:  # backup, backup-status, restore
        os.chdir(ROOT)
        return backup_commands.main(argv)
    command = commands.get(tuple(argv))
    if command is None:
        print(__doc__)
        return 2
    os.chdir(ROOT)
    return command()
