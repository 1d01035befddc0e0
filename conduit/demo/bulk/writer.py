"""Writing the bulk rows straight into the tables: ``COPY`` on PostgreSQL, batched ``INSERT``
elsewhere; and what loading around the ORM needs: emptying the tables first, foreign-key
triggers off during the load, the id sequences and the planner's statistics after it."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model
from tqdm import tqdm

from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
from conduit.comments.models import Comment
from conduit.profiles.models import Follow
from conduit.users.models import User

_TABLES: list[type[Model]] = [Comment, Favorite, ArticleTag, Article, Tag, Follow, User]


class Sink:
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


def foreign_key_triggers_off() -> None:
    """For the rest of the transaction, on PostgreSQL."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Every id is generated consistently here; checking each foreign key row by
        # row would double the load time. Needs a superuser (the bench database's owner).
        cursor.execute("SET LOCAL session_replication_role = replica")


def fix_sequences() -> None:
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


def analyze(out: Callable[[str], None]) -> None:
    if connection.vendor != "postgresql":
        return
    out("analyzing tables ...")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
