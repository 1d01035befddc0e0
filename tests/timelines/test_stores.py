"""The timeline store contract (conduit/timelines/stores/__init__.py), run against both stores:
the database (SQLite here, the partitioned table on PostgreSQL) and a real Redis Cluster of 3
masters with replicas (``running_redis_cluster``, marker ``services``)."""

from collections.abc import Iterator

import pytest
from django.db import connection

from conduit.timelines.models import Entry
from conduit.timelines.stores import StoreUnavailable, TimelineStore
from conduit.timelines.stores.database import TRIM_EVERY, DatabaseStore
from conduit.timelines.stores.redis_cluster import RedisClusterStore, cluster_nodes
from tests.timelines.support import closed_port_url

pytestmark = pytest.mark.django_db

SIZE = 5


@pytest.fixture(params=["database", pytest.param("redis-cluster", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest) -> Iterator[TimelineStore]:
    if request.param == "database":
        yield DatabaseStore(size=SIZE)
        return
    cluster = request.getfixturevalue("running_redis_cluster")
    redis_store = RedisClusterStore.from_url(cluster.url, size=SIZE)
    yield redis_store
    redis_store.client.close()


def test_a_timeline_never_built_is_told_from_an_empty_one(store):
    assert store.window(1, 10) is None
    store.replace(1, [])
    assert store.window(1, 10) == []
    store.drop(1)
    assert store.window(1, 10) is None


def test_replace_keeps_the_newest_size_ids_newest_first(store):
    store.replace(1, [3, 9, 1, 12, 7, 5, 9])
    assert store.window(1, 10) == [12, 9, 7, 5, 3]
    assert store.window(1, 2) == [12, 9]
    store.replace(1, [2])
    assert store.window(1, 10) == [2]


def test_push_reaches_built_timelines_only_and_keeps_the_bound(store):
    store.replace(1, [1, 2, 3, 4, 5])
    store.replace(2, [])
    store.push(TRIM_EVERY * 10, [1, 2, 3])  # a trimming push on the database store too
    assert store.window(1, 10) == [TRIM_EVERY * 10, 5, 4, 3, 2]
    assert store.window(2, 10) == [TRIM_EVERY * 10]
    assert store.window(3, 10) is None
    store.push(TRIM_EVERY * 10, [1, 2])  # again: nothing changes
    assert store.window(2, 10) == [TRIM_EVERY * 10]


def test_add_backfills_a_built_timeline_only(store):
    store.replace(1, [10])
    assert store.add(1, [4, 11, 2, 8, 6, 3]) is True
    assert store.window(1, 10) == [11, 10, 8, 6, 4]
    assert store.add(2, [4, 5]) is False
    assert store.window(2, 10) is None
    assert store.add(1, []) is False


def test_remove_takes_ids_out_of_many_timelines(store):
    for user_id in (1, 2, 3):
        store.replace(user_id, [1, 2, 3])
    store.remove([2, 3, 99], [1, 2])
    assert store.window(1, 10) == [1]
    assert store.window(2, 10) == [1]
    assert store.window(3, 10) == [3, 2, 1]


def test_chunks_spread_over_the_cluster(store):
    users = list(range(1, 201))  # keys on every shard of a cluster
    for user_id in users:
        store.replace(user_id, [])
    store.push(77, users)
    assert all(store.window(user_id, 1) == [77] for user_id in users)
    store.remove([77], users)
    assert all(store.window(user_id, 1) == [] for user_id in users)


def test_the_database_store_trims_on_every_trim_every_th_article():
    store = DatabaseStore(size=3)
    store.replace(1, [1, 2, 3])
    store.push(TRIM_EVERY + 1, [1])  # not a multiple: kept past the bound for now
    assert Entry.objects.filter(user_id=1).count() == 1 + 4
    assert store.window(1, 3) == [TRIM_EVERY + 1, 3, 2]
    store.push(TRIM_EVERY * 2, [1])
    assert Entry.objects.filter(user_id=1).count() == 1 + 3


def test_a_closed_port_is_unavailable_not_a_hang():
    with pytest.raises(StoreUnavailable):
        RedisClusterStore.from_url(closed_port_url(), size=SIZE)


def test_timeline_url_is_checked():
    assert [(n.host, n.port) for n in cluster_nodes("redis-cluster://10.0.0.1:7000,:7001")] == [
        ("10.0.0.1", 7000),
        ("127.0.0.1", 7001),
    ]
    with pytest.raises(ValueError, match="redis-cluster://"):
        cluster_nodes("redis://127.0.0.1:6379/0")


@pytest.mark.pg
def test_the_table_is_hash_partitioned_by_user_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partstrat, a.attname, "
            "(SELECT count(*) FROM pg_inherits i WHERE i.inhparent = p.partrelid) "
            "FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = 'timelines_entry'::regclass"
        )
        assert cursor.fetchall() == [("h", "user_id", 16)]
