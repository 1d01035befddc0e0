"""Migrations the release before them still works with (docs/deploy.md "Expand, then contract"):
during a rollout and after a rollback, the previous release serves on the migrated schema, so a
migration adds what the old code can ignore and renames nothing. Checked on the migration files,
so no database is needed."""

from typing import Any

import pytest
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.models.fields import NOT_PROVIDED

# Applied before this check existed; each is a known window of errors, not an example.
KNOWN = {
    # token_version NOT NULL, Django drops the Python default after adding it: the previous
    # release's sign-ups fail until its pods are gone (docs/deploy.md shows the SQL).
    ("users", "0002_user_token_version"),
}


def problems(operation: Any) -> list[str]:
    if isinstance(operation, migrations.RenameField | migrations.RenameModel):
        return [f"{type(operation).__name__}: the previous release still uses the old name"]
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if field.many_to_many or field.null or field.db_default is not NOT_PROVIDED:
            return []
        if isinstance(field, models.GeneratedField):
            return []
        return [
            f"AddField {operation.model_name}.{operation.name}: NOT NULL without db_default, "
            "so the previous release's INSERTs fail (give it db_default= or null=True)"
        ]
    return []


def conduit_migrations() -> dict[tuple[str, str], Any]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {key: m for key, m in loader.disk_migrations.items() if key[0] != "contenttypes"}


def test_every_migration_is_expand_safe() -> None:
    found = {}
    for key, migration in sorted(conduit_migrations().items()):
        if migration.initial or key in KNOWN:
            continue
        module = type(migration).__module__
        if not module.startswith("conduit."):
            continue  # Django's and the libraries' own
        found[key] = [p for op in migration.operations for p in problems(op)]
    assert found, "the scan finds conduit's migrations"
    assert not {k: v for k, v in found.items() if v}


def test_the_known_exceptions_still_exist_and_are_still_unsafe() -> None:
    migrations_on_disk = conduit_migrations()
    for key in KNOWN:
        assert any(problems(op) for op in migrations_on_disk[key].operations), key


@pytest.mark.parametrize(
    ("operation", "unsafe"),
    [
        (migrations.AddField("user", "x", models.IntegerField(default=0)), True),
        (migrations.AddField("user", "x", models.IntegerField(default=0, db_default=0)), False),
        (migrations.AddField("user", "x", models.IntegerField(null=True)), False),
        (migrations.RenameField("user", "bio", "about"), True),
        (migrations.RemoveField("user", "bio"), False),  # a contract step: a later release
    ],
)
def test_the_check_tells_expand_from_break(operation: Any, unsafe: bool) -> None:
    assert bool(problems(operation)) is unsafe
