"""The writes that keep home timelines (ADR 0034), on the configured store (the database here;
tests/timelines/test_stores.py runs the store contract on the Redis Cluster too), and the feed
read from them, compared with the feed's query (``conduit.articles.feed.article_feed``).

The writes run their tasks after commit; these tests run the commit callbacks
(``django_capture_on_commit_callbacks(execute=True)``) as production's autocommit would, with
the tasks inline as in the embedded default.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.core.management import CommandError, call_command

from conduit.articles.feed import article_feed
from conduit.articles.models import Article
from conduit.articles.services import article_delete, article_delete_many
from conduit.privacy.services import account_erase
from conduit.profiles.services import follow_remove
from conduit.timelines import services
from conduit.timelines.metrics import FALLBACKS
from conduit.timelines.models import MergedAuthor
from conduit.timelines.selectors import home_feed
from conduit.timelines.stores import timeline_store
from conduit.users.models import User
from tests.factories import UserFactory, follow, make_article
from tests.timelines.support import closed_port_url, forget_store

pytestmark = pytest.mark.django_db

Commit = Callable[[], AbstractContextManager[object]]


@pytest.fixture(
    autouse=True, params=["database", pytest.param("redis-cluster", marks=pytest.mark.services)]
)
def each_store(request: pytest.FixtureRequest, settings) -> None:
    """Every test on both stores: the database, and a real Redis Cluster."""
    if request.param == "redis-cluster":
        settings.TIMELINE_URL = request.getfixturevalue("running_redis_cluster").url
        forget_store()


@pytest.fixture
def committed(django_capture_on_commit_callbacks) -> Commit:
    """``with committed(): ...``: the block's commit callbacks (its tasks) run at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def timeline(user: User) -> list[int] | None:
    return timeline_store().window(user.pk, 10_000)


def built(*users: User) -> None:
    for user in users:
        services.timeline_rebuild(user_id=user.pk)


def ids_of(author: User) -> list[int]:
    return list(Article.objects.filter(author=author).order_by("-id").values_list("id", flat=True))


def same_as_query(viewer: User, *, limit: int = 3) -> None:
    """Every page of the viewer's feed, from the timeline, equals the query's page."""
    offset = 0
    while True:
        expected = article_feed(viewer_id=viewer.pk, limit=limit, offset=offset)
        assert home_feed(viewer_id=viewer.pk, limit=limit, offset=offset) == expected
        if not expected.articles:
            break
        offset += limit


def fallbacks(reason: str) -> float:
    return FALLBACKS.labels(reason)._value.get()


@pytest.fixture
def people() -> tuple[User, User, User]:
    """An author, a reader whose timeline is built, and one whose timeline never was; both
    follow the author."""
    author, reader, cold = UserFactory(), UserFactory(), UserFactory()
    follow(reader, author)
    follow(cold, author)
    built(reader)
    return author, reader, cold


def test_publish_reaches_built_timelines_only(people, committed):
    author, reader, cold = people
    with committed():
        article = make_article(author)
    assert timeline(reader) == [article.pk]
    assert timeline(cold) is None  # not built: the read builds it (test_cold_read_builds_...)


def test_a_new_timeline_is_empty_not_cold(committed):
    lonely = UserFactory()
    built(lonely)
    assert timeline(lonely) == []
    assert home_feed(viewer_id=lonely.pk, limit=10, offset=0).count == 0


def test_follow_backfills_and_unfollow_scrubs(people, committed, settings):
    settings.FEED_TIMELINE_SIZE = 3
    _author, reader, _ = people
    other = UserFactory()
    theirs = [make_article(other, title=f"Other {i}").pk for i in range(5)]
    with committed():
        follow(reader, other)
    assert timeline(reader) == sorted(theirs, reverse=True)[:3]  # the newest, bounded
    with committed():
        follow_remove(follower=reader, followee=other)
    assert timeline(reader) == []
    same_as_query(reader)


def test_delete_one_and_many_leave_the_timelines(people, committed):
    author, reader, _ = people
    with committed():
        first, second, third = (make_article(author, title=f"A {i}") for i in range(3))
    with committed():
        article_delete(article=first, user=author)
    assert timeline(reader) == [third.pk, second.pk]
    with committed():
        article_delete_many(ids=[second.pk, third.pk])
    assert timeline(reader) == []


def test_erasure_leaves_no_trace(people, committed):
    author, reader, _ = people
    with committed():
        make_article(author)
    followee = UserFactory()
    with committed():
        follow(author, followee)
        make_article(followee)
    built(author)
    assert timeline(author) == ids_of(followee)
    with committed():
        account_erase(user=author, password="password123")
    assert timeline(reader) == []  # the erased author's articles left their readers' timelines
    assert timeline_store().window(author.pk, 10) is None  # and their own timeline went
    same_as_query(reader)


def test_an_author_over_the_threshold_is_merged_at_read(people, committed, settings):
    settings.FEED_FANOUT_MAX_FOLLOWERS = 1
    author, reader, _cold = people  # two followers: over the threshold
    with committed():
        article = make_article(author)
    assert timeline(reader) == []  # not fanned out
    assert MergedAuthor.objects.filter(user_id=author.pk).exists()
    page = home_feed(viewer_id=reader.pk, limit=10, offset=0)
    assert [a["id"] for a in page.articles] == [article.pk]
    same_as_query(reader)
    newcomer = UserFactory()
    with committed():
        follow(newcomer, author)  # no backfill for a merged author: the read merges
    built(newcomer)
    assert timeline(newcomer) == []
    same_as_query(newcomer)


def test_cold_read_falls_back_and_builds(people, committed):
    author, _, cold = people
    make_article(author)
    before = fallbacks("cold")
    with committed():
        page = home_feed(viewer_id=cold.pk, limit=10, offset=0)
    assert page == article_feed(viewer_id=cold.pk, limit=10, offset=0)
    assert fallbacks("cold") == before + 1
    assert timeline(cold) == ids_of(author)  # built by the rebuild the read enqueued


def test_stale_entry_falls_back_to_the_query(people):
    author, reader, _ = people
    make_article(author)
    gone = make_article(author, title="Gone")
    built(reader)
    Article.objects.filter(pk=gone.pk).delete()  # behind the timeline's back: no task
    before = fallbacks("stale")
    same_as_query(reader)
    assert fallbacks("stale") > before


def test_past_the_bound_reads_the_query(people, settings):
    settings.FEED_TIMELINE_SIZE = 2
    author, reader, _ = people
    for i in range(4):
        make_article(author, title=f"A {i}")
    built(reader)
    before = fallbacks("past_bound")
    same_as_query(reader, limit=1)
    assert fallbacks("past_bound") > before


def test_unreachable_store_reads_the_query(people, settings):
    author, reader, _ = people
    make_article(author)
    settings.TIMELINE_URL = closed_port_url()
    forget_store()
    before = fallbacks("unavailable")
    same_as_query(reader)
    assert fallbacks("unavailable") == before + 2  # both pages: each read answered by the query


def test_feed_equals_the_query_for_many_readers_and_pages(committed, settings):
    settings.FEED_FANOUT_MAX_FOLLOWERS = 3
    authors = [UserFactory() for _ in range(5)]
    readers = [UserFactory() for _ in range(5)]
    with committed():
        for i, reader in enumerate(readers):
            for author in authors[: i + 1]:
                follow(reader, author)  # authors[0] has five followers: merged once it publishes
    built(*readers)
    with committed():
        for round_ in range(3):
            for j, author in enumerate(authors):
                make_article(author, title=f"{j} {round_}")
        article_delete(article=Article.objects.filter(author=authors[2]).first(), user=authors[2])
        follow_remove(follower=readers[4], followee=authors[1])
    assert MergedAuthor.objects.filter(user_id=authors[0].pk).exists()
    for reader in readers:
        same_as_query(reader, limit=2)


def test_rebuild_timelines_command(people, committed, capsys):
    author, reader, cold = people
    make_article(author)  # no task ran: the reader's timeline misses it
    assert timeline(reader) == []
    call_command("rebuild_timelines", "--user", reader.username)
    assert timeline(reader) == ids_of(author)
    assert timeline(cold) is None
    call_command("rebuild_timelines")
    assert timeline(cold) == ids_of(author)
    assert f"rebuilt {User.objects.count()} timelines" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such user: nobody"):
        call_command("rebuild_timelines", "--user", "nobody")
