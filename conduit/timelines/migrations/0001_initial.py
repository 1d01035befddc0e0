"""The timelines' tables. ``timelines_entry`` is hash-partitioned by ``user_id`` on PostgreSQL
(declarative partitioning, ``PARTITIONS`` partitions), a plain table elsewhere (SQLite)."""

from typing import Any

from django.db import migrations, models

PARTITIONS = 16


def create_entry_table(apps: Any, schema_editor: Any) -> None:
    columns = (
        "user_id bigint NOT NULL, article_id bigint NOT NULL, PRIMARY KEY (user_id, article_id)"
    )
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(f"CREATE TABLE timelines_entry ({columns})")
        return
    schema_editor.execute(f"CREATE TABLE timelines_entry ({columns}) PARTITION BY HASH (user_id)")
    for remainder in range(PARTITIONS):
        schema_editor.execute(
            f"CREATE TABLE timelines_entry_p{remainder} PARTITION OF timelines_entry "
            f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {remainder})"
        )


def drop_entry_table(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute("DROP TABLE timelines_entry")  # its partitions go with it


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Entry",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "user_id",
                                "article_id",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("user_id", models.BigIntegerField()),
                        ("article_id", models.BigIntegerField()),
                    ],
                    options={"db_table": "timelines_entry"},
                ),
            ],
            database_operations=[migrations.RunPython(create_entry_table, drop_entry_table)],
        ),
        migrations.CreateModel(
            name="MergedAuthor",
            fields=[
                ("user_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("since", models.DateTimeField(auto_now_add=True)),
            ],
            options={"db_table": "timelines_merged_author"},
        ),
    ]
