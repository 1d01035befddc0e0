"""The warm feed's reads from the database (ADR 0034): the followed authors' counters, the newest
ids of the followed authors merged at read and, when the timelines live in PostgreSQL, the window
with both in one statement.

The counters are the feed's count (the sum of the followed authors' article counters, as the
feed's query gives it), whether any of those authors is merged at read, and the articles of the
others (the ones fanned out: what a long enough timeline must hold). Built by the ORM and
compiled once per process (ADR 0011): building this aggregate every request cost more CPU than
the rest of a warm read. With the database store on PostgreSQL, the window and the counters are
one prepared statement (ADR 0025's way): one round trip instead of two or three, a third of a
warm read's CPU in the app.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connections, router
from django.db.models import Case, Max, Q, QuerySet, Sum, Value, When

from conduit.articles.models import Article
from conduit.platform.db.compiled import CompiledValuesQuery
from conduit.platform.db.statements import dict_rows, sql
from conduit.profiles.models import Follow
from conduit.timelines.models import Entry, MergedAuthor
from conduit.timelines.stores.database import DatabaseStore
from conduit.users.models import User


@dataclass(frozen=True, slots=True)
class Counters:
    articles: int  # the feed's count
    merged: bool  # some followed author is merged at read
    fanned_out: int  # articles of the other followed authors


def counters(viewer_id: int) -> Counters:
    rows = _COUNTERS.rows(number=viewer_id, text=None)
    if not rows:  # following nobody
        return Counters(0, False, 0)
    row = rows[0]
    return Counters(row["articles"] or 0, bool(row["merged"]), row["fanned_out"] or 0)


def _counters_query(*, number: int | None, text: str | None) -> QuerySet[Follow, Any]:
    merged = Q(followee_id__in=MergedAuthor.objects.values("user_id"))
    return (
        Follow.objects.filter(follower_id=number)
        .values("follower_id")
        .annotate(
            articles=Sum("followee__articles_count"),
            merged=Max(Case(When(merged, then=Value(1)), default=Value(0))),
            fanned_out=Sum("followee__articles_count", filter=~merged),
        )
        .values("articles", "merged", "fanned_out")
    )


_COUNTERS = CompiledValuesQuery(_counters_query)

# The merged authors the viewer follows, each one's newest ids through the (author_id, id)
# index; the merged authors are few, so this probes the follows' unique index once for each.
_MERGED_IDS = """
    SELECT a.id FROM {merged} m
    JOIN {follow} f ON f.followee_id = m.user_id AND f.follower_id = %(viewer)s
    CROSS JOIN LATERAL (
        SELECT id FROM {article} WHERE author_id = m.user_id ORDER BY id DESC LIMIT %(window)s
    ) a
    ORDER BY a.id DESC LIMIT %(window)s
"""


def merged_ids(viewer_id: int, window: int) -> list[int]:
    """The newest ``window`` ids of the merged authors ``viewer_id`` follows, newest first."""
    connection = connections[router.db_for_read(Article)]
    if connection.vendor == "postgresql":
        statement = sql(_MERGED_IDS, merged=MergedAuthor, follow=Follow, article=Article)
        with connection.statement_cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(statement, {"viewer": viewer_id, "window": window})
            return [row[0] for row in cursor.fetchall()]
    merged = Follow.objects.filter(
        follower_id=viewer_id, followee_id__in=MergedAuthor.objects.values("user_id")
    ).values("followee_id")
    return list(
        Article.objects.filter(author_id__in=merged)
        .order_by("-id")
        .values_list("id", flat=True)[:window]
    )


# The same counters and merged authors' ids (tests/timelines/test_reads.py compares them), and
# the timeline's marker with its newest entries, as an array (empty for a timeline never built).
_WINDOW_AND_COUNTERS = """
    SELECT c.articles, c.merged, c.fanned_out, w.ids, ARRAY({merged_ids}) AS merged_ids FROM (
        SELECT COALESCE(SUM(u.articles_count), 0) AS articles,
               COALESCE(bool_or(m.user_id IS NOT NULL), false) AS merged,
               COALESCE(SUM(u.articles_count) FILTER (WHERE m.user_id IS NULL), 0) AS fanned_out
        FROM {follow} f
        JOIN {user} u ON u.id = f.followee_id
        LEFT JOIN {merged} m ON m.user_id = f.followee_id
        WHERE f.follower_id = %(viewer)s
    ) c CROSS JOIN (
        SELECT ARRAY(
            SELECT article_id FROM {entry} WHERE user_id = %(viewer)s
            ORDER BY article_id DESC LIMIT %(entries)s
        ) AS ids
    ) w
""".replace("{merged_ids}", _MERGED_IDS)


def in_one_statement() -> bool:
    """Whether ``window_and_counters`` serves the timelines' reads: they live in the database
    (``TIMELINE_URL`` unset), and it is PostgreSQL."""
    return (
        not settings.TIMELINE_URL and connections[router.db_for_read(Entry)].vendor == "postgresql"
    )


class Joint(NamedTuple):
    ids: list[int] | None  # the timeline's window; None: not built
    counters: Counters
    merged_ids: list[int]


def window_and_counters(viewer_id: int, count: int) -> Joint:
    """The database store's ``window(viewer_id, count)``, ``counters(viewer_id)`` and
    ``merged_ids(viewer_id, count)``, in one statement (``in_one_statement``)."""
    connection = connections[router.db_for_read(Entry)]
    statement = sql(
        _WINDOW_AND_COUNTERS,
        follow=Follow,
        user=User,
        merged=MergedAuthor,
        entry=Entry,
        article=Article,
    )
    with connection.statement_cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(statement, {"viewer": viewer_id, "entries": count + 1, "window": count})
        row = dict_rows(cursor)[0]
    found = Counters(row["articles"], row["merged"], row["fanned_out"])
    return Joint(DatabaseStore.unmarked(row["ids"]), found, row["merged_ids"])
