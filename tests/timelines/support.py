"""Fixtures for the home timelines (ADR 0034), registered in ``tests/conftest.py``: every test
starts with the configured store forgotten, and ``timeline_state`` puts a user's timeline in
one of the states the feed reads differently."""

from collections.abc import Callable, Iterator

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from conduit.profiles.models import Follow
from conduit.timelines import selectors, services
from conduit.timelines.models import MergedAuthor
from conduit.timelines.stores import forget_stores
from conduit.users.models import User
from tests.services import free_port


def forget_store() -> None:
    forget_stores()
    selectors.forget_failures()


@pytest.fixture(autouse=True)
def _fresh_timeline_store() -> Iterator[None]:
    forget_store()
    yield
    forget_store()


def closed_port_url() -> str:
    """A Redis Cluster URL where nothing listens: the store is unreachable."""
    return f"redis-cluster://127.0.0.1:{free_port()}"


TimelineState = Callable[[str, User], None]


@pytest.fixture
def timeline_state(settings: SettingsWrapper) -> TimelineState:
    """``timeline_state(state, user)``: ``cold`` (never built), ``warm`` (built from the
    database), ``merged`` (built, one of the authors they follow merged at read), or
    ``unavailable`` (the store does not answer)."""

    def put(state: str, user: User) -> None:
        if state == "cold":
            return
        if state == "unavailable":
            settings.TIMELINE_URL = closed_port_url()
            forget_store()
            return
        if state == "merged":
            followee = Follow.objects.filter(follower=user).order_by("pk").first()
            assert followee is not None, "merged needs a followed author"
            MergedAuthor.objects.create(user_id=followee.followee_id)
        else:
            assert state == "warm", state
        services.timeline_rebuild(user_id=user.pk)

    return put
