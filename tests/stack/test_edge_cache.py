"""The edge micro-cache (deploy/nginx/conduit.conf.template, ADR 0028) in the real nginx, made by
tools/stack from the template, in front of two real app servers: what it keeps, what it never
keeps or serves to anyone else, how stale an anonymous read can be, and that junk parameters
cannot fill it."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.services import ServerProcess, make_redis
from tests.stack.conftest import (
    Balancer,
    Browser,
    Response,
    fetch,
    make_app_server,
    stack,
    start_balancer,
    test_database_url,
)
from tests.stack.test_load_balancing import csrf_token, register

pytestmark = [pytest.mark.services, pytest.mark.pg, pytest.mark.django_db(transaction=True)]

# Served from an entry (fresh, or stale while it is refreshed): the key was found.
FOUND = {"HIT", "STALE", "UPDATING"}
# The documented bound (ADR 0028): the app's own micro-cache in another process (1 s), the
# edge's max-age (1 s) and its stale-while-revalidate (1 s).
STALENESS_BOUND = 3.0


@pytest.fixture(scope="module")
def shared_cache_apps(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServerProcess]]:
    """Two app servers sharing a Redis cache, as make stack's do: a write in one is seen by the
    other at once but for its 1 s micro-cache (with a cache per process, a list page could stay
    stale in the other for its whole TTL: ADR 0016 runs one process without CACHE_URL)."""
    if connection.vendor != "postgresql":
        pytest.skip("the stack tests run on PostgreSQL")
    with django_db_blocker.unblock():
        database_url = test_database_url()
    workdir = tmp_path_factory.mktemp("edge-apps")
    redis = make_redis(workdir)
    servers = [make_app_server(f"edge-app-{i}", workdir, database_url) for i in (1, 2)]
    try:
        redis.start()
        for server in servers:
            assert server.env is not None
            server.env["CACHE_URL"] = redis.url
            server.env["DJANGO_SETTINGS_MODULE"] = "tests.stack.edge_settings"
            server.start(timeout=60)
        yield servers
    finally:
        for server in servers:
            server.stop()
        redis.stop()


@pytest.fixture(scope="module")
def edge(shared_cache_apps: list[ServerProcess]) -> Iterator[Balancer]:
    # Under a checkout in /root (0700), as `make fresh-check` clones: the stack's nginx.conf
    # runs the workers as the user who started it, not nobody, so they reach the cache's files.
    workdir = Path(tempfile.mkdtemp(prefix="conduit-edge-"))
    workdir.chmod(0o700)
    lb = start_balancer("nginx", workdir, [s.port for s in shared_cache_apps], edge_cache=True)
    try:
        yield lb
    finally:
        lb.process.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def get(edge: Balancer, path: str, headers: dict[str, str] | None = None) -> Response:
    response = fetch(edge.port, "GET", path, headers=headers)
    assert response.status == 200, (path, response.status, response.body[:300])
    return response


def status(response: Response) -> str:
    return response.headers.get("x-cache-status", "")


def stored_until_hit(edge: Balancer, path: str) -> Response:
    """``path`` read until the edge answers it from an entry (a second boundary may expire the
    first one at once)."""
    for _ in range(5):
        response = get(edge, path)
        if status(response) == "HIT":
            return response
    raise AssertionError(f"{path} never came from the edge cache: {status(response)}")


def entries(edge: Balancer) -> int:
    return sum(1 for f in (edge.process.workdir / "edge-cache").rglob("*") if f.is_file())


def post_json(edge: Balancer, path: str, body: dict, token: str, method: str = "POST") -> Response:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    return fetch(edge.port, method, path, body=json.dumps(body).encode(), headers=headers)


@pytest.fixture
def site(edge: Balancer) -> dict[str, str]:
    """An author with an article, and a reader who follows them and favorites it. Names new in
    each test: the app servers outlive the rows each test leaves (their caches too)."""
    suffix = secrets.token_hex(3)
    name, reader_name = f"edge-author-{suffix}", f"edge-reader-{suffix}"
    _, author = register(edge.port, name)
    email, reader = register(edge.port, reader_name)
    article = {"article": {"title": f"Edge cached {suffix}", "description": "d", "body": "b",
                           "tagList": [f"edge-{suffix}"]}}  # fmt: skip
    created = post_json(edge, "/api/articles", article, author)
    assert created.status == 201, created.body
    slug = created.json()["article"]["slug"]
    assert post_json(edge, f"/api/profiles/{name}/follow", {}, reader).status == 200
    assert post_json(edge, f"/api/articles/{slug}/favorite", {}, reader).status == 200
    comment = {"comment": {"body": "first"}}
    assert post_json(edge, f"/api/articles/{slug}/comments", comment, author).status == 201
    return {
        "slug": slug,
        "author": author,
        "reader": reader,
        "reader_email": email,
        "name": name,
        "reader_name": reader_name,
        "tag": f"edge-{suffix}",
    }


def test_anonymous_reads_are_kept_and_the_status_is_shown(edge: Balancer, site) -> None:
    slug, name, tag = site["slug"], site["name"], site["tag"]
    article = f"/api/articles/{slug}"
    for path in ["/api/articles", f"/api/articles?tag={tag}&limit=5", article,
                 f"{article}/comments", f"/api/profiles/{name}", "/api/tags",
                 "/", f"/?tag={tag}", f"/article/{slug}", f"/profile/{name}",
                 f"/profile/{name}/favorites"]:  # fmt: skip
        first = get(edge, path)
        assert status(first) in {"MISS", *FOUND}, path
        assert stored_until_hit(edge, path).body == first.body, path
    log = (edge.process.workdir / "access.log").read_text()
    assert '"cache":"HIT"' in log
    # Each answer names its own request, a cached one too.
    ids = {stored_until_hit(edge, "/api/tags").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    mine = get(edge, "/api/tags", {"X-Request-ID": "edge-test-request-1"})
    assert mine.headers["x-request-id"] == "edge-test-request-1"
    insane = get(edge, "/api/tags", {"X-Request-ID": "not an id;"}).headers["x-request-id"]
    assert re.fullmatch("[0-9a-f]{32}", insane)  # nginx's own, as the app would have made one


def test_a_signed_in_answer_is_never_stored_nor_served_to_anyone_else(edge: Balancer, site) -> None:
    slug = site["slug"]
    token = {"Authorization": f"Token {site['reader']}"}
    browser = Browser()
    login = browser.send(edge.port, "GET", "/login")
    signed_in = browser.send(edge.port, "POST", "/login", {
        "csrfmiddlewaretoken": csrf_token(login.body), "email": site["reader_email"],
        "password": "stateless-pass-1"})  # fmt: skip
    assert signed_in.status == 302
    assert "sessionid" in browser.cookies
    session = {"Cookie": f"sessionid={browser.cookies['sessionid']}"}

    # Signed in first, with a token and with a session, while the edge holds nothing for these.
    name = site["name"]
    for path, personal in [(f"/api/articles/{slug}", b'"favorited":true'),
                           (f"/api/profiles/{name}", b'"following":true'),
                           (f"/api/articles?author={name}", b'"favorited":true')]:  # fmt: skip
        for who in (token, session):
            answer = get(edge, path, who)
            assert status(answer) == "BYPASS", (path, who)
            assert answer.headers["cache-control"] == "private, no-store"
            if who is token:  # the API reads the token only; a session is anonymous to it
                assert personal in answer.body, path
        anonymous = get(edge, path)
        assert status(anonymous) == "MISS", path  # nothing was stored for the signed-in reader
        assert personal not in anonymous.body, path
        # And once the entry exists, a signed-in reader does not get it either.
        stored_until_hit(edge, path)
        assert status(get(edge, path, token)) == "BYPASS"
        if b"favorited" in personal:
            assert personal in get(edge, path, token).body
    # A page for the signed-in reader (their name in the menu) never reaches anyone else.
    page = browser.send(edge.port, "GET", "/")
    reader_name = site["reader_name"].encode()
    assert status(page) == "BYPASS"
    assert reader_name in page.body
    assert reader_name not in get(edge, "/").body


def test_a_write_is_seen_by_anonymous_readers_within_the_bound(edge: Balancer, site) -> None:
    path = "/api/articles?limit=50"
    stored_until_hit(edge, path)
    article = {"article": {"title": "Fresh news", "description": "d", "body": "b"}}
    assert post_json(edge, "/api/articles", article, site["author"]).status == 201
    written = time.monotonic()
    while b"Fresh news" not in get(edge, path).body:
        assert time.monotonic() - written < STALENESS_BOUND + 0.5
        time.sleep(0.05)


def test_the_writer_reads_its_write_at_once_past_the_edge(edge: Balancer, site) -> None:
    # RealWorld's suites (Hurl, newman: both keep cookies) read anonymously right after a write.
    path = f"/api/articles/{site['slug']}/comments"
    stored_until_hit(edge, path)
    written = post_json(edge, path, {"comment": {"body": "read me now"}}, site["author"])
    assert written.status == 201
    cookie = written.headers["set-cookie"]
    assert cookie.startswith("conduit_fresh=1;"), cookie
    assert "Max-Age=3" in cookie, cookie
    response = get(edge, path, headers={"Cookie": "conduit_fresh=1"})
    assert status(response) == "BYPASS"
    assert b"read me now" in response.body
    assert response.headers["cache-control"] == "private, no-store"


def test_junk_parameters_share_the_entry_and_make_none(edge: Balancer, site) -> None:
    slug, tag = site["slug"], site["tag"]
    for plain, junk in [
        (f"/api/articles?limit=5&tag={tag}", f"/api/articles?tag={tag}&utm_source=x&limit=05&z=1"),
        ("/api/articles", "/api/articles?offset=&tag=&junk=1&format=json"),
        (f"/api/articles/{slug}", f"/api/articles/{slug}?limit=3&a=b"),
        (f"/?tag={tag}&page=1", f"/?page=01&fbclid=x&tag={tag}"),
        (f"/article/{slug}", f"/article/{slug}?utm_campaign=y"),
    ]:
        reference = stored_until_hit(edge, plain)
        time.sleep(0.3)  # background writes land
        before = entries(edge)
        for n in range(30):
            response = get(edge, f"{junk}&n{n}={n}" if "?" in junk else f"{junk}?n{n}={n}")
            assert status(response) in FOUND, (junk, status(response))
            assert response.body == reference.body
        time.sleep(0.3)
        assert entries(edge) == before, junk


@pytest.mark.parametrize(
    "query",
    [
        "tag=edge&tag=other",
        "TAG=other",
        "%74ag=other",
        "tag=edge&tag",
        "limit=5&LIMIT=6",
        "page=1&page=2",
    ],
)
def test_a_query_string_nginx_and_django_could_read_apart_is_not_cached(
    edge: Balancer, site, query: str
) -> None:
    stored_until_hit(edge, "/api/articles?tag=edge")  # the key a wrong reading would share
    response = fetch(edge.port, "GET", f"/api/articles?{query}")
    assert status(response) == "BYPASS", query


@pytest.mark.parametrize(
    "path", ["/healthz", "/login", "/api/user", "/api/articles/feed", "/settings", "/editor"]
)
def test_paths_never_marked_public_skip_the_cache(edge: Balancer, site, path: str) -> None:
    # Looked up, they would queue behind proxy_cache_lock while nothing is ever stored. (The
    # sign-in location has no cache at all: no status.)
    assert status(fetch(edge.port, "GET", path)) in ("BYPASS", ""), path


def test_methods_other_than_get_are_never_cached(edge: Balancer, site) -> None:
    slug = site["slug"]
    path = f"/api/articles/{slug}"
    stored_until_hit(edge, path)
    assert status(fetch(edge.port, "HEAD", path)) == "BYPASS"
    # nginx does not even look a write up (proxy_cache_methods is GET and HEAD): no status.
    for method in ("POST", "PUT", "DELETE"):
        response = fetch(edge.port, method, path, body=b"{}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
        assert status(response) == "", method
        assert response.status in (401, 403, 405), method
    changed = post_json(edge, path, {"article": {"body": "Changed"}}, site["author"], "PUT")
    assert changed.status == 200
    assert status(changed) == ""
    assert changed.headers["cache-control"] == "private, no-store"


def test_the_edge_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("STACK_EDGE_CACHE", "off")
    conf = (stack.nginx_conf(tmp_path, 1, [2], tmp_path).parent / "conduit.conf").read_text()
    assert "proxy_cache off;" in conf
    monkeypatch.setenv("STACK_EDGE_CACHE", "on")
    conf = (stack.nginx_conf(tmp_path, 1, [2], tmp_path).parent / "conduit.conf").read_text()
    assert "proxy_cache conduit_edge;" in conf
    assert f"proxy_cache_path {tmp_path / 'edge-cache'} " in conf
    monkeypatch.setenv("STACK_EDGE_CACHE", "maybe")
    with pytest.raises(stack.core.StackError):
        stack.nginx_conf(tmp_path, 1, [2], tmp_path)
