"""/readyz checks the Celery broker when one is configured: a real Redis stopped and started
again, and an AMQP URL whose port nothing listens on."""

from collections.abc import Iterator

import pytest
from django.test import Client
from django.test.utils import override_settings

from conduit.platform.http import probes
from tests.services import RedisServer, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.services, pytest.mark.timeout(60)]


@pytest.fixture
def broker_check() -> Iterator[None]:
    """The broker check registered as with CELERY_BROKER_URL set at start-up; removed after."""
    had = "broker" in probes.registered()
    probes.register_broker_check()
    yield
    if not had:
        probes.unregister("broker")


def test_readyz_follows_a_redis_broker_going_down_and_up(
    client: Client, running_redis: RedisServer, broker_check: None
) -> None:
    with override_settings(CELERY_BROKER_URL=running_redis.url_for(1)):
        up = client.get("/readyz")
        assert up.status_code == 200, up.json()
        assert up.json()["checks"]["broker"] == "ok"

        running_redis.stop()
        down = client.get("/readyz")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["broker"] == "failing", body
        assert body["checks"]["database"] == "ok"  # only the broker is blamed

        running_redis.start()
        again = client.get("/readyz")
        assert again.status_code == 200, again.json()
        assert again.json()["checks"]["broker"] == "ok"


def test_readyz_is_503_when_an_amqp_broker_refuses_connections(
    client: Client, broker_check: None
) -> None:
    with override_settings(CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "failing"


def test_no_broker_check_without_a_broker(client: Client) -> None:
    assert "broker" not in probes.registered()  # the suite runs without CELERY_BROKER_URL
    assert "broker" not in client.get("/readyz").json()["checks"]
