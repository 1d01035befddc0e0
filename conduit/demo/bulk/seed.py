"""``seed``: load a ``BulkPlan`` into empty tables in one transaction, drawing the rows in the
order they depend on each other, so that each row is written once, with its final counters."""

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Model
from tqdm import tqdm

from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
from conduit.comments.models import Comment
from conduit.demo.bulk.counters import BulkCounters
from conduit.demo.bulk.plan import BULK_PASSWORD, BulkPlan, BulkReport
from conduit.demo.bulk.rows import (
    ARTICLE_COLUMNS,
    ARTICLE_TAG_COLUMNS,
    COMMENT_COLUMNS,
    FAVORITE_COLUMNS,
    FOLLOW_COLUMNS,
    TAG_COLUMNS,
    USER_COLUMNS,
    BulkRows,
)
from conduit.demo.bulk.writer import Sink, analyze, fix_sequences, foreign_key_triggers_off
from conduit.profiles.models import Follow
from conduit.users.models import User


def seed(plan: BulkPlan, *, out: Callable[[str], None] = print) -> BulkReport:
    """Load ``plan`` into empty tables. Deterministic for a given ``plan.seed``."""
    report = BulkReport()
    started = time.monotonic()
    expected = (
        plan.users * (2 + plan.follows_per_user)
        + plan.articles * 4
        + plan.favorites
        + plan.comments
        + plan.tags
    )
    progress = tqdm(total=expected, unit="rows", unit_scale=True, desc="seed_bulk", mininterval=1)
    counters = BulkCounters(plan)
    rows = BulkRows(plan, counters)
    password = make_password(BULK_PASSWORD)

    def load(
        model: type[Model], columns: Sequence[str], table_rows: Iterable[Sequence[Any]]
    ) -> None:
        count = Sink(model, columns, progress).write(table_rows)
        report.rows[model._meta.db_table] = count

    with transaction.atomic():
        foreign_key_triggers_off()
        load(Follow, FOLLOW_COLUMNS, rows.follows())
        # Favorites are drawn before the articles are written, so that each article row carries
        # its final favorites_count (updating a million rows afterwards costs more than the load).
        rows.draw_favorites()
        load(Article, ARTICLE_COLUMNS, rows.articles())
        load(ArticleTag, ARTICLE_TAG_COLUMNS, rows.article_tags())
        load(Favorite, FAVORITE_COLUMNS, rows.favorites())
        load(Comment, COMMENT_COLUMNS, rows.comments())
        load(User, USER_COLUMNS, rows.users(password))
        load(Tag, TAG_COLUMNS, rows.tags())
        SiteCounter.objects.update_or_create(
            name=SiteCounter.ARTICLES, defaults={"value": plan.articles}
        )
        fix_sequences()
    progress.close()
    analyze(out)
    report.seconds = time.monotonic() - started
    return report
