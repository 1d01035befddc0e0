"""X-Request-ID: kept when sane, generated otherwise; bound into every log line of the request;
one access line per request."""

import json
import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from conduit.platform.observability.request_id import request_id_from
from conduit.users.models import User

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"[0-9a-f]{32}")


def test_a_sane_request_id_is_echoed(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-7f3a.42_b")
    assert response["X-Request-ID"] == "edge-7f3a.42_b"


def test_a_missing_request_id_is_generated(client: Client) -> None:
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert GENERATED.fullmatch(first)
    assert first != second


@pytest.mark.parametrize(
    "bad",
    ["a" * 129, "has space", "semi;colon", 'quote"d', "ünïcode", "new\nline", "", "a/b"],
)
def test_an_insane_request_id_is_replaced(bad: str) -> None:
    assert GENERATED.fullmatch(request_id_from(bad))


def test_the_longest_sane_id_is_kept() -> None:
    assert request_id_from("a" * 128) == "a" * 128


def test_one_access_line_per_request_with_the_request_id(client: Client) -> None:
    with capture_logs(processors=[merge_contextvars]) as logs:
        client.get("/api/tags", HTTP_X_REQUEST_ID="req-1")
    access = [line for line in logs if line["event"] == "request"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-1"
    assert line["method"] == "GET"
    assert line["path"] == "/api/tags"
    assert line["route"] == "api-tags"
    assert line["status"] == 200
    assert line["user_id"] is None
    assert isinstance(line["duration_ms"], float)


def test_the_access_line_names_the_signed_in_api_user(
    user: User, client_for: Callable[[User], APIClient]
) -> None:
    with capture_logs(processors=[merge_contextvars]) as logs:
        client_for(user).get("/api/user")
    (line,) = [line for line in logs if line["event"] == "request"]
    assert line["user_id"] == user.pk


def test_the_access_line_names_the_signed_in_page_user(client: Client, user: User) -> None:
    client.force_login(user)
    with capture_logs(processors=[merge_contextvars]) as logs:
        client.get("/settings")
    (line,) = [line for line in logs if line["event"] == "request"]
    assert line["user_id"] == user.pk


@pytest.mark.skipif(settings.LOG_FORMAT != "json", reason="LOG_FORMAT is not json in this run")
def test_log_lines_are_json_on_stdout_and_carry_the_request_id(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    client.get("/no-such-page", HTTP_X_REQUEST_ID="req-404")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    access = [line for line in lines if line["event"] == "request"]
    assert len(access) == 1
    assert access[0]["request_id"] == "req-404"
    assert access[0]["status"] == 404
    assert access[0]["logger"] == "conduit.access"
    # Django's own "Not Found" warning went through structlog's ProcessorFormatter: JSON too,
    # with the request's id bound.
    django_lines = [line for line in lines if line["logger"] == "django.request"]
    assert django_lines
    assert django_lines[0]["request_id"] == "req-404"
    assert django_lines[0]["level"] == "warning"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/notifications/unsubscribe/SECRET-LINK", "/api/user/export/download/SECRET-LINK"]
)
def test_capability_links_are_redacted_in_the_logs(client, capsys, path):
    client.get(path)  # a bad link: 4xx, which Django logs with the path too
    out = capsys.readouterr().out
    assert "SECRET-LINK" not in out
    assert path.replace("SECRET-LINK", "[redacted]") in out
