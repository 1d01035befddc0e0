"""/healthz (alive, touches nothing) and /readyz (the registered checks; 503 when one fails)."""

from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conduit.platform.http import probes

pytestmark = pytest.mark.django_db


@pytest.fixture
def register_check() -> Iterator[Callable[[str, probes.Check], None]]:
    """``register_check(name, fn)``: a check for this test only; the registry is restored after."""
    saved = probes.registered()

    def register(name: str, check: probes.Check) -> None:
        probes.register(name, check)

    yield register
    for name in set(probes.registered()) - set(saved):
        probes.unregister(name)
    for name, check in saved.items():
        probes.register(name, check)


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


def test_readyz_is_503_with_the_error_when_the_database_check_fails(
    client: Client, register_check: Callable[[str, probes.Check], None]
) -> None:
    def database_down() -> None:
        raise ConnectionError("could not connect to server")

    register_check("database", database_down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ConnectionError: could not connect to server"
    assert body["checks"]["cache"] == "ok"


def test_later_checks_join_through_the_registry(
    client: Client, register_check: Callable[[str, probes.Check], None]
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
