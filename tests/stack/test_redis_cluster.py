"""The Redis Cluster of the tests and of make stack (tools/stack/redis_cluster.py): three masters
each with a replica, a master killed and its replica promoted with the data, the node started
again as a replica, a busy port refused, and what make stack takes and shows of it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from redis.cluster import ClusterNode
from redis.cluster import RedisCluster as ClusterClient

from tests.stack.conftest import stack

SLOTS = stack.redis_cluster.SLOTS
ClusterError = stack.redis_cluster.ClusterError
RedisCluster = stack.redis_cluster.RedisCluster


def client_for(url: str) -> ClusterClient:
    """A redis-py cluster client on every node of a ``redis-cluster://h:p,h:p`` URL."""
    assert url.startswith("redis-cluster://")
    nodes = [ClusterNode(*address.rsplit(":", 1)) for address in url.split("//", 1)[1].split(",")]
    return ClusterClient(startup_nodes=nodes, socket_timeout=2, decode_responses=True)


def replicas_synced(cluster: RedisCluster) -> None:
    """Every write so far acknowledged by each master's replica (WAIT 1)."""
    for master in cluster.masters():
        with master.client(5) as client:
            assert client.execute_command("WAIT", 1, 5000) == 1


@pytest.mark.services
def test_three_masters_each_with_a_replica(running_redis_cluster):
    cluster = running_redis_cluster
    roles = sorted(node.role for node in cluster.nodes)
    assert roles == ["master"] * 3 + ["replica"] * 3
    assert all(node.pid and node.running for node in cluster.nodes)
    described = cluster.describe()
    masters = {d["port"] for d in described if d["role"] == "master"}
    # Each master has its own replica, so one node lost loses no slot.
    assert sorted(d["master_port"] for d in described if d["role"] == "replica") == sorted(masters)
    assert sum(b - a + 1 for d in described for a, b in d["slots"]) == SLOTS
    assert cluster.state() == "ok"
    assert cluster.url == "redis-cluster://" + ",".join(
        f"127.0.0.1:{node.port}" for node in cluster.nodes
    )

    timelines = client_for(cluster.url)
    for user_id in range(60):
        timelines.zadd(f"tl:{{{user_id}}}", {str(user_id): user_id})
    assert timelines.zrange("tl:{7}", 0, -1) == ["7"]
    # The hash tags spread the keys over every master.
    for master in cluster.masters():
        with master.client() as client:
            assert client.dbsize() > 0


@pytest.mark.services
def test_killed_master_replica_promoted_with_the_data(running_redis_cluster):
    cluster = running_redis_cluster
    timelines = client_for(cluster.url)
    for user_id in range(60):
        timelines.zadd(f"tl:{{{user_id}}}", {"1": 1, "2": 2})
    replicas_synced(cluster)
    first = cluster.describe()
    killed = cluster.kill_master(0)
    heir = next(d["port"] for d in first if d["master_port"] == killed.port)
    assert not killed.running
    assert killed.role == "down"

    cluster.wait_ok(30)
    assert cluster.by_port(heir).role == "master"
    before = {d["port"] for d in first if d["role"] == "master"}
    assert {n.port for n in cluster.masters()} == before - {killed.port} | {heir}
    timelines = client_for(cluster.url)  # a client made while a node is down finds the rest
    assert all(timelines.zcard(f"tl:{{{user_id}}}") == 2 for user_id in range(60))

    cluster.start(killed.index)
    cluster.wait_ok(30)
    assert killed.role == "replica"
    assert sorted(node.role for node in cluster.nodes) == ["master"] * 3 + ["replica"] * 3


@pytest.mark.services
def test_a_busy_port_is_refused_and_nothing_is_left_running(tmp_path: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cluster = RedisCluster.on_free_ports(tmp_path)
        last = cluster.nodes[-1]
        last.port = port
        with pytest.raises(ClusterError, match=f"port {port} .* in use"):
            cluster.create()
    assert not any(node.running for node in cluster.nodes)


@pytest.mark.services
def test_stack_status_shows_the_nodes_roles_and_cluster_state(running_redis_cluster):
    cluster = running_redis_cluster
    state = {
        "components": [
            {
                "name": f"redis-cluster-{n.index + 1}",
                "pid": n.pid,
                "match": "redis-server",
                "address": f"127.0.0.1:{n.port} (bus :{n.bus_port})",
                "log": str(n.log),
                "stop": "TERM",
            }
            for n in cluster.nodes
        ],
        "redis_cluster": {
            "directory": str(cluster.directory),
            "ports": [n.port for n in cluster.nodes],
            "bus_ports": [n.bus_port for n in cluster.nodes],
        },
        "env": {"TIMELINE_URL": cluster.url},
        "url": "http://127.0.0.1:1",
    }
    listed = stack.status.components(state)
    assert sorted(c["role"] for c in listed) == ["master"] * 3 + ["replica"] * 3
    assert all(c["up"] for c in listed)
    assert stack.status.cluster_state(state) == "ok"
    table = stack.status.table(state)
    assert "redis cluster: cluster_state:ok" in table
    assert f"TIMELINE_URL={cluster.url}" in table


def test_stack_cluster_ports_from_a_first_port_or_a_list(monkeypatch):
    first = next(p for p in stack.redis_cluster.free_ports(40) if p + 10012 < 65536)

    monkeypatch.setenv("STACK_REDIS_CLUSTER_PORT", str(first))
    nodes, buses = stack.services.redis_cluster_ports(stack.core.Ports())
    assert nodes == [first + i for i in range(6)]
    assert buses == [first + 10000 + i for i in range(6)]

    listed = [first + 7 + i for i in range(6)]
    monkeypatch.setenv("STACK_REDIS_CLUSTER_PORT", ",".join(map(str, listed)))
    assert stack.services.redis_cluster_ports(stack.core.Ports())[0] == listed

    monkeypatch.setenv("STACK_REDIS_CLUSTER_PORT", "0")
    nodes, buses = stack.services.redis_cluster_ports(stack.core.Ports())
    assert len(set(nodes + buses)) == 12

    monkeypatch.setenv("STACK_REDIS_CLUSTER_PORT", f"{first},{first + 1}")
    with pytest.raises(stack.StackError, match="lists 2 ports"):
        stack.services.redis_cluster_ports(stack.core.Ports())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first + 3))
        busy.listen()
        monkeypatch.setenv("STACK_REDIS_CLUSTER_PORT", str(first))
        with pytest.raises(stack.StackError, match=f"port {first + 3} .* in use"):
            stack.services.redis_cluster_ports(stack.core.Ports())
