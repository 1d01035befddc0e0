"""PostgreSQL for `make stack`: etcd and two Patroni members (patroni.py), data under
/tmp/conduit-stack-<hash>/ (the postgres user cannot enter /root-owned directories), and HAProxy
in front of them on Patroni's checks: DATABASE_URL reaches whichever member leads, and
DATABASE_REPLICA_URLS whichever is a replica, before and after a failover (ADR 0026). The leader
archives its WAL to pgBackRest's repository (backups.py, ADR 0027)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import postgres  # tools/postgres.py

from . import backups, patroni
from .configs import haproxy_postgres_conf
from .core import LOGS, PG_BASE, STACK, Stack, StackError, binary, spawn, wait_for
from .tls import Tls


@dataclass(frozen=True)
class DatabasePorts:
    primary: int  # HAProxy: the leader (DATABASE_URL)
    replica: int  # HAProxy: the replicas (DATABASE_REPLICA_URLS)
    members: list[int]  # each member's PostgreSQL
    rest: list[int]  # each member's Patroni REST API
    etcd: int
    etcd_peer: int


def start_postgres(
    stack: Stack, ports: DatabasePorts, synchronous: bool, tls: Tls
) -> tuple[str, str]:
    """etcd, the members (the first to take the leader key runs initdb, the other copies it),
    the database once the leader accepts writes and the replica streams, then HAProxy. Returns
    (DATABASE_URL, DATABASE_REPLICA_URLS): TLS through HAProxy (TCP mode: the client's TLS goes
    through to the member), verified against ``tls``'s CA and the name 127.0.0.1 (ADR 0033)."""
    cluster = patroni.make_cluster(
        PG_BASE, STACK / "etcd", pg_ports=ports.members, rest_ports=ports.rest,
        etcd_port=ports.etcd, etcd_peer_port=ports.etcd_peer, synchronous=synchronous,
    )  # fmt: skip
    cluster.tls = tls
    # pgBackRest's repository first: the leader archives its WAL there from its first segment.
    repository = backups.make_repository(
        backups.WORK_DIR, [(m.data_dir, m.pg_port, m.directory) for m in cluster.members]
    )
    cluster.archive = repository.archive
    stack.set(patroni={"scope": cluster.scope, "members": [
        {"name": m.name, "directory": str(m.directory), "pg_port": m.pg_port,
         "rest_port": m.rest_port} for m in cluster.members]})  # fmt: skip

    print(f"== etcd on 127.0.0.1:{ports.etcd} (peers :{ports.etcd_peer})", flush=True)
    log = LOGS / "etcd.log"
    pid = patroni.start_etcd(cluster, log)
    stack.record("etcd", pid, f"127.0.0.1:{ports.etcd}", log, "etcd", "TERM")
    wait_for("etcd", lambda: patroni.etcd_healthy(ports.etcd), log, pid, "etcd")

    mode = "synchronous" if synchronous else "asynchronous"
    for member in cluster.members:
        print(f"== Patroni {member.name}: PostgreSQL on 127.0.0.1:{member.pg_port}, REST on "
              f":{member.rest_port} ({mode})", flush=True)  # fmt: skip
        log = LOGS / f"{member.name}.log"
        pid = patroni.start_member(cluster, member, log)
        # Its postmaster runs in a session of its own: stop finds it by postmaster.pid.
        stack.record(
            member.name, pid, f"127.0.0.1:{member.pg_port}", log, str(member.directory), "TERM",
            rest_port=member.rest_port, postmaster=str(member.data_dir),
        )  # fmt: skip
    first = cluster.members[0]
    wait_for("Patroni (a leader that accepts writes, the replica streaming)",
             lambda: patroni.ready(cluster), LOGS / f"{first.name}.log",
             cluster.pids[first.name], str(first.directory))  # fmt: skip
    leader = patroni.leader(cluster)
    if leader is None:  # ready() saw one a moment ago: only a failover meanwhile gets here
        raise StackError("Patroni has no leader; see var/stack/logs/patroni-*.log")
    patroni.psql(leader.pg_port, f"CREATE DATABASE {postgres.DB_NAME}")
    print(f"== pgBackRest: stanza {repository.stanza} in {repository.repo}", flush=True)
    backups.pgbackrest(repository, "stanza-create")
    start_haproxy(stack, ports, cluster)
    query = f"{postgres.DB_NAME}?{tls.postgres_query()}"
    return (f"postgres://postgres@127.0.0.1:{ports.primary}/{query}",
            f"postgres://postgres@127.0.0.1:{ports.replica}/{query}")  # fmt: skip


def start_haproxy(stack: Stack, ports: DatabasePorts, cluster: patroni.Cluster) -> None:
    """HAProxy on Patroni's /primary and /replica; ready once each address reaches the member in
    the role it promises."""
    print(f"== HAProxy for PostgreSQL: the leader on 127.0.0.1:{ports.primary}, the replica on "
          f":{ports.replica}", flush=True)  # fmt: skip
    directory = STACK / "haproxy-postgres"
    directory.mkdir(exist_ok=True)
    members = [(m.name, m.pg_port, m.rest_port) for m in cluster.members]
    conf = haproxy_postgres_conf(directory, ports.primary, ports.replica, members)
    haproxy = binary("haproxy")
    check = subprocess.run([haproxy, "-c", "-q", "-f", str(conf)], capture_output=True, text=True,
                           check=False)  # fmt: skip
    if check.returncode != 0:
        raise StackError(f"HAProxy config {conf} is invalid: {check.stderr.strip()}")
    log = LOGS / "haproxy-postgres.log"
    pid = spawn([haproxy, "-f", str(conf), "-db"], log)
    stack.record("haproxy-postgres", pid,
                 f"127.0.0.1:{ports.primary} (leader), 127.0.0.1:{ports.replica} (replica)",
                 log, str(conf), "USR1")  # fmt: skip

    def in_role(port: int, in_recovery: str) -> bool:
        return patroni.psql(port, "SELECT pg_is_in_recovery()", postgres.DB_NAME) == in_recovery

    wait_for("HAProxy -> the leader", lambda: in_role(ports.primary, "f"), log, pid, str(conf))
    wait_for("HAProxy -> the replica", lambda: in_role(ports.replica, "t"), log, pid, str(conf))
