"""Debian's node exporter and Prometheus for `make stack`, with the alert rules of
deploy/prometheus/alerts.yml (through deploy/prometheus/prometheus.yml, configs.py)."""

from __future__ import annotations

import json
import shutil

from .configs import prometheus_conf
from .core import LOGS, STACK, Stack, binary, http_get, spawn, wait_for


def start_node_exporter(stack: Stack, port: int) -> bool:
    """The host's disk, CPU and memory for the disk alerts, when Debian's exporter is installed;
    False when it is not. Prometheus' own wait covers its readiness."""
    exporter = shutil.which("prometheus-node-exporter")
    if not exporter:
        return False
    print(f"== node exporter on 127.0.0.1:{port}", flush=True)
    log = LOGS / "node-exporter.log"
    pid = spawn(
        [exporter, f"--web.listen-address=127.0.0.1:{port}",
         "--collector.disable-defaults", "--collector.filesystem", "--collector.cpu",
         "--collector.meminfo", "--collector.loadavg"],
        log,
    )  # fmt: skip
    stack.record("node-exporter", pid, f"127.0.0.1:{port}", log, "node-exporter", "TERM")
    return True


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
