"""Debian's exporters and Prometheus for `make stack`, with the alert rules of
deploy/prometheus/alerts.yml (through deploy/prometheus/prometheus.yml, configs.py): the node
exporter (with its textfile collector on var/stack/textfile/, where the backups' metrics go), a
PostgreSQL exporter per Patroni member, a Redis exporter, and each member's Patroni REST API,
which serves its own /metrics."""

from __future__ import annotations

import json
import os
import shutil

from .configs import prometheus_conf
from .core import LOGS, STACK, Stack, binary, http_get, spawn, wait_for

# The node exporter's textfile collector reads every *.prom file here at each scrape: the backup
# loop writes pgbackrest_* metrics into it (backup_metrics.py), which the alerts and the dashboard
# read.
TEXTFILE_DIR = STACK / "textfile"


def start_node_exporter(stack: Stack, port: int) -> bool:
    """The host's disk, CPU and memory for the disk alerts, when Debian's exporter is installed;
    False when it is not. Prometheus' own wait covers its readiness."""
    exporter = shutil.which("prometheus-node-exporter")
    if not exporter:
        return False
    print(f"== node exporter on 127.0.0.1:{port} (textfiles: var/stack/textfile/)", flush=True)
    TEXTFILE_DIR.mkdir(parents=True, exist_ok=True)
    log = LOGS / "node-exporter.log"
    pid = spawn(
        [exporter, f"--web.listen-address=127.0.0.1:{port}",
         "--collector.disable-defaults", "--collector.filesystem", "--collector.cpu",
         "--collector.meminfo", "--collector.loadavg",
         "--collector.textfile", f"--collector.textfile.directory={TEXTFILE_DIR}"],
        log,
    )  # fmt: skip
    stack.record("node-exporter", pid, f"127.0.0.1:{port}", log, "node-exporter", "TERM")
    stack.set(textfile_dir=str(TEXTFILE_DIR))
    return True


def member_dsn(pg_port: int) -> str:
    """A member's own PostgreSQL (trusted on loopback, as Patroni's config says), not HAProxy's."""
    return f"postgresql://postgres@127.0.0.1:{pg_port}/postgres?sslmode=disable"


def postgres_exporter(port: int, dsn: str) -> tuple[list[str], dict[str, str]]:
    """Debian's postgres_exporter (0.11) on ``port`` for the PostgreSQL at ``dsn`` (a libpq URL;
    lib/pq wants ``sslmode=disable`` for a server without TLS): (argv, environment). Its default
    collectors include pg_stat_replication (on a leader: each standby's replay lag in bytes),
    pg_stat_archiver and pg_replication_slots."""
    argv = [binary("prometheus-postgres-exporter"), f"--web.listen-address=127.0.0.1:{port}"]
    return argv, {**os.environ, "DATA_SOURCE_NAME": dsn}


def redis_exporter_argv(port: int, redis_port: int) -> list[str]:
    return [binary("prometheus-redis-exporter"), f"-web.listen-address=127.0.0.1:{port}",
            f"-redis.addr=redis://127.0.0.1:{redis_port}"]  # fmt: skip


def start_exporters(
    stack: Stack,
    *,
    members: list[tuple[str, int, int]],
    postgres_ports: list[int],
    redis_port: int,
    redis_exporter_port: int,
) -> dict[str, list[int]]:
    """A PostgreSQL exporter per member (``members``: name, PostgreSQL port, Patroni REST port),
    each on its member directly, not through HAProxy, so that a replica's lag and a leader's
    replication are both seen whichever member leads; and a Redis exporter. Returns the scrape
    jobs (name -> ports) for them and for Patroni's own /metrics. Prometheus' wait covers their
    readiness; an exporter whose database is down still answers (``pg_up 0``)."""
    for (name, pg_port, _rest), port in zip(members, postgres_ports, strict=True):
        print(f"== PostgreSQL exporter on 127.0.0.1:{port} ({name})", flush=True)
        log = LOGS / f"postgres-exporter-{name}.log"
        argv, env = postgres_exporter(port, member_dsn(pg_port))
        pid = spawn(argv, log, env)
        stack.record(f"postgres-exporter-{name}", pid, f"127.0.0.1:{port}", log,
                     "postgres-exporter", "TERM")  # fmt: skip
    print(f"== Redis exporter on 127.0.0.1:{redis_exporter_port}", flush=True)
    log = LOGS / "redis-exporter.log"
    pid = spawn(redis_exporter_argv(redis_exporter_port, redis_port), log)
    stack.record("redis-exporter", pid, f"127.0.0.1:{redis_exporter_port}", log,
                 "redis-exporter", "TERM")  # fmt: skip
    return {
        "postgres": postgres_ports,
        "patroni": [rest for _name, _pg, rest in members],
        "redis": [redis_exporter_port],
    }


def prometheus_targets_up(port: int, expected: int) -> bool:
    status, body = http_get(f"http://127.0.0.1:{port}/api/v1/targets")
    if status != 200:
        return False
    active = json.loads(body)["data"]["activeTargets"]
    return len(active) == expected and all(t["health"] == "up" for t in active)


def start_prometheus(stack: Stack, port: int, jobs: dict[str, list[int]]) -> None:
    """Prometheus scraping ``jobs`` (name -> loopback ports) and itself; ready once every target
    is up."""
    print(f"== Prometheus on 127.0.0.1:{port} (alerts: deploy/prometheus/alerts.yml)", flush=True)
    directory = STACK / "prometheus"
    (directory / "data").mkdir(parents=True, exist_ok=True)
    conf = prometheus_conf(directory, port, jobs)
    log = LOGS / "prometheus.log"
    pid = spawn(
        [binary("prometheus"), f"--config.file={conf}",
         f"--storage.tsdb.path={directory / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=7d"],
        log,
    )  # fmt: skip
    stack.record("prometheus", pid, f"127.0.0.1:{port}", log, "prometheus", "TERM")
    stack.set(prometheus_url=f"http://127.0.0.1:{port}")
    targets = sum(len(ports) for ports in jobs.values()) + 1
    wait_for("Prometheus (every target up)", lambda: prometheus_targets_up(port, targets), log,
             pid, "prometheus")  # fmt: skip
