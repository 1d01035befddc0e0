"""Static files ready for a CDN (ADR 0029), through whitenoise in this process: collectstatic makes
hashed names with a .gz and a .br beside each; whitenoise serves the one the client accepts, with
``Vary: Accept-Encoding`` and, for a hashed name, a year's ``immutable``; the pages name the hashed
files on ``STATIC_URL``, which may be another host. The same through nginx and a real app server:
tests/stack/test_static_cdn.py."""

import gzip
import json
import re
from pathlib import Path

import brotli
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from conduit.platform.http.assets import (
    IMMUTABLE,
    StaticFilesMiddleware,
    asset_origins,
    host_for,
    url_origin,
)

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
CSS, JS = "conduit/css/conduit.css", "conduit/js/conduit.js"
CDN = "https://cdn.example.com/static/"


def production_static(static_root: Path, **more: object) -> override_settings:
    """The production settings' static files (manifest storage, no finders) on ``static_root``."""
    from django.conf import settings

    return override_settings(
        STATIC_ROOT=static_root,
        STORAGES={**settings.STORAGES, "staticfiles": MANIFEST},
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
        DEBUG=False,
        **more,
    )


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """collectstatic of the site's own files (the API docs' are many and slow to compress)."""
    root = tmp_path_factory.mktemp("static")
    with production_static(
        root, STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"]
    ):
        call_command("collectstatic", "--noinput", verbosity=0)
    return root


def hashed(root: Path, name: str) -> str:
    return json.loads((root / "staticfiles.json").read_text())["paths"][name]


@pytest.mark.parametrize("name", [CSS, JS, "conduit/favicon.svg"])
def test_collectstatic_hashes_and_compresses_with_gzip_and_brotli(collected, name):
    original = (ROOT / "static" / name).read_bytes()
    target = hashed(collected, name)
    stem, ext = name.rsplit(".", 1)
    assert re.fullmatch(rf"{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext}", target), target
    assert (collected / target).read_bytes() == original
    assert gzip.decompress((collected / f"{target}.gz").read_bytes()) == original
    assert brotli.decompress((collected / f"{target}.br").read_bytes()) == original


def serve(root: Path, path: str, accept: str | None, **more: object) -> HttpResponse:
    with production_static(root, **more):
        middleware = StaticFilesMiddleware(lambda request: HttpResponse(status=404))
        headers = {"Accept-Encoding": accept} if accept is not None else {}
        return middleware(RequestFactory().get(path, headers=headers))


def body(response: HttpResponse) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        ("gzip, deflate, br", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        (None, None, lambda data: data),
    ],
    ids=["br", "gzip", "identity"],
)
@pytest.mark.parametrize("static_url", ["/static/", CDN], ids=["site", "cdn"])
def test_whitenoise_serves_a_hashed_name_compressed_and_immutable_for_a_year(
    collected, accept, encoding, decode, static_url
):
    path = f"/static/{hashed(collected, CSS)}"
    response = serve(collected, path, accept, STATIC_URL=static_url)
    assert response.status_code == 200
    assert response["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert response["Vary"] == "Accept-Encoding"
    assert response.get("Content-Encoding") == encoding
    assert decode(body(response)) == (ROOT / "static" / CSS).read_bytes()


def test_whitenoise_gives_an_unhashed_name_a_minute(collected):
    response = serve(collected, f"/static/{CSS}", "br")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=60, public"
    assert response["Content-Encoding"] == "br"


@pytest.mark.django_db
@pytest.mark.parametrize("static_url", ["/static/", CDN], ids=["site", "cdn"])
def test_the_pages_name_the_hashed_files_on_static_url(collected, client, static_url):
    with production_static(collected, STATIC_URL=static_url):
        html = client.get("/login").content.decode()
    for name in (CSS, JS, "conduit/favicon.svg"):
        assert f'"{static_url}{hashed(collected, name)}"' in html, name
        assert f'"{static_url}{name}"' not in html


def test_origins_of_static_and_media_urls():
    assert url_origin("/static/") is None
    assert url_origin("https://cdn.example.com/static/") == "https://cdn.example.com"
    assert url_origin("http://127.0.0.1:9000/m/") == "http://127.0.0.1:9000"
    assert asset_origins("/static/", "/media/") == []
    assert asset_origins(CDN, "https://cdn.example.com/media/") == ["https://cdn.example.com"]
    for wrong in ("ftp://cdn.example.com/static/", "https:///static/", "cdn.example.com:80/s/"):
        with pytest.raises(ImproperlyConfigured):
            url_origin(wrong)


@pytest.mark.parametrize(
    ("path", "static_url", "media_url", "host"),
    [
        ("/static/a.svg", "/static/", "/media/", "https://site.example"),
        ("/static/a.svg", CDN, "/media/", "https://cdn.example.com"),
        ("/media/avatars/x.jpg", CDN, "/media/", "https://site.example"),
        ("/media/avatars/x.jpg", "/static/", "https://m.example/media/", "https://m.example"),
        ("/elsewhere/x.png", CDN, "https://m.example/media/", "https://site.example"),
    ],
)
def test_a_site_path_is_on_the_host_that_serves_it(path, static_url, media_url, host):
    urls = {"static_url": static_url, "media_url": media_url}
    assert host_for(path, site_url="https://site.example", **urls) == host
