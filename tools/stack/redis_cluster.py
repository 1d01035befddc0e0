"""A Redis Cluster on loopback from Debian's redis-server (7.0 on Debian 12): ``masters`` masters,
each with ``replicas`` replicas, one process per node, created with ``redis-cli --cluster create``.

Shared by `make stack` (services.start_redis_cluster records each node's PID in the state file)
and the test suite (the ``redis_cluster`` fixture of tests/services.py), so it imports nothing
of the stack: only the standard library and redis-py.

    cluster = RedisCluster(Path("/tmp/rc"), ports=[7000, 7001, ...])   # or free_ports(6)
    cluster.create()             # every node, then the cluster, then cluster_state:ok
    cluster.url                  # redis-cluster://127.0.0.1:7000,127.0.0.1:7001,...
    [(n.port, n.role, n.pid) for n in cluster.nodes]     # role: master, replica or down
    killed = cluster.kill_master(0)   # SIGKILL the master of the lowest slots
    cluster.wait_ok()            # its replica promoted: every slot served by a live master
    cluster.start(killed.index); cluster.wait_ok()   # back, as the new master's replica
    cluster.stop()

Each node has its own directory (``node-<port>/``: nodes.conf, its log). No persistence: a node
killed and started again comes back empty and rejoins as a replica once its replica was promoted
(its nodes.conf names its old slots with an older config epoch). The cluster bus port of each
node is its own (``cluster-port``), so any free port pair works.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

SLOTS = 16384
HOST = "127.0.0.1"
# Milliseconds a master may be unreachable before its replica takes over: Redis's default is
# 15 s; 2 s makes a failover take ~3-4 s here (the election adds 0.5-1 s).
NODE_TIMEOUT_MS = 2000


class ClusterError(Exception):
    """The cluster did not start or reach the state waited for; the message says which node."""


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct ports free now (the kernel's choice, held until all are chosen)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((host, 0))
            socks.append(sock)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def require(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/local/bin:/usr/bin:/usr/sbin")
    if not found:
        raise ClusterError(f"{name} not found: install Debian's redis-server (make test does)")
    return found


def _pid_alive(pid: int) -> bool:
    """Alive and not a zombie (a zombie still answers kill -0)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Node:
    """One redis-server of the cluster; ``index`` is its place in the list of ports."""

    index: int
    port: int
    bus_port: int
    directory: Path
    node_timeout_ms: int
    pid: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log(self) -> Path:
        return self.directory / "redis.log"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def argv(self) -> list[str]:
        return [
            require("redis-server"),
            *("--port", str(self.port), "--bind", HOST, "--protected-mode", "no"),
            *("--dir", str(self.directory), "--daemonize", "no", "--logfile", ""),
            *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
            *("--cluster-port", str(self.bus_port)),
            *("--cluster-node-timeout", str(self.node_timeout_ms)),
            # A replica takes over however long it was cut off from its master: the cluster
            # stays available, and what it missed is rebuilt (manage.py rebuild_timelines).
            *("--cluster-replica-validity-factor", "0"),
            *("--save", "", "--appendonly", "no"),
            *("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"),
        ]

    @property
    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.pid is not None and _pid_alive(self.pid)

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(HOST, self.port, socket_timeout=timeout,
                           socket_connect_timeout=timeout, decode_responses=True)  # fmt: skip

    def info(self, command: str = "CLUSTER INFO") -> dict[str, str]:
        """CLUSTER INFO (or INFO replication, ...) as a mapping of its ``key:value`` lines."""
        with self.client() as client:
            text = client.execute_command(*command.split())
        if isinstance(text, dict):  # redis-py parses INFO itself
            return {k: str(v) for k, v in text.items()}
        return dict(line.split(":", 1) for line in str(text).splitlines() if ":" in line)

    @property
    def role(self) -> str:
        """``master`` or ``replica`` as the node says now (ROLE); ``down``: it does not answer."""
        try:
            with self.client() as client:
                reply = client.execute_command("ROLE")
        except (redis.RedisError, OSError):
            return "down"
        return "master" if reply[0] == "master" else "replica"

    def ping(self) -> bool:
        try:
            with self.client(0.5) as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def start(self, timeout: float = 30.0) -> None:
        """Start the process (in its own session, output to its log) and wait for PING."""
        if self.running:
            return
        for port in (self.port, self.bus_port):
            if not port_is_free(port):
                raise ClusterError(f"port {port} (Redis Cluster node {self.index}) is in use")
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.directory, start_new_session=True,
            )  # fmt: skip
        self.pid = self.process.pid
        wait(lambda: self._alive_or_raise() and self.ping(), f"node {self.address}", timeout)

    def _alive_or_raise(self) -> bool:
        if not self.running:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ClusterError(f"Redis Cluster node {self.address} exited:\n{tail}")
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Signal the process and wait until it is gone (SIGKILL after ``timeout``)."""
        if self.pid is None or not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)
        try:
            wait(lambda: not self.running, f"node {self.address} to stop", timeout)
        except ClusterError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            wait(lambda: not self.running, f"node {self.address} to die", 5)
        if self.process is not None:
            self.process.wait(1)  # reaped: no zombie left behind


def wait(ready: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            if ready():
                return
        except (redis.RedisError, OSError) as error:
            last = f" ({type(error).__name__}: {error})"
        if time.monotonic() > deadline:
            raise ClusterError(f"waited {timeout:.0f} s for {what}{last}")
        time.sleep(0.05)


def parse_nodes(text: str) -> list[dict[str, Any]]:
    """CLUSTER NODES: per node its id, port, role (``master``/``replica``), whether it is
    flagged failing (``fail`` or ``fail?``), its master's id and its slot ranges."""
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        flags = parts[2].split(",")
        slots = [tuple(int(x) for x in s.split("-")) if "-" in s else (int(s), int(s))
                 for s in parts[8:] if not s.startswith("[")]  # fmt: skip
        found.append({
            "id": parts[0],
            "port": int(parts[1].split("@")[0].rsplit(":", 1)[1]),
            "role": "master" if "master" in flags else "replica",
            "failing": "fail" in flags or "fail?" in flags,
            "master_id": None if parts[3] == "-" else parts[3],
            "slots": slots,
            "connected": parts[7] == "connected",
        })  # fmt: skip
    return found


class RedisCluster:
    """The nodes on ``ports`` (masters * (1 + replicas) of them) under ``directory``."""

    def __init__(
        self,
        directory: Path,
        ports: list[int],
        *,
        replicas: int = 1,
        bus_ports: list[int] | None = None,
        node_timeout_ms: int = NODE_TIMEOUT_MS,
    ) -> None:
        if len(ports) < 3 * (1 + replicas) or len(ports) % (1 + replicas):
            raise ClusterError(f"{len(ports)} ports: not 3+ masters with {replicas} replicas each")
        bus_ports = bus_ports or [p + 10000 for p in ports]  # Redis's own convention
        self.directory = directory
        self.replicas = replicas
        pairs = enumerate(zip(ports, bus_ports, strict=True))
        self.nodes = [Node(i, port, bus, directory / f"node-{port}", node_timeout_ms)
                      for i, (port, bus) in pairs]  # fmt: skip

    @classmethod
    def on_free_ports(cls, directory: Path, masters: int = 3, replicas: int = 1,
                      **kwargs: Any) -> RedisCluster:  # fmt: skip
        count = masters * (1 + replicas)
        ports = free_ports(2 * count)
        return cls(directory, ports[:count], replicas=replicas, bus_ports=ports[count:], **kwargs)

    @property
    def url(self) -> str:
        """Every node, so a client finds the cluster whichever of them is down."""
        return "redis-cluster://" + ",".join(node.address for node in self.nodes)

    # --- lifecycle ------------------------------------------------------------------------------

    def create(self, timeout: float = 60.0, started: Callable[[Node], None] | None = None) -> None:
        """A new cluster: every node started empty, the slots assigned, cluster_state:ok.
        ``started(node)`` is called as each node's process starts (make stack records it)."""
        for node in self.nodes:
            shutil.rmtree(node.directory, ignore_errors=True)
        try:
            for node in self.nodes:
                node.start()
                if started is not None:
                    started(node)
            created = subprocess.run(
                [require("redis-cli"), "--cluster", "create",
                 *(n.address for n in self.nodes),
                 "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                capture_output=True, text=True, timeout=timeout, check=False,
            )  # fmt: skip
            if created.returncode != 0 or "[OK] All 16384 slots covered" not in created.stdout:
                raise ClusterError(f"redis-cli --cluster create failed:\n{created.stdout}"
                                   f"{created.stderr}")  # fmt: skip
            self.wait_ok(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def start(self, index: int) -> Node:
        """Start node ``index`` again (same port, directory and nodes.conf), empty; it rejoins
        the cluster (wait_ok waits until it has)."""
        node = self.nodes[index]
        node.start()
        return node

    def start_stopped(self) -> list[Node]:
        """Every node that is not running started again."""
        return [self.start(node.index) for node in self.nodes if not node.running]

    def kill_master(self, n: int = 0) -> Node:
        """SIGKILL the master serving the ``n``-th slot range (0: the lowest slots)."""
        masters = self.masters()
        if not 0 <= n < len(masters):
            raise ClusterError(f"no master {n}: the cluster has {len(masters)}")
        node = masters[n]
        node.stop(signal.SIGKILL)
        return node

    def flush(self) -> None:
        """Every key deleted (on every master; their replicas follow)."""
        for node in self.masters():
            with node.client() as client:
                client.flushall()

    # --- state ----------------------------------------------------------------------------------

    def by_port(self, port: int) -> Node:
        return next(node for node in self.nodes if node.port == port)

    def view(self) -> list[dict[str, Any]]:
        """CLUSTER NODES as a running node sees it (the first that answers)."""
        for node in self.nodes:
            if node.running:
                with contextlib.suppress(redis.RedisError, OSError), node.client() as client:
                    return parse_nodes(str(client.execute_command("CLUSTER", "NODES")))
        raise ClusterError("no node of the cluster answers")

    def masters(self) -> list[Node]:
        """The masters serving slots, ordered by their lowest slot."""
        owners = [e for e in self.view() if e["role"] == "master" and e["slots"]]
        owners.sort(key=lambda e: min(start for start, _ in e["slots"]))
        return [self.by_port(e["port"]) for e in owners]

    def describe(self) -> list[dict[str, Any]]:
        """Each node: port, role (``master``, ``replica``, ``down``), PID and, for a master, its
        slot ranges; for a replica, its master's port."""
        try:
            seen = {e["port"]: e for e in self.view()}
        except ClusterError:
            seen = {}
        ids = {e["id"]: e["port"] for e in seen.values()}
        out = []
        for node in self.nodes:
            entry = seen.get(node.port, {})
            role = entry.get("role", "unknown") if node.running else "down"
            out.append({
                "index": node.index, "port": node.port, "pid": node.pid, "role": role,
                "slots": [list(r) for r in entry.get("slots", [])],
                "master_port": ids.get(entry.get("master_id") or ""),
            })  # fmt: skip
        return out

    def state(self) -> str:
        """cluster_state (``ok`` or ``fail``) of the first running node that answers."""
        for node in self.nodes:
            if node.running:
                with contextlib.suppress(redis.RedisError, OSError):
                    return node.info()["cluster_state"]
        return "down"

    def is_ok(self) -> bool:
        """Every running node says cluster_state:ok and they all see the same roles: each
        running node a master serving slots or the replica of one, none flagged failing, every
        slot served by a running master; and every replica's link to its master is up. (A
        master just killed is only suspected for cluster-node-timeout: meanwhile the others
        still say ok, so the slot owners' liveness is checked here, not taken from them.)"""
        running = [node for node in self.nodes if node.running]
        alive = {node.port for node in running}
        views = [self._roles(node, alive) for node in running]
        agreed = views[0] if views else None
        if agreed is None or any(view != agreed for view in views):
            return False
        masters = {port for port, role, _ in agreed if role == "master"}
        if not masters <= alive:  # a slot owner is down: not failed over yet
            return False
        replicas = [node for node in running if node.port not in masters]
        return all(node.info("INFO replication").get("master_link_status") == "up"
                   for node in replicas)  # fmt: skip

    @staticmethod
    def _roles(node: Node, alive: set[int]) -> frozenset[tuple[int, str, int | None]] | None:
        """(port, role, master's port) of the running nodes and slot owners as ``node`` sees
        them; None when it is not ok, misses a running node or has one unsettled."""
        if node.info().get("cluster_state") != "ok":
            return None
        with node.client() as client:
            view = parse_nodes(str(client.execute_command("CLUSTER", "NODES")))
        ports = {e["id"]: e["port"] for e in view}
        listed = [e for e in view if e["port"] in alive or e["slots"]]
        if {e["port"] for e in listed} < alive or any(e["failing"] for e in listed):
            return None
        if any(e["role"] == "master" and not e["slots"] for e in listed):
            return None  # a node that joined and has not learnt its role yet
        if sum(b - a + 1 for e in listed if e["role"] == "master" for a, b in e["slots"]) != SLOTS:
            return None
        return frozenset((e["port"], e["role"], ports.get(e["master_id"] or "")) for e in listed)

    def wait_ok(self, timeout: float = 60.0) -> None:
        wait(self.is_ok, "cluster_state:ok with every slot on a live master", timeout)
