"""``manage.py check_plans``: EXPLAIN every list query on the data that is there, and fail on a
sequential scan or a sort over a large table.

The queries are not written out here: the real selectors run, their SQL is captured, and each
statement is explained with ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` (read-only statements only),
so what is checked is exactly what the API and pages run. PostgreSQL only.

Every statement on a partitioned table (``PARTITIONED``: the timelines, hash-partitioned by user,
ADR 0034) must read one partition: a plan that scans more is a problem. Writes to it are
explained without ``ANALYZE`` (not run), their planned partitions counted.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Count

from conduit.articles import feed, queries
from conduit.articles.models import Article, Favorite, Tag
from conduit.comments.models import Comment
from conduit.comments.selectors import comment_list
from conduit.profiles.models import Follow
from conduit.profiles.selectors import profile_get
from conduit.timelines import selectors as timelines
from conduit.timelines import services as timeline_writes
from conduit.timelines.models import Entry
from conduit.timelines.stores.database import DatabaseStore
from conduit.users.models import User

# Tables that grow with the site; a sequential scan or a big sort on them is a bug in waiting.
LARGE_TABLES = {
    Article._meta.db_table,
    Favorite._meta.db_table,
    Comment._meta.db_table,
    Follow._meta.db_table,
    User._meta.db_table,
    "articles_articletag",
}
SORT_ROWS_MAX = 5_000
# Partitioned tables: a statement on one of them reads a single partition (pruning), or fails.
PARTITIONED = {Entry._meta.db_table}


@dataclass
class PlanResult:
    case: str
    sql: str
    ms: float
    problems: list[str]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _problems(plan: dict[str, Any]) -> list[str]:
    found = []
    for node in _nodes(plan):
        kind = node["Node Type"]
        relation = node.get("Relation Name")
        if kind == "Seq Scan" and relation in LARGE_TABLES:
            found.append(f"sequential scan on {relation} ({node.get('Actual Rows')} rows)")
        if kind in ("Sort", "Incremental Sort"):
            rows = max(int(c.get("Actual Rows", 0)) for c in node.get("Plans", [node]))
            if rows > SORT_ROWS_MAX:
                found.append(f"sort over {rows} rows ({node.get('Sort Key')})")
    found.extend(_unpruned(plan))
    return found


def _partition_of(relation: str | None) -> str | None:
    """The partitioned table that ``relation`` is a partition of (``<table>_p<n>``), if any."""
    table, _, number = (relation or "").rpartition("_p")
    return table if table in PARTITIONED and number.isdigit() else None


def _unpruned(plan: dict[str, Any]) -> list[str]:
    """A problem for each partitioned table of which the plan reads more than one partition
    (a partition planned but never executed, pruned at run time, does not count)."""
    read: dict[str, set[str]] = {}
    for node in _nodes(plan):
        table = _partition_of(node.get("Relation Name"))
        if table and node.get("Actual Loops", 1):
            read.setdefault(table, set()).add(node["Relation Name"])
    return [f"{len(parts)} partitions of {table} read, not one (no pruning)"
            for table, parts in sorted(read.items()) if len(parts) > 1]  # fmt: skip


def _explain(case: str, run: Callable[[], object]) -> list[PlanResult]:
    # The statements as sent, with their parameters: a prepared one (ADR 0025's cursor) is
    # logged as text that is not SQL.
    statements: list[tuple[str, Any]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    results = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
            elif any(table in sql for table in PARTITIONED) and not sql.startswith("SAVEPOINT"):
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)  # a write: planned, not run
            else:
                continue
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            root = plan[0]["Plan"]
            ms = float(plan[0].get("Execution Time", 0.0))
            results.append(PlanResult(case, _shown(sql, params), ms, _problems(root)))
    return results


def _shown(sql: str, params: Any) -> str:
    """The statement as the report shows it: with its parameters, as Django logs it."""
    return connection.ops.compose_sql(sql, params) if params else sql  # type: ignore[attr-defined]


def _follower_of(count: int, *, prolific: bool) -> int:
    """A user who follows ``count`` of the most prolific (or the quietest) authors, made inside
    the rolled-back transaction of the check, so the data is left as it was. Quiet authors are the
    feed's hard case for a newest-first scan: their articles are rare among all the others."""
    reader = User.objects.order_by("following_count").first()
    assert reader is not None  # noqa: S101 - the caller checked there are users
    authors = list(
        User.objects.exclude(pk=reader.pk)
        .filter(articles_count__gt=0)
        .order_by("-articles_count" if prolific else "articles_count")
        .values_list("pk", flat=True)[:count]
    )
    Follow.objects.filter(follower=reader).delete()
    Follow.objects.bulk_create([Follow(follower=reader, followee_id=a) for a in authors])
    User.objects.filter(pk=reader.pk).update(following_count=len(authors))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Follow._meta.db_table}")
    return int(reader.pk)


def _cases() -> Iterator[tuple[str, Callable[[], object]]]:
    viewer = User.objects.order_by("-favorites_count").values_list("pk", flat=True).first()
    popular_tag = Tag.objects.order_by("-articles_count").values_list("name", flat=True).first()
    rare_tag = (
        Tag.objects.filter(articles_count__gt=0)
        .order_by("articles_count")
        .values_list("name", flat=True)
        .first()
    )
    prolific = User.objects.order_by("-articles_count").values_list("username", flat=True).first()
    typical = (
        User.objects.filter(articles_count__gt=0)
        .order_by("articles_count")
        .values_list("username", flat=True)
        .first()
    )
    favoriter = User.objects.order_by("-favorites_count").values_list("username", flat=True).first()
    commented = (
        Comment.objects.values("article_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("article_id", flat=True)
        .first()
    )
    slug = Article.objects.order_by("-favorites_count").values_list("slug", flat=True).first()
    ten = (
        User.objects.filter(following_count__gte=10)
        .order_by("following_count")
        .values_list("pk", flat=True)
        .first()
    )

    def listing(
        viewer_id: int | None, offset: int = 0, **filters: str | None
    ) -> Callable[[], object]:
        query = queries.ListQuery(viewer_id=viewer_id, limit=20, offset=offset, **filters)
        return lambda: queries.article_list(query)

    yield "global list, anonymous", listing(None)
    yield "global list, signed in", listing(viewer)
    yield "global list, deep page (offset 10,000)", listing(None, offset=10_000)
    yield "by popular tag", listing(viewer, tag=popular_tag)
    yield "by rare tag", listing(viewer, tag=rare_tag)
    yield "by prolific author", listing(viewer, author=prolific)
    yield "by typical author", listing(viewer, author=typical)
    yield "favorited by", listing(viewer, favorited=favoriter)
    if ten is not None:
        yield (
            "feed, following ~10",
            lambda: feed.article_feed(viewer_id=ten, limit=20, offset=0),
        )
    if ten is not None:
        yield from _timeline_cases(ten)
    yield "article detail", lambda: queries.article_get(slug=slug or "", viewer_id=viewer)
    if commented is not None:
        yield "comments", lambda: comment_list(article_id=commented, viewer_id=viewer)
    yield "profile", lambda: profile_get(username=prolific or "", viewer_id=viewer)
    yield "tags", queries.tag_list


def _timeline_cases(reader: int) -> Iterator[tuple[str, Callable[[], object]]]:
    """The timelines' reads and one-user writes on the database store, for ``reader`` (their
    timeline built first, inside the check's rolled-back transaction)."""
    store = DatabaseStore(size=800)
    newest = list(Article.objects.order_by("-id").values_list("id", flat=True)[:5])
    yield "timeline rebuild", lambda: timeline_writes.timeline_rebuild(user_id=reader)
    yield (
        "home feed from the timeline",
        lambda: timelines.home_feed(viewer_id=reader, limit=20, offset=0),
    )
    yield "timeline backfill", lambda: store.add(reader, newest)
    yield "timeline scrub", lambda: timeline_writes.timeline_scrub(user_id=reader)


class Command(BaseCommand):
    help = "EXPLAIN ANALYZE every list query; fail on a sequential scan or a big sort."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", help="also write the results to this file")
        parser.add_argument("--min-articles", type=int, default=0,
                            help="refuse to run on fewer articles (a plan on a tiny table "
                            "proves nothing)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("check_plans needs PostgreSQL (set DATABASE_URL)")
        articles = Article.objects.count()
        if articles < max(options["min_articles"], 1):
            raise CommandError(f"only {articles} articles: seed more with seed_bulk first")
        results: list[PlanResult] = []
        with transaction.atomic():
            for case, run in _cases():
                results.extend(_explain(case, run))
            if User.objects.count() > 1_000:
                for label, count, prolific in [
                    ("feed, following 10 quiet authors", 10, False),
                    ("feed, following 1,000 prolific authors", 1_000, True),
                ]:
                    reader = _follower_of(count, prolific=prolific)
                    read = partial(feed.article_feed, viewer_id=reader, limit=20, offset=0)
                    results.extend(_explain(label, read))
                    # A follow's backfill runs the rebuild's query (newest FEED_TIMELINE_SIZE).
                    followee = Follow.objects.filter(follower_id=reader).values("followee_id")
                    backfill = partial(timeline_writes.follow_backfill, follower_id=reader,
                                       followee_id=followee[0]["followee_id"])  # fmt: skip
                    results.extend(_explain(f"timeline backfill, {label[6:]}", backfill))
            transaction.set_rollback(True)
        failed = [r for r in results if r.problems]
        for r in results:
            mark = "FAIL" if r.problems else "ok  "
            self.stdout.write(f"{mark} {r.ms:8.2f} ms  {r.case}: {r.sql[:110]}")
            for problem in r.problems:
                self.stdout.write(f"       - {problem}")
        if options["json"]:
            with open(options["json"], "w") as out:
                json.dump([r.__dict__ for r in results], out, indent=2)
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} queries have plan problems")
        self.stdout.write(f"check_plans: {len(results)} queries on {articles:,} articles, all ok")
