"""CORS for the API: a front end on another origin may call it, others get no CORS headers.

Production allows only ``CORS_ALLOWED_ORIGINS``; ``CORS_ALLOW_LOOPBACK`` (on while debugging and
under ``make run`` and ``make stack``) also allows any page served from this machine, on any
port. Most tests here run as ``make run`` does. django-cors-headers reads its settings per
request, so the ``settings`` fixture works.
"""

from pathlib import Path

import pytest

import config.settings as production_settings
from tests.support import production_settings_with

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def as_make_run(settings):
    settings.CORS_ALLOWED_ORIGIN_REGEXES = [settings.LOOPBACK_ORIGIN]


def preflight(client, url="/api/articles", origin="http://localhost:4200", method="POST"):
    return client.options(
        url,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def allowed_headers(response) -> set[str]:
    return {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:4200",
        "http://localhost:3000",
        "http://localhost",
        "https://localhost:8443",
        "http://127.0.0.1:5173",
        "http://127.0.0.1",
    ],
)
def test_preflight_from_a_local_front_end_is_allowed(api, origin):
    response = preflight(api, origin=origin)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == origin
    assert {"authorization", "content-type"} <= allowed_headers(response)
    methods = {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PUT", "DELETE"} <= methods
    assert "origin" in response["Vary"].lower()


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/api/users", "POST"),
        ("/api/users/login", "POST"),
        ("/api/user", "PUT"),
        ("/api/articles/some-slug", "DELETE"),
        ("/api/articles/some-slug/comments/1", "DELETE"),
        ("/api/profiles/jake/follow", "POST"),
    ],
)
def test_preflight_works_on_every_api_route_without_a_token(api, url, method):
    response = preflight(api, url=url, method=method)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "http://localhost:4200"
    assert {"authorization", "content-type"} <= allowed_headers(response)


def test_actual_requests_from_an_allowed_origin_carry_the_header(api):
    response = api.get("/api/tags", HTTP_ORIGIN="http://localhost:4200")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "http://localhost:4200"
    # Errors too, or the browser hides them from the front end.
    response = api.get("/api/user", HTTP_ORIGIN="http://localhost:4200")
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == "http://localhost:4200"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost.evil.example",
        "http://evil.example/http://localhost:4200",
        "http://127.0.0.1.evil.example:8000",
        "null",
    ],
)
def test_other_origins_get_no_cors_headers(api, origin):
    response = preflight(api, origin=origin)
    assert "Access-Control-Allow-Origin" not in response
    response = api.get("/api/tags", HTTP_ORIGIN=origin)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_configured_origins_are_allowed_and_others_are_not(api, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://conduit.example.com"]
    settings.CORS_ALLOWED_ORIGIN_REGEXES = []
    response = preflight(api, origin="https://conduit.example.com")
    assert response["Access-Control-Allow-Origin"] == "https://conduit.example.com"
    assert {"authorization", "content-type"} <= allowed_headers(response)
    for origin in ("http://localhost:4200", "https://evil.example", "http://conduit.example.com"):
        assert "Access-Control-Allow-Origin" not in preflight(api, origin=origin)


def test_cors_is_for_the_api_only(api):
    response = api.get("/", HTTP_ORIGIN="http://localhost:4200")
    assert "Access-Control-Allow-Origin" not in response


def settings_with(monkeypatch, **env: str) -> dict:
    unset = ("DEBUG", "CORS_ALLOWED_ORIGINS", "CORS_ALLOW_LOOPBACK")
    return production_settings_with(monkeypatch, unset=unset, **env)


@pytest.mark.parametrize(
    ("env", "regexes", "origins"),
    [
        ({"DEBUG": "false"}, False, []),  # production with nothing set: no cross-origin access
        ({"DEBUG": "true"}, True, []),
        ({"DEBUG": "false", "CORS_ALLOW_LOOPBACK": "true"}, True, []),  # make run, make stack
        ({"DEBUG": "false", "CORS_ALLOWED_ORIGINS": "https://app.example.com"}, False,
         ["https://app.example.com"]),
    ],
)  # fmt: skip
def test_who_may_call_the_api_from_a_browser_by_default(monkeypatch, env, regexes, origins):
    namespace = settings_with(monkeypatch, **env)
    assert namespace["CORS_ALLOWED_ORIGINS"] == origins
    assert namespace["CORS_ALLOWED_ORIGIN_REGEXES"] == (
        [namespace["LOOPBACK_ORIGIN"]] if regexes else []
    )


def test_make_run_and_make_stack_allow_front_ends_on_this_machine():
    root = Path(production_settings.__file__).resolve().parent.parent
    assert "CORS_ALLOW_LOOPBACK=${CORS_ALLOW_LOOPBACK:-true}" in (root / "tools/run.sh").read_text()
    assert '"CORS_ALLOW_LOOPBACK"' in (root / "tools/stack/apps.py").read_text()
