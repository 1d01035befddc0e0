"""Bulk, deterministic test data at scale: users, skewed follows, articles with Zipf-like tags,
favorites and comments, with every maintained counter consistent.

The rows never pass through the ORM or the services: at a million articles that would take hours.
They are generated in Python with a seeded RNG and streamed into the tables with PostgreSQL's
``COPY`` (foreign-key triggers off for the session: every id is generated here and consistent), or
with batched ``INSERT`` on SQLite. Counters are computed while generating and written with the
rows, and ``check_counters`` verifies them afterwards.
"""

import json
import random
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model
from tqdm import tqdm

from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
from conduit.comments.models import Comment
from conduit.profiles.models import Follow
from conduit.users.models import User

BULK_PASSWORD = "bench-password"  # noqa: S105 - the documented password of every bulk user
START = datetime(2020, 1, 1, tzinfo=UTC)

_WORD_TEXT = (
    "scaling django postgres queries cache latency index replica python async worker queue "
    "feed counter write read shard pool thread process memory profile trace metric deploy "
    "release rollback schema migration test browser page template render markdown token "
    "session cookie security review design pattern service selector model view router"
)
_WORDS = _WORD_TEXT.split()

_BODIES = [
    "# {title}\n\n{sentence}\n\n## Why it matters\n\n- {w1} before {w2}\n- measure, then change\n"
    "- keep the *{w3}* path short\n\n```python\ndef {w1}_{w2}():\n    return '{w3}'\n```\n\n"
    "{sentence} More on **{w2}** in a later post.\n",
    "{sentence}\n\n> {w1} is not {w2}.\n\n1. Read the plan.\n2. Add the index.\n3. Measure "
    "again.\n\nSee [the docs](https://docs.djangoproject.com/) for {w3}.\n",
    "## {title}\n\n{sentence} {sentence}\n\n| {w1} | {w2} |\n|---|---|\n| 1 | 2 |\n\n"
    "That is all about {w3} for today.\n",
]


@dataclass
class BulkPlan:
    users: int
    articles: int
    favorites: int
    comments: int
    follows_per_user: int = 10
    tags: int = 300
    seed: int = 42


@dataclass
class BulkReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _zipf_weights(n: int, s: float) -> list[float]:
    """Cumulative weights for ``random.choices``: rank 1 is the most popular."""
    total = 0.0
    cumulative = []
    for rank in range(1, n + 1):
        total += 1.0 / rank**s
        cumulative.append(total)
    return cumulative


def _distinct(rng: random.Random, k: int, pick: Callable[[], int], exclude: int = -1) -> set[int]:
    chosen: set[int] = set()
    attempts = 0
    while len(chosen) < k and attempts < k * 20:
        value = pick()
        attempts += 1
        if value != exclude:
            chosen.add(value)
    return chosen


class _Sink:
    """Writes rows to one table: COPY on PostgreSQL, executemany batches elsewhere."""

    def __init__(self, model: type[Model], columns: Sequence[str], progress: tqdm) -> None:
        self.table = model._meta.db_table
        self.columns = list(columns)
        self.progress = progress
        self.count = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                raw = cursor.cursor  # psycopg's own cursor, for COPY
                with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        self._tick()
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608
                batch: list[Sequence[Any]] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= 5_000:
                        cursor.executemany(sql, batch)
                        batch.clear()
                    self._tick()
                if batch:
                    cursor.executemany(sql, batch)
        return self.count

    def _tick(self) -> None:
        self.count += 1
        if self.count % 10_000 == 0:
            self.progress.update(10_000)


_TABLES: list[type[Model]] = [Comment, Favorite, ArticleTag, Article, Tag, Follow, User]


def reset() -> None:
    """Empty every Conduit table (the bulk seeder starts from nothing)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in _TABLES)
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            for model in _TABLES:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    SiteCounter.objects.update_or_create(name=SiteCounter.ARTICLES, defaults={"value": 0})


def _fix_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in _TABLES:
            table = model._meta.db_table
            biggest = f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}"  # noqa: S608
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST(({biggest}), 1))",
                [table],
            )


def seed(plan: BulkPlan, *, out: Callable[[str], None] = print) -> BulkReport:
    """Load ``plan`` into empty tables. Deterministic for a given ``plan.seed``."""
    rng = random.Random(plan.seed)  # noqa: S311 - reproducible data, not secrets
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

    user_articles = array("l", bytes(8 * (plan.users + 1)))
    user_favorites = array("l", bytes(8 * (plan.users + 1)))
    user_followers = array("l", bytes(8 * (plan.users + 1)))
    user_following = array("l", bytes(8 * (plan.users + 1)))
    article_favorites = array("l", bytes(8 * (plan.articles + 1)))
    tag_articles = array("l", bytes(8 * (plan.tags + 1)))

    user_ids = range(1, plan.users + 1)
    popular_users = _zipf_weights(plan.users, 1.1)  # followees and authors: a few very popular
    popular_articles = _zipf_weights(plan.articles, 0.8)
    popular_tags = _zipf_weights(plan.tags, 1.0)
    tag_names = [f"{_WORDS[i % len(_WORDS)]}-{i}" if i >= len(_WORDS) else _WORDS[i]
                 for i in range(plan.tags)]  # fmt: skip
    span = timedelta(days=5 * 365)
    step = span / max(plan.articles, 1)

    def pick_user() -> int:
        return rng.choices(user_ids, cum_weights=popular_users)[0]

    def follows() -> Iterator[tuple[Any, ...]]:
        row_id = 0
        for follower in user_ids:
            k = min(plan.users - 1, max(0, int(rng.expovariate(1 / plan.follows_per_user))))
            for followee in sorted(_distinct(rng, k, pick_user, exclude=follower)):
                row_id += 1
                user_followers[followee] += 1
                user_following[follower] += 1
                yield (row_id, follower, followee, START)

    article_authors = array("l", bytes(8 * (plan.articles + 1)))

    def articles() -> Iterator[tuple[Any, ...]]:
        authors = rng.choices(user_ids, cum_weights=popular_users, k=plan.articles)
        for i in range(1, plan.articles + 1):
            author = authors[i - 1]
            article_authors[i] = author
            user_articles[author] += 1
            w1, w2, w3 = rng.sample(_WORDS, 3)
            title = f"{w1.capitalize()} {w2} and {w3} #{i}"
            sentence = f"Notes on {w1}, {w2} and {w3}, from article {i}."
            body = rng.choice(_BODIES).format(title=title, sentence=sentence, w1=w1, w2=w2, w3=w3)
            n_tags = rng.randint(1, 5)
            tags = sorted(
                _distinct(
                    rng, n_tags, lambda: rng.choices(range(plan.tags), cum_weights=popular_tags)[0]
                )
            )
            for t in tags:
                tag_articles[t + 1] += 1
                article_tag_rows.append((i, t + 1))
            created = START + step * i
            yield (
                i, f"{w1}-{w2}-and-{w3}-{i}", title, f"What {w1} teaches about {w2}.", body,
                json.dumps([tag_names[t] for t in tags]), author, article_favorites[i], created,
                created,
            )  # fmt: skip

    article_tag_rows: list[tuple[int, int]] = []

    # Favorites are drawn before the articles are written, so that each article row carries its
    # final favorites_count (updating a million rows afterwards costs more than the whole load).
    fav_users = array("l")
    fav_articles = array("l")

    def draw_favorites() -> None:
        seen: set[int] = set()
        width = plan.articles + 1
        attempts = 0
        article_ids = range(1, plan.articles + 1)
        while len(fav_users) < plan.favorites and attempts < plan.favorites * 3:
            attempts += 1
            user = rng.randrange(1, plan.users + 1)
            article = rng.choices(article_ids, cum_weights=popular_articles)[0]
            key = user * width + article
            if key in seen:
                continue
            seen.add(key)
            fav_users.append(user)
            fav_articles.append(article)
            user_favorites[user] += 1
            article_favorites[article] += 1

    def favorites() -> Iterator[tuple[Any, ...]]:
        for row_id, (user, article) in enumerate(zip(fav_users, fav_articles, strict=True), 1):
            yield (row_id, user, article, START)

    def comments() -> Iterator[tuple[Any, ...]]:
        for i in range(1, plan.comments + 1):
            article = rng.choices(range(1, plan.articles + 1), cum_weights=popular_articles)[0]
            author = rng.randrange(1, plan.users + 1)
            created = START + step * article + timedelta(minutes=i % 997)
            yield (i, article, author, f"Comment {i}: {rng.choice(_WORDS)} is the point.",
                   created, created)  # fmt: skip

    password = make_password(BULK_PASSWORD)

    def users() -> Iterator[tuple[Any, ...]]:
        for i in user_ids:
            name = f"user{i}"
            yield (
                i, password, None, False, name, f"{name}@bench.conduit.local", name,
                f"{name}@bench.conduit.local", f"Bench user {i}." if i % 3 else None, None,
                False, True, START, user_articles[i], user_favorites[i], user_followers[i],
                user_following[i],
            )  # fmt: skip

    def load(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        count = _Sink(model, columns, progress).write(rows)
        report.rows[model._meta.db_table] = count

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Every id is generated consistently here; checking each foreign key row by
                # row would double the load time. Needs a superuser (the bench database's owner).
                cursor.execute("SET LOCAL session_replication_role = replica")
        load(Follow, ["id", "follower_id", "followee_id", "created_at"], follows())
        draw_favorites()
        load(
            Article,
            ["id", "slug", "title", "description", "body", "tag_list", "author_id",
             "favorites_count", "created_at", "updated_at"],
            articles(),
        )  # fmt: skip
        load(
            ArticleTag,
            ["id", "article_id", "tag_id"],
            ((n, a, t) for n, (a, t) in enumerate(article_tag_rows, start=1)),
        )
        load(Favorite, ["id", "user_id", "article_id", "created_at"], favorites())
        load(Comment, ["id", "article_id", "author_id", "body", "created_at", "updated_at"],
             comments())  # fmt: skip
        load(
            User,
            ["id", "password", "last_login", "is_superuser", "username", "email", "username_key",
             "email_key", "bio", "image", "is_staff", "is_active", "date_joined",
             "articles_count", "favorites_count", "followers_count", "following_count"],
            users(),
        )  # fmt: skip
        load(
            Tag,
            ["id", "name", "articles_count"],
            ((t + 1, tag_names[t], tag_articles[t + 1]) for t in range(plan.tags)),
        )
        SiteCounter.objects.update_or_create(
            name=SiteCounter.ARTICLES, defaults={"value": plan.articles}
        )
        _fix_sequences()
    progress.close()
    if connection.vendor == "postgresql":
        out("analyzing tables ...")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    report.seconds = time.monotonic() - started
    return report
