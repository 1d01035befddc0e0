"""/metrics: conduit_http_request_duration_seconds and conduit_db_queries_per_request, in one
process and across processes (PROMETHEUS_MULTIPROC_DIR)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_expose_request_counts_and_queries_per_request(client: Client) -> None:
    client.get("/api/tags")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert (
        'conduit_http_request_duration_seconds_count{method="GET",route="api-tags",status="200"}'
        in text
    )
    assert 'conduit_db_queries_per_request_bucket{le="0.0",route="api-tags"}' in text


def test_request_duration_is_labelled_by_route_method_and_status(client: Client) -> None:
    labels = {"route": "api-article", "method": "GET", "status": "404"}
    before = sample("conduit_http_request_duration_seconds_count", labels)
    assert client.get("/api/articles/no-such-article").status_code == 404
    assert sample("conduit_http_request_duration_seconds_count", labels) == before + 1


def test_an_unknown_method_is_labelled_other_never_by_its_text(client: Client) -> None:
    method = "X" * 2000
    labels = {"route": "api-tags", "method": "other", "status": "401"}  # DRF: auth, then method
    before = sample("conduit_http_request_duration_seconds_count", labels)
    assert client.generic(method, "/api/tags").status_code == 401
    assert sample("conduit_http_request_duration_seconds_count", labels) == before + 1
    assert method not in client.get("/metrics").content.decode()


def test_queries_per_request_counts_the_requests_sql(client: Client) -> None:
    labels = {"route": "api-tags"}
    before_sum = sample("conduit_db_queries_per_request_sum", labels)
    before_count = sample("conduit_db_queries_per_request_count", labels)
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/tags")
    assert sample("conduit_db_queries_per_request_count", labels) == before_count + 1
    assert sample("conduit_db_queries_per_request_sum", labels) == before_sum + len(queries)


def _run(code: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


WORKER = """
    import django
    django.setup()
    from django.test import Client
    client = Client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
"""

SCRAPE = """
    import django
    django.setup()
    from django.test import Client
    print(Client().get("/metrics").content.decode())
"""


def test_multiprocess_mode_sums_every_worker(tmp_path: Path) -> None:
    """Two "workers" (processes) serve three requests each; a third process's /metrics sees six."""
    env = _env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    _run(WORKER, env)
    _run(WORKER, env)
    assert list(tmp_path.glob("*.db")), "the workers wrote no metric files"
    text = _run(SCRAPE, env)
    assert 'conduit_db_queries_per_request_count{route="healthz"} 6.0' in text
    assert (
        'conduit_http_request_duration_seconds_count{method="GET",route="healthz",status="200"}'
        " 6.0" in text
    )


def test_a_missing_multiprocess_dir_is_refused(tmp_path: Path) -> None:
    env = _env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "missing"))
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR" in result.stderr


def test_metrics_can_be_switched_off() -> None:
    code = """
        import django
        django.setup()
        from django.conf import settings
        from django.test import Client
        assert not any("metrics" in m for m in settings.MIDDLEWARE)
        print(Client().get("/metrics").status_code)
    """
    assert _run(code, _env(METRICS_ENABLED="false")).splitlines()[-1] == "404"
