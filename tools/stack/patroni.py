"""PostgreSQL under Patroni, with etcd as the consensus store: the members' directories, starting
etcd and each member, asking Patroni who leads, waiting until the leader accepts writes and the
replicas stream, and stopping a member with its postmaster. `make stack` (databases.py) and the
failover test (tests/stack/test_patroni.py) run the same code.

Patroni runs as ``postgres`` (PostgreSQL refuses root) and starts the postmaster in a session of
its own: stopping Patroni (SIGTERM) stops its PostgreSQL first, but a Patroni that was killed
leaves it running, so ``stop_postmaster`` finds it by the data directory's ``postmaster.pid``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import postgres  # tools/postgres.py

from .configs import patroni_conf
from .core import binary, fresh_directory, http_get, pid_alive, spawn, stop_pid
from .tls import Tls

STREAMING = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"


@dataclass(frozen=True)
class Member:
    name: str
    directory: Path  # owned by postgres: patroni.yml, data/, the socket, pgpass
    pg_port: int
    rest_port: int

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def config(self) -> Path:
        return self.directory / "patroni.yml"


@dataclass
class Cluster:
    """etcd (one member) and the Patroni members of one scope, all on loopback."""

    members: list[Member]
    etcd_dir: Path
    etcd_port: int
    etcd_peer_port: int
    scope: str = "conduit"
    synchronous: bool = True
    pids: dict[str, int] = field(default_factory=dict)  # etcd and each member's Patroni
    # pgBackRest's config and stanza, to which the leader archives its WAL (backups.py); None:
    # no archiving (the failover test's cluster).
    archive: tuple[Path, str] | None = None
    # The stack's certificate (var/stack/tls/, ADR 0033): each member serves TLS with a copy of
    # it; None: no TLS (the failover test's cluster).
    tls: Tls | None = None

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)


def make_cluster(
    base: Path,
    etcd_dir: Path,
    *,
    pg_ports: list[int],
    rest_ports: list[int],
    etcd_port: int,
    etcd_peer_port: int,
    synchronous: bool,
    scope: str = "conduit",
) -> Cluster:
    """Fresh, empty directories for etcd and for each member (``base``/patroni-N, owned by
    postgres; ``base`` itself must be enterable by postgres: /tmp, not /root)."""
    base.mkdir(mode=0o755, parents=True, exist_ok=True)
    base.chmod(0o755)
    members = []
    for i, (pg_port, rest_port) in enumerate(zip(pg_ports, rest_ports, strict=True), start=1):
        directory = base / f"patroni-{i}"
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        members.append(Member(f"patroni-{i}", directory, pg_port, rest_port))
    fresh_directory(etcd_dir)  # a fresh cluster: etcd must not remember the previous one's keys
    return Cluster(members, etcd_dir, etcd_port, etcd_peer_port, scope, synchronous)


# --- starting -----------------------------------------------------------------------------------


def etcd_argv(cluster: Cluster) -> list[str]:
    """One etcd member on loopback: its clients on ``etcd_port``, its (absent) peers on
    ``etcd_peer_port``; nothing on etcd's default 2379/2380."""
    client = f"http://127.0.0.1:{cluster.etcd_port}"
    peer = f"http://127.0.0.1:{cluster.etcd_peer_port}"
    return [binary("etcd"), "--name", "etcd-1", "--data-dir", str(cluster.etcd_dir / "data"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"etcd-1={peer}", "--initial-cluster-state", "new",
            "--initial-cluster-token", f"{cluster.scope}-{cluster.etcd_port}",
            "--log-level", "warn"]  # fmt: skip


def etcd_healthy(port: int) -> bool:
    status, body = http_get(f"http://127.0.0.1:{port}/health")
    return status == 200 and json.loads(body).get("health") == "true"


def start_etcd(cluster: Cluster, log: Path) -> int:
    pid = spawn(etcd_argv(cluster), log)
    cluster.pids["etcd"] = pid
    return pid


def start_member(cluster: Cluster, member: Member, log: Path) -> int:
    """Patroni for ``member`` as postgres: the first to take the leader key runs initdb, the
    others copy it (pg_basebackup) and follow."""
    etcd = [cluster.etcd_port]
    if cluster.tls:  # postgres cannot read var/stack/tls/, and wants its key to itself
        cluster.tls.copy_for(member.directory / "tls", "postgres")
    patroni_conf(member.directory, scope=cluster.scope, name=member.name,
                 pg_port=member.pg_port, rest_port=member.rest_port, etcd_ports=etcd,
                 synchronous=cluster.synchronous, archive=cluster.archive,
                 ssl=cluster.tls is not None)  # fmt: skip
    # HOME: psql and libpq look for their files there, and postgres cannot read /root.
    env = {**os.environ, "HOME": str(member.directory)}
    # Its own directory as the working one: Patroni's multiprocessing children change to the
    # parent's, and postgres cannot enter a checkout under /root (initdb then never finishes).
    pid = spawn(postgres.as_postgres([binary("patroni"), str(member.config)]), log, env,
                cwd=member.directory)  # fmt: skip
    cluster.pids[member.name] = pid
    return pid


# --- asking -------------------------------------------------------------------------------------


def psql(port: int, sql: str, dbname: str = "postgres", timeout: float = 5) -> str:
    out = subprocess.run(
        [str(postgres.PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
         "-d", dbname, "-Atc", sql],
        capture_output=True, text=True, check=True, timeout=timeout,
        env={**os.environ, "PGCONNECT_TIMEOUT": "2"},
    )  # fmt: skip
    return out.stdout.strip()


def cluster_view(members: list[Member]) -> dict[str, Any] | None:
    """Patroni's ``GET /cluster`` from the first of ``members`` that answers: every member's
    name, role (``leader``, ``replica``, ``sync_standby``), state, lag and timeline, read from etcd
    now."""
    for member in members:
        try:
            status, body = http_get(f"{member.rest_url}/cluster", timeout=1)
        except OSError:
            continue
        if status == 200:
            return dict(json.loads(body))
    return None


def own_role(member: Member) -> str:
    """What ``member``'s Patroni says of itself (``GET /patroni``: whether its PostgreSQL is in
    recovery), which needs no etcd: ``leader``, ``sync_standby``, ``replica`` or ``unknown``."""
    try:
        status, body = http_get(f"{member.rest_url}/patroni", timeout=1)
    except OSError:
        return "unknown"
    if status != 200:
        return "unknown"
    found = json.loads(body)
    if found.get("role") in {"master", "primary"}:
        return "leader"
    if found.get("role") == "replica":
        return "sync_standby" if found.get("sync_standby") else "replica"
    return "unknown"


def roles(members: list[Member]) -> dict[str, str]:
    """Each member's role now: ``leader``, ``replica``, ``sync_standby`` from Patroni's view of
    the cluster in etcd; when etcd cannot be read (failsafe mode keeps the leader running), from
    each member's own view; ``unknown`` for a member that does not answer."""
    view = cluster_view(members)
    if not view or not view.get("members"):
        return {m.name: own_role(m) for m in members}
    found = {m["name"]: m["role"] for m in view["members"]}
    return {m.name: found.get(m.name, "unknown") for m in members}


def leader(cluster: Cluster) -> Member | None:
    found = roles(cluster.members)
    return next((cluster.member(n) for n, r in found.items() if r == "leader"), None)


def accepts_writes(member: Member) -> bool:
    """Out of recovery: Patroni's ``/primary`` answers 200 a moment before that."""
    try:
        return psql(member.pg_port, "SELECT pg_is_in_recovery()") == "f"
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return False


def ready(cluster: Cluster) -> bool:
    """One leader that accepts writes, every other member streaming from it, and (in
    synchronous mode) one of them its synchronous standby."""
    found = roles(cluster.members)
    leaders = [n for n, r in found.items() if r == "leader"]
    if len(leaders) != 1 or not accepts_writes(cluster.member(leaders[0])):
        return False
    if cluster.synchronous and "sync_standby" not in found.values():
        return False
    try:
        streaming = psql(cluster.member(leaders[0]).pg_port, STREAMING)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return False
    return int(streaming) == len(cluster.members) - 1


def postmaster_pid(data_dir: Path) -> int | None:
    """The running postmaster of ``data_dir`` (first line of its postmaster.pid), or None."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid, str(data_dir)) else None


# --- stopping -----------------------------------------------------------------------------------


def stop_postmaster(data_dir: Path, timeout: float = 30) -> None:
    """A postmaster that its Patroni left running (Patroni was killed): a fast shutdown, and its
    backends with it (they share its process group, not Patroni's)."""
    pid = postmaster_pid(data_dir)
    if pid is None:
        return
    pgid = os.getpgid(pid)
    stop_pid(pid, signal.SIGINT, str(data_dir), timeout)
    if pgid != pid:  # Patroni's helper made the session; the postmaster's children are in it
        stop_pid(pgid, signal.SIGTERM, "postgres", 10)


def stop_member(pid: int, member: Member, timeout: float = 30) -> None:
    """Patroni first (SIGTERM: it shuts its PostgreSQL down and exits), then whatever
    PostgreSQL it left."""
    stop_pid(pid, signal.SIGTERM, str(member.directory), timeout)
    stop_postmaster(member.data_dir, timeout)


def stop_cluster(cluster: Cluster, timeout: float = 30) -> None:
    """Every member at once (one after the other, a stopping leader would hand its key to the
    next member, which would promote itself only to be stopped), then etcd."""
    members = [(cluster.pids[m.name], m) for m in cluster.members if m.name in cluster.pids]
    for pid, member in members:
        if pid_alive(pid, str(member.directory)):
            os.kill(pid, signal.SIGTERM)
    for pid, member in members:
        stop_member(pid, member, timeout)
    if "etcd" in cluster.pids:
        stop_pid(cluster.pids["etcd"], signal.SIGTERM, "etcd", timeout)
