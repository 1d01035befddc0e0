"""/metrics is not public: the stack's balancers (nginx and HAProxy, made from deploy/) answer 404
for it however the path is spelt, while each app server still serves it on its own port, where
Prometheus scrapes it."""

from __future__ import annotations

import pytest

from tests.services import ServerProcess
from tests.stack.conftest import Balancer, fetch

pytestmark = [pytest.mark.services, pytest.mark.pg, pytest.mark.django_db(transaction=True)]

SPELLINGS = [
    "/metrics",
    "/metrics?format=text",
    "/%6detrics",  # percent-encoded: the app server decodes it back to /metrics
    "/%6D%65trics",
    "//metrics",
    "/static/../metrics",
    "/metrics/",
]


@pytest.mark.parametrize("path", SPELLINGS)
def test_the_public_port_never_serves_metrics(
    balancer: Balancer, running_apps: list[ServerProcess], path: str
) -> None:
    response = fetch(balancer.port, "GET", path)
    assert response.status in (403, 404), (balancer.kind, path, response.status)
    assert b"conduit_http_request_duration_seconds" not in response.body


def test_each_app_server_serves_metrics_on_its_own_port(
    running_apps: list[ServerProcess],
) -> None:
    for server in running_apps:
        response = fetch(server.port, "GET", "/metrics")
        assert response.status == 200
        assert b"conduit_http_request_duration_seconds" in response.body
    # ...and decodes an encoded path to it, which is why the balancers must too
    assert fetch(running_apps[0].port, "GET", "/%6detrics").status == 200
