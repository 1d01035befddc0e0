"""The timelines' state machine (tests/timelines/machine.py) against each store: the database
store (on SQLite, and on PostgreSQL where its table is hash-partitioned) and the Redis Cluster
store on the suite's real cluster; and against a broken variant, to show it finds one.

Small bounds make the edges happen within a few steps: timelines of 2 (the trim, the windows
past the bound), authors with more than 1 follower merged at read, fan-out chunks of 2.
Derandomized (and no example database), so CI runs the same examples every time.
"""

from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from conduit.articles.models import Article
from conduit.timelines import services
from conduit.timelines.stores import timeline_store
from tests.timelines.machine import TimelineMachine
from tests.timelines.support import forget_store

pytestmark = pytest.mark.django_db

BOUNDS = settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
    # A failing run prints its whole example without shrinking it: shrinking one takes minutes
    # here (each step checks every user's feed), too long for CI.
    phases=[Phase.explicit, Phase.generate],
)


@pytest.fixture
def small_timelines(settings: Any) -> None:
    settings.FEED_TIMELINE_SIZE = 2
    settings.FEED_FANOUT_MAX_FOLLOWERS = 1
    settings.FEED_FANOUT_CHUNK = 2
    forget_store()


def test_database_store(small_timelines: None) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
                " WHERE c.relname = 'timelines_entry'"
            )
            assert cursor.fetchone() == (1,), "timelines_entry is not partitioned"
    run_state_machine_as_test(TimelineMachine, settings=BOUNDS)


@pytest.mark.services
def test_redis_cluster_store(
    small_timelines: None, running_redis_cluster: Any, settings: Any
) -> None:
    settings.TIMELINE_URL = running_redis_cluster.url
    forget_store()
    machine = type(
        "RedisClusterTimelineMachine",
        (TimelineMachine,),
        {"empty_store": staticmethod(running_redis_cluster.flush)},
    )
    run_state_machine_as_test(machine, settings=BOUNDS)


def test_a_broken_unfollow_is_found(small_timelines: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unfollow forgets to scrub the timeline: the feed alone would not show it (the read sees
    the stale entry and falls back to the query), the timeline invariant does."""
    monkeypatch.setattr(services, "timeline_scrub", lambda *, user_id: 0)
    found = settings(BOUNDS, report_multiple_bugs=False)
    with pytest.raises(AssertionError, match="left in the timeline"):
        run_state_machine_as_test(TimelineMachine, settings=found)


def test_a_backfill_below_a_hole_is_seen(
    small_timelines: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The follow of issue18-core (the followee's newest ids alone, below a timeline a delete
    left short) on the machine's own steps: the no-hole invariant fails. The search above does
    not reach this sequence by itself (8 to 100 derandomized examples, 300 random ones, tried
    on issue18-fixes): tests/timelines/test_counterexamples.py keeps it."""

    def followee_only(*, follower_id: int, followee_id: int) -> None:
        ids = services.newest_ids(Article.objects.filter(author_id=followee_id))
        timeline_store().add(follower_id, ids)

    monkeypatch.setattr(services, "follow_backfill", followee_only)
    machine = TimelineMachine()
    try:
        # User 0 publishes once, user 1 three times; user 2 follows user 1 (the first other
        # not followed yet is user 0, so n=1): their timeline is built trimmed to 2.
        machine.seed(authors=[0, 1, 1, 1], follows=[(2, 1)])
        machine.timelines_and_feeds()
        machine.delete(0)  # the newest: out of the timeline, which is left with one entry
        machine.timelines_and_feeds()
        machine.follow(2, 0)  # user 0, whose only article is older than the one trimmed
        with pytest.raises(AssertionError, match="missing from the timeline"):
            machine.timelines_and_feeds()
    finally:
        machine.teardown()
