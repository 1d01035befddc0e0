"""/healthz (alive, touches nothing) and /readyz (the registered checks; 503 when one fails)."""

from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from structlog.testing import capture_logs

from conduit.platform.http import probes

pytestmark = pytest.mark.django_db


@pytest.fixture
def register_check() -> Iterator[Callable[..., None]]:
    """``register_check(name, fn)``: a check for this test only; the registry is restored after."""
    saved = {name: (check, probes.is_critical(name)) for name, check in probes.registered().items()}

    def register(name: str, check: probes.Check, *, critical: bool = True) -> None:
        probes.register(name, check, critical=critical)

    yield register
    for name in set(probes.registered()) - set(saved):
        probes.unregister(name)
    for name, (check, critical) in saved.items():
        probes.register(name, check, critical=critical)


def test_healthz_is_ok_and_runs_no_query(client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(queries) == 0
    assert "no-cache" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


def test_readyz_reports_every_check(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "cache": "ok"},
    }


def test_readyz_is_503_naming_the_failing_check_and_logs_the_error(
    client: Client, register_check: Callable[..., None]
) -> None:
    def database_down() -> None:
        raise ConnectionError('connection to server at "10.0.0.7", port 5432 failed')

    register_check("database", database_down)
    with capture_logs() as logs:
        response = client.get("/readyz")
    assert response.status_code == 503
    # The public answer names the check and nothing of the error (no host, no port, no type).
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "failing", "migrations": "ok", "cache": "ok"},
    }
    assert b"10.0.0.7" not in response.content
    assert b"ConnectionError" not in response.content
    [line] = [line for line in logs if line["event"] == "readiness_check_failed"]
    assert line["check"] == "database"
    assert line["critical"] is True
    assert line["error"] == 'ConnectionError: connection to server at "10.0.0.7", port 5432 failed'
    assert line["log_level"] == "warning"


def test_a_failing_non_critical_check_keeps_readyz_ready(
    client: Client, register_check: Callable[..., None]
) -> None:
    def cache_down() -> None:
        raise RuntimeError("redis://10.0.0.8:6379 refused")

    register_check("cache", cache_down, critical=False)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "failing"
    assert b"10.0.0.8" not in response.content


def test_later_checks_join_through_the_registry(
    client: Client, register_check: Callable[..., None]
) -> None:
    register_check("broker", lambda: None)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_the_migrations_check_is_cached_once_everything_is_applied() -> None:
    probes.reset_migrations_cache()
    probes.check_migrations()  # computes the plan: all applied in the test database
    with CaptureQueriesContext(connection) as queries:
        probes.check_migrations()
    assert len(queries) == 0


def test_probes_refuse_writes(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
