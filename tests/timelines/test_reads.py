"""The warm feed's reads (conduit/timelines/reads.py): on PostgreSQL with the database store,
the window and the counters are one statement, which must answer exactly what the store's
``window`` and the ORM's counters answer, in every state a timeline can be in."""

import pytest

from conduit.articles.services import article_delete
from conduit.timelines import reads
from conduit.timelines.models import MergedAuthor
from conduit.timelines.stores.database import DatabaseStore
from tests.factories import UserFactory, follow, make_article

pytestmark = [pytest.mark.django_db, pytest.mark.pg]

WINDOWS = [1, 3, 50]


def both(viewer_id: int, count: int) -> tuple[object, object]:
    """The one statement's answer, and the same read in separate statements (as on SQLite)."""
    separately = reads.Joint(
        DatabaseStore(size=800).window(viewer_id, count),
        reads.counters(viewer_id),
        reads.merged_ids(viewer_id, count),
    )
    return reads.window_and_counters(viewer_id, count), separately


def test_one_statement_on_postgresql(settings):
    settings.TIMELINE_URL = ""
    assert reads.in_one_statement()
    settings.TIMELINE_URL = "redis-cluster://127.0.0.1:7000"
    assert not reads.in_one_statement()


@pytest.mark.parametrize("count", WINDOWS)
def test_following_nobody(count):
    viewer = UserFactory()
    joint, separately = both(viewer.pk, count)
    assert joint == separately == (None, reads.Counters(0, False, 0), [])
    DatabaseStore(size=800).replace(viewer.pk, [])
    joint, separately = both(viewer.pk, count)
    assert joint == separately == ([], reads.Counters(0, False, 0), [])


@pytest.mark.parametrize("count", WINDOWS)
def test_built_with_fanned_out_and_merged_authors(count):
    viewer = UserFactory()
    authors = [UserFactory() for _ in range(3)]
    quiet = UserFactory()  # followed, no articles
    articles = [
        make_article(author, title=f"A {i} {author.pk}") for i in range(2) for author in authors
    ]
    for author in [*authors, quiet]:
        follow(viewer, author)
    MergedAuthor.objects.create(user_id=authors[0].pk)
    store = DatabaseStore(size=800)
    store.replace(viewer.pk, [a.pk for a in articles if a.author_id != authors[0].pk])
    joint, separately = both(viewer.pk, count)
    assert joint == separately
    ids, counters, merged = joint
    assert counters == reads.Counters(articles=6, merged=True, fanned_out=4)
    merged_articles = [a.pk for a in articles if a.author_id == authors[0].pk]
    assert merged == sorted(merged_articles, reverse=True)[:count]
    assert (
        ids
        == sorted((a.pk for a in articles if a.author_id != authors[0].pk), reverse=True)[:count]
    )
    # A delete moves the counters at once; the timeline keeps the id until its task runs.
    article_delete(user=authors[1], article=articles[1])
    joint, separately = both(viewer.pk, count)
    assert joint == separately
    assert joint[1] == reads.Counters(articles=5, merged=True, fanned_out=3)


def test_a_timeline_never_built_still_has_its_counters():
    viewer, author = UserFactory(), UserFactory()
    make_article(author, title="One")
    follow(viewer, author)
    joint, separately = both(viewer.pk, 20)
    assert joint == separately == (None, reads.Counters(1, False, 1), [])


def test_a_merged_author_not_followed_is_not_merged_in():
    viewer, followed, other = UserFactory(), UserFactory(), UserFactory()
    make_article(other, title="Not followed")
    mine = make_article(followed, title="Followed")
    follow(viewer, followed)
    MergedAuthor.objects.create(user_id=other.pk)
    MergedAuthor.objects.create(user_id=followed.pk)
    joint, separately = both(viewer.pk, 20)
    assert joint == separately == (None, reads.Counters(1, True, 0), [mine.pk])
