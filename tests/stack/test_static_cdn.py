"""Static files and media ready for a CDN (ADR 0029), through a real app server running the
production settings with ``STATIC_URL`` and ``MEDIA_URL`` on other hosts, and through nginx with
the rendered deploy/nginx template (as ``make stack`` renders it, brotli module included) serving
the files collectstatic made:

- a hashed file comes as brotli or gzip when the client accepts it, with ``Vary:
  Accept-Encoding`` and ``public, max-age=31536000, immutable``, from nginx and from whitenoise;
- an unhashed copy is cached for a minute only;
- the pages name the hashed files on the CDN, and their Content-Security-Policy allows it;
- the API shows site-path avatars on the CDN's hosts.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import brotli
import pytest

from tests.factories import UserFactory, make_article
from tests.services import ServerProcess, free_port
from tests.stack.conftest import ROOT, fetch, make_app_server, stack, test_database_url

pytestmark = [pytest.mark.services, pytest.mark.pg, pytest.mark.django_db(transaction=True)]

STATIC_HOST = "https://cdn.example.com"
MEDIA_HOST = "https://media.example.com"
CSS = "conduit/css/conduit.css"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class Site:
    app: ServerProcess
    nginx: ServerProcess
    files: Path

    def hashed(self, name: str) -> str:
        manifest = json.loads((self.files / "static" / "staticfiles.json").read_text())
        return str(manifest["paths"][name])


@pytest.fixture(scope="module")
def site(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the stack tests run on PostgreSQL")
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        database_url = test_database_url()
    workdir = tmp_path_factory.mktemp("static-cdn")
    # nginx's workers (not root) read the files: outside pytest's private temporary directory.
    files = Path(tempfile.mkdtemp(prefix="conduit-static-cdn-"))
    files.chmod(0o755)
    app = make_app_server("app", workdir, database_url)
    assert app.env is not None
    app.env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",  # manifest storage, no finders
            "STATIC_ROOT": str(files / "static"),
            "STATIC_URL": f"{STATIC_HOST}/static/",
            "MEDIA_URL": f"{MEDIA_HOST}/media/",
            "MEDIA_ROOT": str(files / "media"),
            "SITE_URL": "https://conduit.example",
            "METRICS_ENABLED": "false",
        }
    )
    # prometheus_client turns multiprocess mode on when the variable exists at all, even empty.
    del app.env["PROMETHEUS_MULTIPROC_DIR"]
    # The site's own files: the API docs' are many and slow to compress, and no test here asks.
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    skip = ["-i", "rest_framework", "-i", "drf_spectacular_sidecar"]
    env = {**os.environ, **app.env}
    subprocess.run([*collect, *skip], cwd=ROOT, env=env, check=True)  # noqa: S603
    nginx_dir = workdir / "nginx"
    (nginx_dir / "tmp").mkdir(parents=True)
    port = free_port()
    conf = stack.nginx_conf(nginx_dir, port, [app.port], files)
    nginx = ServerProcess(
        name="nginx",
        argv=[
            *(stack.binary("nginx"), "-p", str(nginx_dir), "-c", str(conf)),
            *("-e", str(nginx_dir / "error.log"), "-g", "daemon off;"),
        ],
        port=port,
        workdir=nginx_dir,
        stop_signal=signal.SIGQUIT,
    )
    try:
        app.start(timeout=60)
        nginx.start()
        yield Site(app, nginx, files)
    finally:
        nginx.stop()
        app.stop()
        shutil.rmtree(files)


def test_the_stack_nginx_loads_debian_brotli_static_module(site: Site) -> None:
    assert stack.configs.BROTLI_STATIC_MODULE.exists(), "install libnginx-mod-http-brotli-static"
    assert "brotli_static on;" in (site.nginx.workdir / "nginx.conf").read_text()


@pytest.mark.parametrize("server", ["nginx", "whitenoise"])
@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", None)],
    ids=["br", "gzip", "identity"],
)
def test_a_hashed_file_is_compressed_and_immutable_for_a_year(
    site: Site, server: str, accept: str, encoding: str | None
) -> None:
    port = site.nginx.port if server == "nginx" else site.app.port
    path = f"/static/{site.hashed(CSS)}"
    response = fetch(port, "GET", path, headers={"Accept-Encoding": accept})
    assert response.status == 200
    assert response.headers["cache-control"] == IMMUTABLE
    assert "Accept-Encoding" in response.headers["vary"]
    assert response.headers.get("content-encoding") == encoding
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda data: data}
    assert decode[encoding](response.body) == (ROOT / "static" / CSS).read_bytes()


@pytest.mark.parametrize("server", ["nginx", "whitenoise"])
def test_an_unhashed_copy_is_cached_for_a_minute(site: Site, server: str) -> None:
    port = site.nginx.port if server == "nginx" else site.app.port
    response = fetch(port, "GET", f"/static/{CSS}", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["cache-control"] in ("public, max-age=60", "max-age=60, public")
    assert "immutable" not in response.headers["cache-control"]


def test_nginx_serves_the_files_itself(site: Site) -> None:
    log = site.app.log.read_text()
    for accept in ("br", "gzip", ""):
        for path in (f"/static/{site.hashed(CSS)}", f"/static/{CSS}"):
            response = fetch(site.nginx.port, "GET", path, headers={"Accept-Encoding": accept})
            assert response.status == 200
    assert site.app.log.read_text() == log  # the app server saw none of them


def test_the_pages_name_the_hashed_files_on_the_cdn_and_allow_it(site: Site) -> None:
    response = fetch(site.nginx.port, "GET", "/login")
    assert response.status == 200
    html = response.body.decode()
    assert f'href="{STATIC_HOST}/static/{site.hashed(CSS)}"' in html
    assert f'src="{STATIC_HOST}/static/{site.hashed("conduit/js/conduit.js")}"' in html
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    for directive in ("script-src", "style-src", "font-src"):
        assert policy[directive].split() == ["'self'", STATIC_HOST], directive
    assert policy["img-src"].split() == ["'self'", "https:", "data:", STATIC_HOST, MEDIA_HOST]


def test_the_api_shows_site_path_avatars_on_the_cdn(site: Site) -> None:
    demo = UserFactory(username="ada", image="/static/conduit/avatars/ada.svg")
    uploaded = UserFactory(username="grace", image="/media/avatars/0f/256.jpeg")
    for author in (demo, uploaded):
        make_article(author)
    response = fetch(site.nginx.port, "GET", "/api/articles")
    assert response.status == 200
    images = {a["author"]["username"]: a["author"]["image"] for a in response.json()["articles"]}
    assert images == {
        "ada": f"{STATIC_HOST}/static/conduit/avatars/ada.svg",
        "grace": f"{MEDIA_HOST}/media/avatars/0f/256.jpeg",
    }
