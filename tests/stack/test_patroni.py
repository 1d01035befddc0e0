"""PostgreSQL under Patroni with etcd, as `make stack` runs it (tools/stack/patroni.py, ADR 0026):
etcd and two members on loopback, in synchronous mode, started once for the module. The leader's
postmaster is SIGKILLed: the replica must be promoted and take a write within 20 s, with the write
acknowledged before the kill, and the old leader must come back as its replica without anyone's
help. Then etcd is SIGKILLed: the leader must still take writes after the leader key's ttl.
First, the metrics that the data tier's alerts and dashboard panels read are checked against what
these members' Patroni and a PostgreSQL exporter on the leader (the stack's argv) expose."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.services import ServerProcess, free_port, require_binary, wait_until
from tests.stack.conftest import ROOT, fetch, processes_naming, stack

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]

patroni = stack.patroni


@pytest.fixture(scope="module")
def cluster() -> Iterator[stack.patroni.Cluster]:
    """etcd and two Patroni members on free ports, data under a fresh directory in /tmp (the
    postgres user cannot enter pytest's own); every process stopped by PID afterwards, and the
    test fails if one is left."""
    require_binary("patroni", "patroni")
    require_binary("etcd", "etcd-server")
    base = Path(tempfile.mkdtemp(prefix="conduit-patroni-test-", dir="/tmp"))
    ports: list[int] = []
    while len(ports) < 6:
        port = free_port()
        if port not in ports:
            ports.append(port)
    cluster = patroni.make_cluster(
        base, base / "etcd", pg_ports=ports[0:2], rest_ports=ports[2:4], etcd_port=ports[4],
        etcd_peer_port=ports[5], synchronous=True,
    )  # fmt: skip
    try:
        patroni.start_etcd(cluster, base / "etcd.log")
        wait_until(lambda: patroni.etcd_healthy(cluster.etcd_port), "etcd", timeout=15)
        for member in cluster.members:
            patroni.start_member(cluster, member, base / f"{member.name}.log")
        try:
            wait_until(lambda: patroni.ready(cluster), "a leader and a streaming replica", 40)
        except TimeoutError as error:  # what etcd and each member said, to tell why
            logs = {log.name: log.read_text()[-3000:] for log in base.glob("**/*.log")}
            raise TimeoutError(f"{error}; logs: {logs}") from None
        yield cluster
    finally:
        patroni.stop_cluster(cluster, timeout=20)
        left = processes_naming(base)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        logs = {log.name: log.read_text()[-2000:] for log in base.glob("*.log")}
        shutil.rmtree(base, ignore_errors=True)
        assert left == [], f"left running: {left}; logs: {logs}"


def state_of(cluster: stack.patroni.Cluster) -> dict[str, Any]:
    """The part of var/stack/state.json that `make stack` records for the cluster."""
    members = [
        {"name": m.name, "directory": str(m.directory), "pg_port": m.pg_port,
         "rest_port": m.rest_port} for m in cluster.members
    ]  # fmt: skip
    components = [
        {"name": m.name, "pid": cluster.pids[m.name], "address": f"127.0.0.1:{m.pg_port}",
         "log": "-", "match": str(m.directory), "stop": "TERM", "rest_port": m.rest_port,
         "postmaster": str(m.data_dir)} for m in cluster.members
    ]  # fmt: skip
    return {"patroni": {"members": members}, "components": components}


def write(member: stack.patroni.Member, value: int) -> bool:
    try:
        patroni.psql(member.pg_port, f"INSERT INTO drill VALUES ({value:d})", timeout=2)  # noqa: S608
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return False
    return True


def rows(member: stack.patroni.Member) -> str:
    return patroni.psql(member.pg_port, "SELECT string_agg(id::text, ',' ORDER BY id) FROM drill")


def scrape(port: int) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of each sample on 127.0.0.1:``port``/metrics, read leniently:
    Patroni 3.0.2 writes ``patroni_postgres_server_version {scope=...}`` with a space, which
    Prometheus accepts and prometheus_client's parser does not."""
    response = fetch(port, "GET", "/metrics")
    assert response.status == 200, response.body[:200]
    samples = []
    for line in response.body.decode().splitlines():
        found = re.match(r"([a-zA-Z_:][\w:]*)\s*(\{.*\})?\s+(\S+)$", line)
        if found and not line.startswith("#"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', found.group(2) or ""))
            samples.append((found.group(1), labels, float(found.group(3))))
    return samples


def value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    (found,) = [v for n, lab, v in samples if n == name and labels.items() <= lab.items()]
    return found


def test_the_data_tier_alerts_read_metrics_that_patroni_and_the_exporter_expose(
    cluster: stack.patroni.Cluster, tmp_path: Path
) -> None:
    require_binary("prometheus-postgres-exporter", "prometheus-postgres-exporter")
    wait_until(lambda: patroni.ready(cluster), "a leader and a streaming replica", timeout=30)
    leader = patroni.leader(cluster)
    assert leader is not None
    (replica,) = (m for m in cluster.members if m != leader)
    port = free_port()
    dsn = stack.monitoring.member_dsn(leader.pg_port)
    argv, env = stack.monitoring.postgres_exporter(port, dsn)
    exporter = ServerProcess(name="postgres-exporter", argv=argv, port=port, workdir=tmp_path,
                             env=env)  # fmt: skip
    try:
        exporter.start()
        on_leader = scrape(port)
    finally:
        exporter.stop()
    # The leader's view of its standby, by Patroni member name (ConduitPostgresReplicationLag).
    lag = value(on_leader, "pg_stat_replication_pg_wal_lsn_diff", application_name=replica.name)
    assert 0 <= lag < 16 * 1024 * 1024
    assert value(on_leader, "pg_stat_archiver_failed_count") == 0
    assert value(on_leader, "pg_up") == 1
    # Each member's Patroni says which it is (ConduitPostgresNoLeader, the roles panel).
    patroni_leader, patroni_replica = scrape(leader.rest_port), scrape(replica.rest_port)
    assert value(patroni_leader, "patroni_primary", scope=cluster.scope) == 1
    assert value(patroni_replica, "patroni_primary", scope=cluster.scope) == 0
    assert value(patroni_replica, "patroni_replica", scope=cluster.scope) == 1

    # Every pg_ and patroni_ metric the data tier's rules and panels name is among those exposed.
    exposed = {name for name, _, _ in on_leader + patroni_leader + patroni_replica}
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    (group,) = [g for g in rules["groups"] if g["name"] == "conduit-data-tier"]
    read = " ".join(rule["expr"] for rule in group["rules"])
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "conduit.json").read_text())
    read += " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    named = set(re.findall(r"\b(?:pg|patroni)_[a-z_]+", read)) - {"pg_job", "patroni_job"}
    assert named, "no pg_ or patroni_ metric found in the rules and panels"
    assert named <= exposed, f"not exposed here: {sorted(named - exposed)}"


def test_a_killed_leader_is_replaced_and_rejoins_as_a_replica(
    cluster: stack.patroni.Cluster,
) -> None:
    old = patroni.leader(cluster)
    assert old is not None
    (other,) = (m for m in cluster.members if m != old)
    assert patroni.roles(cluster.members)[other.name] == "sync_standby"
    patroni.psql(old.pg_port, "CREATE TABLE drill (id int PRIMARY KEY)")
    assert write(old, 1)  # acknowledged once the synchronous standby has it
    postmaster = patroni.postmaster_pid(old.data_dir)
    assert postmaster is not None

    killed = time.monotonic()
    os.kill(postmaster, signal.SIGKILL)
    wait_until(lambda: write(other, 2), "a write on the promoted replica", timeout=20)
    promoted_after = time.monotonic() - killed

    assert patroni.roles(cluster.members)[other.name] == "leader"
    assert rows(other) == "1,2"  # nothing acknowledged was lost
    wait_until(lambda: patroni.ready(cluster), "the old leader back as a replica", timeout=40)
    assert patroni.roles(cluster.members)[old.name] == "sync_standby"
    assert patroni.postmaster_pid(old.data_dir) not in {None, postmaster}
    assert patroni.psql(old.pg_port, "SELECT pg_is_in_recovery()") == "t"
    wait_until(lambda: rows(old) == "1,2", "the old leader replaying the new leader's write", 10)
    # make stack-status JSON=1 asks Patroni, so it names the new leader and its postmaster.
    listed = {c["name"]: c for c in stack.status.components(state_of(cluster))}
    assert listed[other.name]["role"] == "leader"
    assert listed[other.name]["postmaster_pid"] == patroni.postmaster_pid(other.data_dir)
    assert listed[old.name]["role"] == "replica"
    assert listed[old.name]["synchronous_standby"] is True
    print(f"promoted and writable {promoted_after:.1f} s after the kill")


def failsafe_members(member: stack.patroni.Member) -> dict[str, str]:
    """The members in etcd's failsafe key as ``member``'s Patroni last read it (``GET
    /failsafe``: name -> REST URL; empty before the first write)."""
    try:
        response = fetch(member.rest_port, "GET", "/failsafe", timeout=2)
    except OSError:
        return {}
    if response.status != 200:
        return {}
    found: dict[str, str] = json.loads(response.body)
    return found


def test_the_leader_keeps_taking_writes_when_etcd_is_lost(cluster: stack.patroni.Cluster) -> None:
    wait_until(lambda: patroni.ready(cluster), "a leader and a streaming replica", timeout=30)
    leader = patroni.leader(cluster)
    assert leader is not None
    patroni.psql(leader.pg_port, "CREATE TABLE failsafe (id int PRIMARY KEY)")
    # The leader keeps leading without etcd only if every member it last wrote to etcd's
    # failsafe key answers it: wait until that key names both (the previous test replaced one).
    names = {member.name for member in cluster.members}
    wait_until(lambda: set(failsafe_members(leader)) == names, "the failsafe key", timeout=15)

    os.kill(cluster.pids["etcd"], signal.SIGKILL)
    time.sleep(12)  # past the leader key's ttl (10 s): without failsafe mode it would demote

    try:
        patroni.psql(leader.pg_port, "INSERT INTO failsafe VALUES (1)")
    except subprocess.CalledProcessError as error:  # what psql and the leader said, to tell why
        logs = {log.name: log.read_text()[-3000:] for log in cluster.etcd_dir.parent.glob("*.log")}
        raise AssertionError(f"the write failed: {error.stderr}; logs: {logs}") from None
    assert patroni.psql(leader.pg_port, "SELECT count(*) FROM failsafe") == "1"
    # With etcd gone the roles come from each member's own REST API.
    assert patroni.leader(cluster) == leader
    listed = {c["name"]: c for c in stack.status.components(state_of(cluster))}
    assert listed[leader.name]["role"] == "leader"
