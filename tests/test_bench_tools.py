"""``make bench``'s bare reference view is routed only when ``BENCH_ENDPOINTS`` is on."""

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve

import config.urls
from conduit.platform import bench as bench_view


@pytest.fixture
def bench_endpoints_on(tmp_path: Path) -> Iterator[Path]:
    """The URL conf as the bench's server loads it; put back as it was afterwards."""
    with override_settings(BENCH_ENDPOINTS=True, VAR_DIR=tmp_path):
        importlib.reload(config.urls)
        clear_url_caches()
        try:
            yield tmp_path
        finally:
            bench_view._bodies.clear()
    importlib.reload(config.urls)
    clear_url_caches()


# --- the bare reference view ----------------------------------------------------------------


def test_bare_view_is_not_routed_by_default(client):
    with pytest.raises(Resolver404):
        resolve("/bench/bare")
    assert client.get("/bench/bare").status_code == 404


def test_bare_view_is_routed_with_bench_endpoints_and_serves_the_captured_body(
    bench_endpoints_on, client
):
    assert resolve("/bench/bare").func is bench_view.bare
    body = b'{"articles": [], "articlesCount": 0, "padding": "' + b"x" * 7000 + b'"}'
    (bench_endpoints_on / "bench").mkdir()
    (bench_endpoints_on / "bench" / "bare.json").write_bytes(body)

    response = client.get("/bench/bare")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == body


def test_bare_view_says_so_when_nothing_was_captured(bench_endpoints_on, client):
    response = client.get("/bench/bare")
    assert response.status_code == 503
    assert "make bench" in response.json()["errors"]["bench"][0]


def test_default_url_conf_is_back_after_the_bench_fixture(client):
    with pytest.raises(Resolver404):
        resolve("/bench/bare")
