"""A Redis Cluster master killed under warm timelines (issue 18): while its slots are down the
feed answers with the feed's query (``unavailable``), the same answer; once its replica is
promoted the feed answers from the timelines again; and ``manage.py rebuild_timelines`` restores
every entry, the publish made during the outage included.

On the suite's real cluster (tests/services.py ``redis_cluster``: three masters, each with a
replica, ``cluster-node-timeout`` 2 s), with the store's own short timeouts.
"""

import io
import time
from typing import Any

import pytest
from django.core.management import call_command
from redis.cluster import key_slot

from conduit.articles.feed import article_feed
from conduit.articles.models import Article
from conduit.profiles.models import Follow
from conduit.timelines import heads
from conduit.timelines.metrics import FALLBACKS
from conduit.timelines.selectors import home_feed
from conduit.timelines.stores import timeline_store
from conduit.timelines.stores.redis_cluster import timeline_key
from conduit.users.models import User
from tests.factories import UserFactory, follow, make_article
from tests.timelines.support import forget_store

pytestmark = [pytest.mark.django_db, pytest.mark.services]

SIZE = 5


def fallbacks() -> dict[str, float]:
    reasons = ("unavailable", "cold", "short", "stale", "past_bound")
    return {reason: FALLBACKS.labels(reason)._value.get() for reason in reasons}


def same_as_query(readers: list[User]) -> None:
    for reader in readers:
        for limit, offset in ((SIZE, 0), (2, 2)):
            expected = article_feed(viewer_id=reader.pk, limit=limit, offset=offset)
            got = home_feed(viewer_id=reader.pk, limit=limit, offset=offset)
            assert got == expected, (
                f"reader {reader.pk} ({limit}, {offset}): {[a['id'] for a in got.articles]} "
                f"instead of {[a['id'] for a in expected.articles]}"
            )


def expected_timeline(reader: User) -> list[int]:
    followed = Follow.objects.filter(follower=reader).values("followee_id")
    ids = Article.objects.filter(author_id__in=followed).order_by("-id")
    return list(ids.values_list("id", flat=True)[:SIZE])


def owner_index(cluster: Any, user: User) -> int:
    """Which master (0, 1, 2 in slot order) holds the user's timeline."""
    slot = key_slot(timeline_key(user.pk).encode())
    for n, master in enumerate(cluster.masters()):
        entry = next(e for e in cluster.view() if e["port"] == master.port)
        if any(start <= slot <= end for start, end in entry["slots"]):
            return n
    raise AssertionError(f"no master serves slot {slot}")


class Scene:
    """Three authors, nine readers each following two of them, three articles each, every
    timeline built on the cluster and copied to its master's replica."""

    def __init__(self, cluster: Any, settings: Any, committed: Any) -> None:
        self.cluster, self.committed = cluster, committed
        settings.TIMELINE_URL = cluster.url
        settings.FEED_TIMELINE_SIZE = SIZE
        forget_store()
        self.authors = [UserFactory() for _ in range(3)]
        # The master to kill holds a reader who does not follow the first author (reader i
        # follows authors i % 3 and (i + 1) % 3) and one who does. Where a timeline lives
        # depends on the user's id alone: nine readers more until some master holds both.
        self.readers: list[User] = []
        for _ in range(5):
            self.readers += [UserFactory() for _ in range(9)]
            both = [n for n in range(3) if {i % 3 == 1 for i in self.at(n)} == {True, False}]
            if both:
                self.master = both[0]
                break
        else:
            raise AssertionError("no master holds both kinds of reader in 45")
        with committed(execute=True):
            for i, reader in enumerate(self.readers):
                follow(reader, self.authors[i % 3])
                follow(reader, self.authors[(i + 1) % 3])
            for round_ in range(3):
                for author in self.authors:
                    make_article(author, title=f"Before {round_}")
        call_command("rebuild_timelines", stdout=io.StringIO())
        assert {owner_index(cluster, r) for r in self.readers} == {0, 1, 2}
        before = fallbacks()
        same_as_query(self.readers)
        assert fallbacks() == before, "warm timelines answered from the store"
        for master in cluster.masters():
            with master.client(5) as client:
                assert client.execute_command("WAIT", 1, 5000) == 1

    def at(self, n: int) -> list[int]:
        """The indexes of the readers whose timelines master ``n`` will hold."""
        return [i for i, r in enumerate(self.readers) if owner_index(self.cluster, r) == n]

    def on(self, n: int) -> list[User]:
        """The readers whose timelines master ``n`` (in slot order, now) holds."""
        return [r for r in self.readers if owner_index(self.cluster, r) == n]

    def followers(self, author: User) -> list[User]:
        return [
            r for r in self.readers if Follow.objects.filter(follower=r, followee=author).exists()
        ]

    def publish_while_down(self) -> Article:
        """A publish by the first author right after a kill: its master is only suspected for
        cluster-node-timeout (2 s), so the fan-out meets it down, and its task's retries
        (inline here) fail too."""
        with self.committed(execute=True):
            return make_article(self.authors[0], title="During the outage")


def test_master_killed_feed_degrades_then_recovers_and_rebuild_restores(
    running_redis_cluster: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    scene = Scene(running_redis_cluster, settings, django_capture_on_commit_callbacks)
    cluster, readers = scene.cluster, scene.readers
    victims = scene.on(scene.master)
    killed = cluster.kill_master(scene.master)
    started = time.monotonic()
    during = scene.publish_while_down()  # lost where it did not land: the rebuild restores it
    untouched = [r for r in readers if r not in scene.followers(scene.authors[0])]

    # Until the replica takes over, the dead master's timelines are unavailable: the feed
    # answers with the query, the same answer. (A reader's cached head would answer first:
    # renewed, as a write or its expiry renews it, the read goes to the store.)
    heads.renew([r.pk for r in readers])
    outage = fallbacks()
    read_at = time.monotonic()
    assert [r for r in untouched if r in victims], "the scene kills a master with both readers"
    same_as_query([r for r in untouched if r in victims])
    # Degraded, unless a loaded machine made these reads wait past the node timeout (2 s) and
    # the replica was promoted first: then it answered them, as checked below.
    degraded = fallbacks()["unavailable"] > outage["unavailable"]
    assert degraded or read_at - started >= 2.0, (
        "a read of a dead master's timeline did not fall back"
    )
    same_as_query(untouched)
    cluster.wait_ok(30)
    failover = time.monotonic() - started
    assert failover < 15, f"the replica took over after {failover:.1f} s"

    # The promoted replica answers: after the store's back-off, the timelines it holds (copied
    # before the kill) are read from it, no fallback.
    time.sleep(settings.TIMELINE_RETRY_SECONDS)
    heir = owner_index(cluster, victims[0])
    assert all(owner_index(cluster, r) == heir for r in victims)
    served = [r for r in victims if r in untouched]
    assert served
    after = fallbacks()
    same_as_query(served)
    assert fallbacks() == after, "the promoted replica served its timelines"

    missed = [r for r in scene.followers(scene.authors[0])
              if during.pk not in (timeline_store().window(r.pk, SIZE) or [])]  # fmt: skip
    assert missed, "the publish during the outage was lost for some timelines"
    call_command("rebuild_timelines", stdout=io.StringIO())
    for reader in readers:
        assert timeline_store().window(reader.pk, SIZE) == expected_timeline(reader)
    rebuilt = fallbacks()
    same_as_query(readers)
    assert fallbacks() == rebuilt, "after the rebuild every feed is warm and right"

    cluster.start(killed.index)  # back, as a replica: the session's cluster whole again
    cluster.wait_ok(30)
    assert killed.role == "replica"


def test_a_publish_during_the_outage_reaches_the_timelines_still_up(
    running_redis_cluster: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    scene = Scene(running_redis_cluster, settings, django_capture_on_commit_callbacks)
    victims = scene.on(scene.master)
    killed = scene.cluster.kill_master(scene.master)
    try:
        # Two publishes: the second finds the store after a failed push (its script state, its
        # slot map asked again) and must reach the live masters too.
        for _ in range(2):
            scene.publish_while_down()
            # Readers whose timelines are on live masters: served from the store, with it.
            same_as_query([r for r in scene.readers if r not in victims])
    finally:
        scene.cluster.start(killed.index)
        scene.cluster.wait_ok(30)
