import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conduit.api.authentication import token_for
from conduit.users.models import User
from tests.factories import UserFactory

pytest_plugins = ["tests.services", "tests.events", "tests.timelines.support"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``pg`` tests need PostgreSQL; on SQLite they are skipped with the reason, never silently.
    ``make test`` runs them on PostgreSQL and deselects them (``-m "not pg"``) on SQLite."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run `make test` or set DATABASE_URL")
    for item in items:
        if "pg" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _expected_database() -> None:
    """``make test`` says which database each pass must run on, so a misconfigured run fails
    instead of quietly testing SQLite twice."""
    expected = os.environ.get("CONDUIT_EXPECT_DB")
    if expected:
        assert connection.vendor == expected, f"tests ran on {connection.vendor}, not {expected}"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache and micro-cache, and no guesses of what the cache
    holds: no cached state leaks between tests."""
    from conduit.platform import ratelimit
    from conduit.platform.cache import recent
    from conduit.platform.cache.safe import cache
    from conduit.platform.http.micro_cache import micro_cache

    recent.forget_all()
    ratelimit.forget_local()
    cache.clear()
    micro_cache.clear()
    yield
    micro_cache.clear()


@pytest.fixture
def api() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    return UserFactory()


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """``client_for(user)``: an API client that sends ``Authorization: Token <jwt>``."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    return make


@pytest.fixture
def auth_api(user: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(user)


@pytest.fixture
def capture_sql() -> Callable[[], CaptureQueriesContext]:
    @contextmanager
    def capture() -> Iterator[CaptureQueriesContext]:
        with CaptureQueriesContext(connection) as ctx:
            yield ctx

    return capture  # type: ignore[return-value]


@pytest.fixture(autouse=True)
def _celery_app_is_the_projects() -> Iterator[None]:
    """A test that makes another Celery app current (``Celery()`` does by default) re-binds every
    shared task to it for the rest of the run: tasks stop running eagerly and go to that test's
    (stopped) broker. Fail the test that does it, not the unrelated tests after it."""
    from celery import current_app

    from config.celery import app

    yield
    assert current_app._get_current_object() is app, (
        "this test made another Celery app current; create it with set_as_current=False"
    )
