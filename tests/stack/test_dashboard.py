"""deploy/grafana/conduit.json against a live Prometheus (Grafana itself is not available here).

A real Prometheus scrapes a real app server, a Celery worker's metrics port, Debian's node
exporter (its textfile collector reading the backup metrics tools/stack/backup_metrics.py makes of
a real ``pgbackrest info``), and Debian's PostgreSQL and Redis exporters on the suite's own
servers; after a little traffic and one task, every panel's query (its template variables
substituted as Grafana would) must parse and run without error, and the core panels must return
data. Every ``conduit_*`` metric the processes expose must appear on some panel. The Patroni and
replication panels need a Patroni cluster, which this test does not start: test_patroni.py checks
that a real one exposes the metrics they read.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from celery import Celery

from tests.services import RedisServer, ServerProcess, free_port, require_binary, wait_until
from tests.stack.conftest import (
    ROOT,
    SECRET_KEY,
    fetch,
    make_app_server,
    stack,
    test_database_url,
)
from tests.stack.test_backup_metrics import sample as pgbackrest_info

# django_db: pytest-django creates the test database only when a collected test asks for it (the
# app server reads it from its own process; these tests write nothing).
pytestmark = [
    pytest.mark.services,
    pytest.mark.pg,
    pytest.mark.django_db,
    pytest.mark.timeout(120),
]

DASHBOARD = ROOT / "deploy" / "grafana" / "conduit.json"
SCRAPE_SECONDS = 1
# What Grafana puts for its built-in variables: $__rate_interval is at least four scrape intervals.
BUILT_INS = {"__rate_interval": f"{4 * SCRAPE_SECONDS * 3}s", "__range": "5m", "__interval": "1s"}

# Panels that must show data on this small stack (the others need a pool, replicas, a Patroni
# cluster, a failing task or a dead letter, which this test does not create; their queries must
# still run).
CORE = {
    "Request rate by route",
    "Error ratio (5xx)",
    "Responses by status",
    "Latency p50 by route",
    "Latency p99 by route",
    "DB queries per request by route",
    "Cache hit ratio",
    "Task rate by outcome",
    "Task duration p95",
    "Queue depth",
    "App servers up",
    "Celery workers up",
    "Scrape targets",
    "Host CPU busy",
    "Load average (1 min) per core",
    "Disk free",
    "WAL archive",
    "Last backup age",
    "Redis memory",
    "Redis connected clients",
}


def load_dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text()))


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def variable_values(dashboard: dict[str, Any]) -> dict[str, str]:
    """Each template variable's value when the dashboard opens ("All" for a multi-value query)."""
    values = dict(BUILT_INS)
    for var in dashboard["templating"]["list"]:
        if var["type"] == "textbox":
            values[var["name"]] = var["query"]
        elif var["type"] == "query":
            values[var["name"]] = var["allValue"]
        elif var["type"] == "datasource":
            values[var["name"]] = "prometheus"
    return values


def substitute(expr: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in values, f"unknown variable ${name} in {expr}"
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


# --- the dashboard's shape (no services needed) ----------------------------------------------


def test_the_dashboard_is_importable_json_for_grafana_10() -> None:
    dashboard = load_dashboard()
    assert dashboard["schemaVersion"] >= 36  # Grafana 9.x+ reads it; 10+ is the target
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        assert panel["description"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            assert target["expr"].strip()
    titles = [p["title"] for p in panels(dashboard)]
    assert len(titles) == len(set(titles))
    assert set(titles) >= CORE


# --- against a live Prometheus ----------------------------------------------------------------


@dataclass
class Prometheus:
    process: ServerProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.process.port}"

    def get(self, path: str, **params: str) -> tuple[int, dict[str, Any]]:
        """(status, JSON body); while Prometheus starts, its API answers 503 in plain text."""
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, dict(json.loads(raw))
        except ValueError:
            return status, {"status": "error", "error": raw.decode(errors="replace")}

    def query(self, expr: str) -> tuple[int, dict[str, Any]]:
        return self.get("/api/v1/query", query=expr)

    def targets_up(self, expected: int) -> bool:
        status, body = self.get("/api/v1/targets")
        if status != 200:
            return False
        active = body["data"]["activeTargets"]
        return len(active) == expected and all(t["health"] == "up" for t in active)


def metrics_answer(port: int) -> bool:
    return fetch(port, "GET", "/metrics", timeout=2).status == 200


@pytest.fixture(scope="module")
def live(
    django_db_setup: None,
    django_db_blocker: Any,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    """Prometheus scraping an app server, a Celery worker, the node exporter (with a backup
    textfile), and the PostgreSQL and Redis exporters, with traffic."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the stack tests run on PostgreSQL")
    with django_db_blocker.unblock():
        database_url = test_database_url()
    workdir = tmp_path_factory.mktemp("dashboard")
    redis_server.start()
    broker = redis_server.url_for(3)
    started: list[ServerProcess] = []
    try:
        app = make_app_server("dash-app", workdir, database_url)
        started.append(app)  # before start(): a server that fails to get ready is stopped too
        app.start(timeout=60)

        worker_port = free_port()
        worker_metrics = workdir / "worker-metrics"
        worker_metrics.mkdir()
        worker = ServerProcess(
            name="celery-worker",
            argv=[str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", "worker",
                  "-Q", "default", "--concurrency", "1", "--pool", "prefork",
                  "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
            port=worker_port,
            workdir=workdir,
            env={"DJANGO_SETTINGS_MODULE": "config.settings_test", "PYTHONPATH": str(ROOT),
                 "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY,
                 "CELERY_BROKER_URL": broker, "CELERY_METRICS_PORT": str(worker_port),
                 "PROMETHEUS_MULTIPROC_DIR": str(worker_metrics)},
        )  # fmt: skip
        worker.ready = lambda: metrics_answer(worker_port) and b" ready." in worker.log.read_bytes()
        started.append(worker)
        worker.start(timeout=60)

        node_port = free_port()
        textfiles = workdir / "textfile"
        textfiles.mkdir()
        backups = stack.backup_metrics.backup_metrics(pgbackrest_info())
        stack.backup_metrics.write_textfile(textfiles, "pgbackrest.prom", backups)
        node = ServerProcess(
            name="node-exporter",
            argv=[require_binary("prometheus-node-exporter", "prometheus-node-exporter"),
                  f"--web.listen-address=127.0.0.1:{node_port}", "--collector.disable-defaults",
                  "--collector.cpu", "--collector.filesystem", "--collector.loadavg",
                  "--collector.textfile", f"--collector.textfile.directory={textfiles}"],
            port=node_port,
            workdir=workdir,
        )  # fmt: skip
        started.append(node)
        node.start()

        # The stack's own argv for both exporters, on the suite's PostgreSQL and Redis.
        require_binary("prometheus-postgres-exporter", "prometheus-postgres-exporter")
        require_binary("prometheus-redis-exporter", "prometheus-redis-exporter")
        pg_exporter_port = free_port()
        argv, env = stack.monitoring.postgres_exporter(
            pg_exporter_port, f"{database_url}?sslmode=disable"
        )
        pg_exporter = ServerProcess(
            name="postgres-exporter", argv=argv, port=pg_exporter_port, workdir=workdir, env=env
        )
        started.append(pg_exporter)
        pg_exporter.start()
        redis_exporter_port = free_port()
        redis_exporter = ServerProcess(
            name="redis-exporter",
            argv=stack.monitoring.redis_exporter_argv(redis_exporter_port, redis_server.port),
            port=redis_exporter_port,
            workdir=workdir,
        )
        started.append(redis_exporter)
        redis_exporter.start()

        prom_port = free_port()
        jobs = {"conduit-app": app.port, "celery-worker": worker_port, "node": node_port,
                "postgres": pg_exporter_port, "redis": redis_exporter_port}  # fmt: skip
        scrapes = "".join(
            f'  - job_name: {job}\n    static_configs:\n      - targets: ["127.0.0.1:{port}"]\n'
            for job, port in jobs.items()
        )
        config = workdir / "prometheus.yml"
        config.write_text(
            f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\n"
            f"  evaluation_interval: {SCRAPE_SECONDS}s\nscrape_configs:\n{scrapes}"
        )
        prometheus = Prometheus(
            ServerProcess(
                name="prometheus",
                argv=[require_binary("prometheus", "prometheus"), f"--config.file={config}",
                      f"--storage.tsdb.path={workdir / 'tsdb'}",
                      f"--web.listen-address=127.0.0.1:{prom_port}"],
                port=prom_port,
                workdir=workdir,
            )
        )  # fmt: skip
        prometheus.process.ready = lambda: prometheus.get("/api/v1/status/buildinfo")[0] == 200
        started.append(prometheus.process)
        prometheus.process.start(timeout=60)
        wait_until(lambda: prometheus.targets_up(len(jobs)), "every target up", timeout=30)

        # Traffic: lists (cache misses, then hits), a detail, the tags, a 404; and one task.
        for path in ["/api/articles", "/api/articles", "/api/tags", "/", "/api/articles/nope"] * 4:
            fetch(app.port, "GET", path)
        # A client app of its own, never the process's current app: shared tasks would bind to
        # it (non-eager, this test's broker) for the rest of the suite.
        with Celery(broker=broker, set_as_current=False) as client:
            client.send_task("conduit.platform.sessions_clear", queue="default")
        wait_until(lambda: b"succeeded" in worker.log.read_bytes(), "the task to run")
        # Enough scrapes after the traffic for rate() to see it.
        time.sleep(3 * SCRAPE_SECONDS + 1)
        wait_until(
            lambda: bool(prometheus.query("conduit_celery_tasks_total")[1]["data"]["result"]),
            "the task counter scraped",
        )
        yield prometheus
    finally:
        for process in reversed(started):
            process.stop()
        shutil.rmtree(workdir / "tsdb", ignore_errors=True)


def test_every_panel_query_runs_and_the_core_panels_show_data(live: Prometheus) -> None:
    dashboard = load_dashboard()
    values = variable_values(dashboard)
    empty = []
    for panel in panels(dashboard):
        results = []
        for target in panel["targets"]:
            expr = substitute(target["expr"], values)
            status, body = live.query(expr)
            assert status == 200, (panel["title"], expr, body)
            assert body["status"] == "success", (panel["title"], expr, body)
            results += body["data"]["result"]
        if not results:
            empty.append(panel["title"])
    assert not CORE & set(empty), f"core panels without data: {sorted(CORE & set(empty))}"
    print(f"{len(panels(dashboard))} panels ran; without data here (as expected): {empty}")


def test_the_variable_queries_list_values(live: Prometheus) -> None:
    for var in load_dashboard()["templating"]["list"]:
        if var["type"] != "query":
            continue
        found = re.fullmatch(r"label_values\((\w+), (\w+)\)", var["query"]["query"])
        assert found, var
        metric, label = found.groups()
        status, body = live.get(f"/api/v1/label/{label}/values", **{"match[]": metric})
        assert status == 200, body
        assert body["data"], f"${var['name']} would list nothing"


def test_every_exposed_conduit_metric_is_on_the_dashboard(live: Prometheus) -> None:
    text = DASHBOARD.read_text()
    _, body = live.get("/api/v1/label/__name__/values")
    exposed = {
        re.sub(r"_(bucket|sum|count|created|total)$", "", name)
        for name in body["data"]
        if name.startswith("conduit_")
    }
    assert exposed, "no conduit_ metric scraped"
    missing = sorted(name for name in exposed if name not in text)
    assert not missing, f"metrics no panel shows: {missing}"
