"""Round trips to the Redis Cluster (ADR 0034): a warm feed read is one round trip for the ids
plus the database's query for the counters (the page's cards are the card cache's), none while
the viewer's head is cached (``conduit/timelines/heads.py``); a fan-out
chunk is one round trip per master holding some of its timelines. Counted on the client's real
connections: every send of packed commands is one round trip."""

from collections.abc import Iterator

import pytest
from redis.connection import Connection

from conduit.articles.feed import article_feed
from conduit.timelines import heads, services
from conduit.timelines.stores import timeline_store
from tests.factories import UserFactory, follow, make_article
from tests.timelines.support import forget_store

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """``[n]``: round trips sent to Redis since the fixture started (reset by assigning 0)."""
    sent = [0]
    send = Connection.send_packed_command

    def counted(self: Connection, command: object, check_health: bool = True) -> None:
        sent[0] += 1
        send(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return sent


@pytest.fixture
def on_cluster(settings, running_redis_cluster) -> None:
    settings.TIMELINE_URL = running_redis_cluster.url
    forget_store()


@pytest.mark.parametrize("n", [1, 20])
@pytest.mark.parametrize("head", ["cached", "renewed"])
def test_a_warm_feed_read_is_one_round_trip(
    n, head, on_cluster, user, auth_api, round_trips, django_assert_num_queries
):
    for i in range(n):
        author = UserFactory()
        make_article(author, title=f"A {i}")
        follow(user, author)
    services.timeline_rebuild(user_id=user.pk)
    auth_api.get("/api/articles/feed")  # the client reads the cluster's slots once
    if head == "renewed":  # a fan-out reached the viewer: the head is read again
        heads.renew([user.pk])
    round_trips[0] = 0
    # The user, the page's cards, their authors and the viewer's flags are in the cache now
    # (the first read kept them), and so is the viewer's head until a write renews it; then
    # it is the window (one round trip) and the followed authors' counters (one query).
    reads = 0 if head == "cached" else 1
    with django_assert_num_queries(reads):
        response = auth_api.get("/api/articles/feed")
    assert round_trips[0] == reads
    expected = article_feed(viewer_id=user.pk, limit=20, offset=0)
    assert [a["slug"] for a in response.json()["articles"]] == [
        a["slug"] for a in expected.articles
    ]
    assert response.json()["articlesCount"] == expected.count == n


def test_a_fan_out_chunk_is_one_round_trip_per_master(on_cluster, settings, round_trips):
    settings.FEED_FANOUT_CHUNK = 500
    store = timeline_store()
    users = list(range(1, 501))
    for user_id in users:
        store.replace(user_id, [])
    store.push(1, users)  # loads the script on every master
    round_trips[0] = 0
    store.push(2, users)
    assert round_trips[0] == 3  # one pipeline to each of the 3 masters
    round_trips[0] = 0
    store.add(7, [3, 4])
    store.replace(8, [5, 6])
    assert round_trips[0] == 2
    assert store.window(250, 10) == [2, 1]
    assert store.window(7, 10) == [4, 3, 2, 1]
