"""Redis (the cache and the Celery broker), the Redis Cluster (the home timelines) and the SMTP
sink for `make stack`."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from . import tls
from .core import (
    LOGS,
    PY,
    STACK,
    Ports,
    Stack,
    StackError,
    State,
    fresh_directory,
    spawn,
    wait_for,
)
from .redis_cluster import ClusterError, Node, RedisCluster

CLUSTER_NODES = 6  # 3 masters, each with one replica


def redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


def smtp_banner(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        ok = sock.recv(256).startswith(b"220")
        sock.sendall(b"QUIT\r\n")
        return ok


def redis_argv(port: int, tls_port: int | None = None) -> list[str]:
    """Redis as the stack runs it (a drill restarts it with the same: Redis rewrites its own
    command line in /proc, so it cannot be read back from there). ``tls_port``: TLS there with
    the stack's certificate (var/stack/tls/, ADR 0033), beside the plain ``port``."""
    plain = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--dir", str(STACK / "redis"), "--daemonize", "no"]  # fmt: skip
    return plain + (tls.ensure().redis_args(tls_port) if tls_port else [])


def start_redis(stack: Stack, port: int, tls_port: int) -> None:
    """One Redis for the cache (db 0) and the broker (db 1), with an append-only file under
    var/stack/redis/ (a queued task survives a restart of Redis: the drills'). The app's
    connections use its TLS port; the plain port stays on loopback for the exporter and the
    drills' checks (ADR 0033). Each make stack starts it empty, as it makes the database fresh:
    the last stack's cache would answer for the new database's ids (a new account showed the
    name of the old account with its id), and its queue would run tasks for rows that are gone."""
    print(f"== Redis on 127.0.0.1:{port}, TLS on :{tls_port}", flush=True)
    fresh_directory(STACK / "redis")
    log = LOGS / "redis.log"
    pid = spawn(redis_argv(port, tls_port), log)
    stack.record("redis", pid, f"127.0.0.1:{port} (TLS :{tls_port})", log, "redis-server", "TERM",
                 tls_port=tls_port)  # fmt: skip
    wait_for("Redis", lambda: redis_ping(port), log, pid, "redis-server")


def start_smtp_sink(stack: Stack, port: int) -> None:
    """aiosmtpd filing every message in var/stack/mail/ (a Maildir)."""
    print(f"== SMTP sink on 127.0.0.1:{port} (mail in var/stack/mail/)", flush=True)
    mail_dir = STACK / "mail"
    # A Maildir: aiosmtpd's Mailbox handler creates one only where no directory exists yet, and
    # fails every delivery (SMTP 500) into a bare directory.
    for sub in ("tmp", "new", "cur"):
        (mail_dir / sub).mkdir(parents=True, exist_ok=True)
    log = LOGS / "smtp.log"
    pid = spawn(
        [str(PY), "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Mailbox", str(mail_dir)],
        log,
    )  # fmt: skip
    stack.record("smtp-sink", pid, f"127.0.0.1:{port}", log, "aiosmtpd", "TERM")
    wait_for("SMTP sink", lambda: smtp_banner(port), log, pid, "aiosmtpd")


def redis_cluster_ports(ports: Ports) -> tuple[list[int], list[int]]:
    """The cluster's client ports and cluster-bus ports. STACK_REDIS_CLUSTER_PORT: 0 (any free
    ports), a first port P (the nodes on P..P+5, their buses on P+10000..P+10005, Redis's own
    convention) or six ports separated by commas (buses 10000 above each)."""
    var = "STACK_REDIS_CLUSTER_PORT"
    value = (os.environ.get("STACK_REDIS_CLUSTER_PORT") or "0").strip()
    try:
        wanted = [int(p) for p in value.split(",")]
    except ValueError:
        raise StackError(f"{var}={value!r}: one port, or {CLUSTER_NODES} with commas") from None
    if len(wanted) == 1 and wanted[0] == 0:
        nodes = [ports.any() for _ in range(CLUSTER_NODES)]
        return nodes, [ports.any() for _ in range(CLUSTER_NODES)]
    if len(wanted) == 1:
        wanted = [wanted[0] + i for i in range(CLUSTER_NODES)]
    if len(wanted) != CLUSTER_NODES:
        raise StackError(f"{var} lists {len(wanted)} ports: the cluster has {CLUSTER_NODES} nodes")
    if any(not 0 < p + 10000 < 65536 for p in wanted):
        raise StackError(f"{var}: each port + 10000 (its cluster bus) must be a port too")
    nodes = [ports.claim(p, var) for p in wanted]
    return nodes, [ports.claim(p + 10000, f"{var} (+10000, the cluster bus)") for p in wanted]


def start_redis_cluster(stack: Stack, nodes: list[int], buses: list[int]) -> RedisCluster:
    """Three masters, each with one replica (tools/stack/redis_cluster.py), under
    var/stack/redis-cluster/, made afresh at each start (the timelines are rebuilt from the
    database: manage.py rebuild_timelines). Plain TCP on loopback, unlike the TLS Redis."""
    cluster = RedisCluster(STACK / "redis-cluster", nodes, bus_ports=buses)
    print(f"== Redis Cluster (3 masters + 3 replicas) on 127.0.0.1:{','.join(map(str, nodes))}",
          flush=True)  # fmt: skip

    def record(node: Node) -> None:
        stack.record(f"redis-cluster-{node.index + 1}", node.pid or 0,
                     f"127.0.0.1:{node.port} (bus :{node.bus_port})", node.log, "redis-server",
                     "TERM")  # fmt: skip

    try:
        cluster.create(started=record)
    except ClusterError as error:
        logs = STACK / "redis-cluster" / "node-*" / "redis.log"
        raise StackError(f"Redis Cluster: {error}; see {logs}") from error
    stack.set(redis_cluster={"directory": str(cluster.directory), "ports": nodes,
                             "bus_ports": buses})  # fmt: skip
    return cluster


def redis_cluster_of(state: State) -> RedisCluster | None:
    """The recorded cluster, with each node's PID from the state file (make stack-status)."""
    recorded = state.get("redis_cluster")
    if not recorded:
        return None
    cluster = RedisCluster(Path(recorded["directory"]), recorded["ports"],
                           bus_ports=recorded["bus_ports"])  # fmt: skip
    pids = {c["address"].split()[0]: c["pid"] for c in state["components"]
            if c["name"].startswith("redis-cluster-")}  # fmt: skip
    for node in cluster.nodes:
        node.pid = pids.get(node.address)
    return cluster
