"""The viewer's timeline head in the cache (``conduit/timelines/heads.py``): served without a
query while its tokens hold, and read again after each write that changes it, once that write's
task ran (the commit callbacks, inline as in the embedded default). The state machine
(test_state_machine.py) checks every write against the query; these name the paths whose
renewal is not a write to the viewer's own timeline: a merged author's publish, a delete the
page does not show, an erased author, and a fan-out that failed half-way."""

from collections.abc import Callable

import pytest

from conduit.articles.feed import article_feed
from conduit.articles.services import article_delete
from conduit.privacy.services import account_erase
from conduit.timelines import heads, services
from conduit.timelines.models import MergedAuthor
from conduit.timelines.selectors import home_feed
from conduit.timelines.stores import timeline_store
from conduit.users.models import User
from tests.factories import UserFactory, follow, make_article
from tests.support import by_path

pytestmark = pytest.mark.django_db


def read(user: User, limit: int = 20) -> tuple[list[str], int]:
    page = home_feed(viewer_id=user.pk, limit=limit, offset=0)
    return [a["slug"] for a in page.articles], page.count


def query(user: User, limit: int = 20) -> tuple[list[str], int]:
    page = article_feed(viewer_id=user.pk, limit=limit, offset=0)
    return [a["slug"] for a in page.articles], page.count


@pytest.fixture
def committed(django_capture_on_commit_callbacks) -> Callable[[], object]:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def followed_with_cached_head(user: User, committed, *, merged: bool = False) -> User:
    author = UserFactory()
    with committed():
        follow(user, author)
        if merged:
            MergedAuthor.objects.create(user_id=author.pk)
        make_article(author, title="Older")
    services.timeline_rebuild(user_id=user.pk)
    read(user)  # keeps the cards and the head
    read(user)  # and the viewer's flags (as tests/api/test_query_counts.py's read_twice)
    return author


def test_a_cached_head_is_read_without_a_query(user, committed, django_assert_num_queries):
    followed_with_cached_head(user, committed)
    expected = query(user)
    with django_assert_num_queries(0):
        assert read(user) == expected


@pytest.mark.parametrize("merged", [False, True], ids=["fanned-out", "merged"])
def test_a_publish_reaches_the_cached_head_once_its_task_ran(user, committed, merged):
    author = followed_with_cached_head(user, committed, merged=merged)
    with committed():
        make_article(author, title="Newer")
    assert read(user) == query(user)
    assert read(user)[1] == 2


def test_a_delete_outside_the_page_updates_the_count(user, committed):
    # The page (one article) still shows only articles that exist: only the count tells.
    author = followed_with_cached_head(user, committed)
    with committed():
        make_article(author, title="Newer")
    assert read(user, limit=1)[1] == 2
    older = author.articles.get(title="Older")
    with committed():
        article_delete(article=older, user=author)
    assert read(user, limit=1) == query(user, limit=1)
    assert read(user, limit=1)[1] == 1


def test_an_erased_author_leaves_their_followers_heads(user, committed):
    author = followed_with_cached_head(user, committed)  # their article is the older one
    followed_with_cached_head(user, committed)
    assert read(user, limit=1)[1] == 2
    with committed():
        account_erase(user=author, password="password123")
    assert read(user, limit=1) == query(user, limit=1)
    assert read(user, limit=1)[1] == 1


def test_a_fan_out_that_fails_half_way_still_renews_the_heads(user, committed, monkeypatch):
    author = followed_with_cached_head(user, committed)
    store = timeline_store()
    push = store.push

    def push_then_fail(article_id: int, user_ids: list[int]) -> None:
        push(article_id, user_ids)
        raise RuntimeError("one master did not answer")

    monkeypatch.setattr(store, "push", push_then_fail)
    article = make_article(author, title="Newer")  # its fan-out: by hand, below
    with pytest.raises(RuntimeError):
        services.article_fan_out(article_id=article.pk)
    assert read(user) == query(user)


def test_renewing_a_head_reads_it_again(user, committed, django_assert_num_queries):
    followed_with_cached_head(user, committed)
    heads.renew([user.pk])
    expected = query(user)
    with django_assert_num_queries(by_path(1, 2)):  # the window and counters, then no card
        assert read(user) == expected


def test_no_head_is_kept_with_feed_head_seconds_0(
    user, committed, settings, django_assert_num_queries
):
    followed_with_cached_head(user, committed)
    settings.FEED_HEAD_SECONDS = 0
    expected = query(user)
    for _ in range(2):
        with django_assert_num_queries(by_path(1, 2)):
            assert read(user) == expected
