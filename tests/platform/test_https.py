"""HTTPS with DEBUG off: plain HTTP is redirected (probes and metrics excepted), HTTPS answers
carry HSTS, and X-Forwarded-Proto counts only where the deployment says a proxy sets it."""

import re
from typing import Any

import pytest

import config.settings as production_settings
from tests.support import production_settings_with

VARIABLES = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "TRUST_X_FORWARDED_PROTO",
)


def _settings(monkeypatch, **env: str) -> dict[str, Any]:
    return production_settings_with(monkeypatch, unset=VARIABLES, **env)


def test_production_defaults_redirect_and_send_hsts_without_preload(monkeypatch):
    settings = _settings(monkeypatch, DEBUG="false")
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_HSTS_SECONDS"] == 31_536_000
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert settings["SECURE_HSTS_PRELOAD"] is False
    assert "SECURE_PROXY_SSL_HEADER" not in settings  # Django's default: no header is trusted


def test_debug_defaults_serve_plain_http(monkeypatch):
    settings = _settings(monkeypatch, DEBUG="true")
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 0
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False


def test_explicit_values_win(monkeypatch):
    settings = _settings(
        monkeypatch,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="true",
        TRUST_X_FORWARDED_PROTO="true",
    )
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 600
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert settings["SECURE_HSTS_PRELOAD"] is True
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = False
    settings.SECURE_PROXY_SSL_HEADER = None
    return settings


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(client, https_only):
    response = client.get("/api/tags?x=1")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/tags?x=1"
    assert "Strict-Transport-Security" not in response  # HSTS over plain HTTP means nothing


@pytest.mark.django_db
def test_https_answers_carry_hsts(client, https_only):
    response = client.get("/api/tags", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected(client, https_only, path):
    assert client.get(path).status_code == 200


def test_the_redirect_exemption_covers_exactly_probes_and_metrics():
    exempt = [re.compile(pattern) for pattern in production_settings.SECURE_REDIRECT_EXEMPT]
    for path in ("healthz", "readyz", "metrics"):
        assert any(pattern.search(path) for pattern in exempt), path
    for path in ("healthz/x", "api/healthz", "metricsx", "login", "api/tags"):
        assert not any(pattern.search(path) for pattern in exempt), path


@pytest.mark.django_db
def test_a_forwarded_proto_is_ignored_unless_trusted(client, https_only):
    # Any client can send the header: untrusted, it must not skip the redirect.
    response = client.get("/api/tags", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 301
    https_only.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/api/tags", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response
