"""Cache down = slower, never broken (issue 8, part 5), against a real Redis that the tests stop,
pause (SIGSTOP) and restart, a closed port, a server that accepts and never answers, and a real
Memcached that is stopped.

"Correct" means: the same status and body as with the cache switched off (``CACHE_ARTICLES``
off, no micro-cache), for every read endpoint and page. "Bounded" means each request finishes
within ``BOUND`` seconds although the cache times out: SafeCache pays one socket timeout, then
skips the backend for ``CACHE_RETRY_SECONDS``. (A generous bound: it catches a request that
hangs on a cache without a timeout, it is not a speed measurement.)
"""

import re
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from prometheus_client import REGISTRY
from rest_framework.test import APIClient
from structlog.testing import capture_logs

from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache
from conduit.users.models import User
from tests.cache.conftest import SOCKET_TIMEOUT, use_cache
from tests.factories import UserFactory, favorite, follow, make_article, make_comment
from tests.services import RedisServer, ServerProcess, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.services, pytest.mark.timeout(90)]

BOUND = 4 * SOCKET_TIMEOUT + 1.0  # seconds, per request


@dataclass
class Site:
    alice: User
    bob: User
    slug: str
    api: dict[str, APIClient]  # "anonymous" and "bob"
    pages: dict[str, Client]

    def reads(self) -> list[tuple[str, str]]:
        """(who, path) for every read endpoint and page."""
        api = [
            "/api/articles",
            "/api/articles?tag=common",
            "/api/articles?author=alice",
            "/api/articles?favorited=bob",
            f"/api/articles/{self.slug}",
            f"/api/articles/{self.slug}/comments",
            "/api/tags",
            "/api/profiles/alice",
        ]
        pages = [
            "/",
            "/?tag=common",
            f"/article/{self.slug}",
            "/profile/alice",
            "/profile/bob/favorites",
        ]
        return (
            [(who, path) for path in api for who in ("anonymous", "bob")]
            + [("bob", "/api/articles/feed"), ("bob", "/api/user")]
            + [(who, f"page:{path}") for path in pages for who in ("anonymous", "bob")]
        )


@pytest.fixture
def site(client_for: Callable[[User], APIClient]) -> Site:
    alice = UserFactory(username="alice", bio="Alice writes.")
    bob = UserFactory(username="bob")
    article = make_article(alice, title="Hello", tags=["common"])
    make_article(alice, title="Again", tags=["common", "more"])
    favorite(bob, article)
    follow(bob, alice)
    make_comment(bob, article, body="Nice")
    bob_pages = Client()
    bob_pages.force_login(bob)
    return Site(
        alice=alice,
        bob=bob,
        slug=article.slug,
        api={"anonymous": APIClient(), "bob": client_for(bob)},
        pages={"anonymous": Client(), "bob": bob_pages},
    )


_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def fetch(site: Site, who: str, path: str) -> tuple[int, Any, float]:
    """(status, body, seconds) of one read; page bodies without their per-request CSRF token."""
    started = time.monotonic()
    if path.startswith("page:"):
        response = site.pages[who].get(path.removeprefix("page:"))
        body: Any = _CSRF.sub(b"", response.content)
    else:
        response = site.api[who].get(path)
        body = response.json()
    return response.status_code, body, time.monotonic() - started


def truth(site: Site, settings: Any) -> dict[tuple[str, str], tuple[int, Any]]:
    """Every read with the cache switched off."""
    settings.CACHE_ARTICLES, settings.CACHE_ANONYMOUS_SECONDS = False, 0
    try:
        return {(who, path): fetch(site, who, path)[:2] for who, path in site.reads()}
    finally:
        settings.CACHE_ARTICLES, settings.CACHE_ANONYMOUS_SECONDS = True, 1.0


def assert_all_correct_and_bounded(site: Site, expected: dict[Any, Any]) -> float:
    """Every read answers as with the cache off, each within ``BOUND``; the slowest time."""
    slowest = 0.0
    for who, path in site.reads():
        status, body, seconds = fetch(site, who, path)
        assert (status, body) == expected[(who, path)], (who, path)
        assert seconds < BOUND, (who, path, seconds)
        slowest = max(slowest, seconds)
    return slowest


def errors_counted() -> float:
    return REGISTRY.get_sample_value("conduit_cache_errors_total", {"cache": "default"}) or 0.0


@pytest.fixture
def redis_cache(cache_redis: RedisServer, settings: Any) -> Iterator[RedisServer]:
    """The cache on the tests' own Redis; whatever a test did to it, it runs again after."""
    cache_redis.start()
    use_cache(settings, cache_redis.url_for(2))
    yield cache_redis
    if cache_redis.process is not None and cache_redis.running:
        cache_redis.process.send_signal(signal.SIGCONT)
    cache_redis.start()
    use_cache(settings, cache_redis.url_for(2))  # and empty it


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port whose server accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield int(server.getsockname()[1])


def warm_up(site: Site) -> None:
    for who, path in site.reads():
        fetch(site, who, path)
    micro_cache.clear()


# --- Redis stopped, paused, unreachable, not answering -----------------------------------------


def test_redis_stopped_every_read_still_correct(site, redis_cache, settings):
    expected = truth(site, settings)
    warm_up(site)
    assert_all_correct_and_bounded(site, expected)  # warm: from the cache
    before = errors_counted()
    redis_cache.stop()
    assert_all_correct_and_bounded(site, expected)
    assert errors_counted() > before
    redis_cache.start()
    time.sleep(settings.CACHE_RETRY_SECONDS)
    assert_all_correct_and_bounded(site, expected)


@pytest.mark.parametrize("fault", ["closed_port", "black_hole", "sigstop"])
def test_unreachable_or_silent_cache_is_bounded_by_the_socket_timeout(
    fault, site, redis_cache, black_hole, settings
):
    expected = truth(site, settings)
    warm_up(site)
    if fault == "sigstop":
        assert redis_cache.process is not None
        redis_cache.process.send_signal(signal.SIGSTOP)
    else:
        port = free_port() if fault == "closed_port" else black_hole
        use_cache(settings, f"redis://127.0.0.1:{port}/0", clear=False)
    # Every retry interval one request pays one timeout; the rest skip the cache.
    settings.CACHE_RETRY_SECONDS = 0.2
    before = errors_counted()
    for _ in range(2):
        slowest = assert_all_correct_and_bounded(site, expected)
        time.sleep(0.25)
    assert errors_counted() >= before + 2
    if fault != "closed_port":  # a refused connection is immediate; the others wait it out
        assert slowest >= SOCKET_TIMEOUT * 0.9


def test_errors_are_logged_once_per_interval_and_all_counted(site, redis_cache, settings):
    settings.CACHE_RETRY_SECONDS = 0.05  # try the backend again (and fail) almost every call
    settings.CACHE_ERROR_LOG_SECONDS = 0.5
    redis_cache.stop()
    before = errors_counted()
    with capture_logs() as logs:
        started = time.monotonic()
        while time.monotonic() - started < 1.2:
            assert site.api["bob"].get("/api/articles").status_code == 200
            time.sleep(0.02)
    failures = errors_counted() - before
    lines = [line for line in logs if line["event"] == "cache_error"]
    assert failures >= 10
    # One line per 0.5 s interval over 1.2 s: the first at once, then at most two more.
    assert 2 <= len(lines) <= 3, [line.get("suppressed_since_last") for line in lines]
    assert lines[0]["suppressed_since_last"] == 0
    assert sum(line["suppressed_since_last"] for line in lines) + len(lines) <= failures
    assert lines[-1]["suppressed_since_last"] > 0
    assert lines[0]["cache"] == "default"
    assert lines[0]["error"].startswith("ConnectionError")


def test_readiness_reports_the_cache_but_stays_ready(redis_cache, client):
    # A cache outage must not take every instance out of the load balancer's rotation.
    redis_cache.stop()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "failing"
    redis_cache.start()
    assert client.get("/readyz").json()["checks"]["cache"] == "ok"


# --- A lost invalidation: Redis comes back with old entries ---------------------------------------


@pytest.mark.parametrize("outage", ["stop", "sigstop"])
def test_writes_during_an_outage_never_leave_stale_reads(
    outage, site, redis_cache, settings, client_for
):
    bob = site.api["bob"]
    slug = site.slug
    carol = client_for(UserFactory(username="carol"))
    warm_up(site)
    assert bob.get(f"/api/articles/{slug}").json()["article"]["favoritesCount"] == 1
    settings.CACHE_RETRY_SECONDS = 0.2
    if outage == "stop":
        redis_cache.stop()  # its append-only file keeps every entry for the restart
    else:
        assert redis_cache.process is not None
        redis_cache.process.send_signal(signal.SIGSTOP)
    # Writes whose invalidations are lost: a favorite, a new title, a bio.
    assert carol.post(f"/api/articles/{slug}/favorite").status_code == 200
    response = site.api["bob"].put("/api/user", {"user": {"bio": "Bob now."}}, format="json")
    assert response.status_code == 200
    alice = client_for(site.alice)
    renamed = alice.put(f"/api/articles/{slug}", {"article": {"title": "Hi"}}, format="json")
    new_slug = renamed.json()["article"]["slug"]
    if outage == "stop":
        redis_cache.start()
    else:
        assert redis_cache.process is not None
        redis_cache.process.send_signal(signal.SIGCONT)
    time.sleep(0.25)  # the retry interval
    micro_cache.clear()
    with capture_logs() as logs:
        assert bob.get("/api/tags").status_code == 200  # the first call that reaches Redis
    assert [line["event"] for line in logs if line["event"].startswith("cache_epoch")] == [
        "cache_epoch_renewed"
    ]
    for client in (bob, site.api["anonymous"]):
        listed = {a["slug"]: a for a in client.get("/api/articles").json()["articles"]}
        assert slug not in listed
        assert listed[new_slug]["favoritesCount"] == 2
        assert listed[new_slug]["title"] == "Hi"
        assert client.get(f"/api/articles/{slug}").status_code == 404
        assert client.get(f"/api/articles/{new_slug}").json()["article"]["favoritesCount"] == 2
        favorites = client.get("/api/articles?favorited=carol").json()["articles"]
        assert [a["slug"] for a in favorites] == [new_slug]
    assert cache.healthy


# --- Memcached stopped ---------------------------------------------------------------------------


def test_memcached_stopped_every_read_still_correct(site, settings, tmp_path):
    memcached = ServerProcess(
        name="memcached",
        argv=[
            "memcached",
            "-l",
            "127.0.0.1",
            "-p",
            str(port := free_port()),
            "-U",
            "0",
            "-m",
            "16",
            "-u",
            "nobody",
        ],
        port=port,
        workdir=tmp_path,
    )
    memcached.start()
    try:
        use_cache(settings, f"pymemcache://127.0.0.1:{port}")
        settings.CACHE_RETRY_SECONDS = 0.2
        expected = truth(site, settings)
        warm_up(site)
        assert_all_correct_and_bounded(site, expected)
        before = errors_counted()
        memcached.stop()
        assert_all_correct_and_bounded(site, expected)
        assert errors_counted() > before
        memcached.start()
        time.sleep(0.25)
        assert_all_correct_and_bounded(site, expected)
        assert cache.healthy
    finally:
        memcached.stop()
        use_cache(settings, "")
