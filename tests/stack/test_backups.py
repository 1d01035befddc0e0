"""Backups and point-in-time recovery with pgBackRest, as `make stack` and `make restore` run them
(tools/stack/backups.py, restore.py, ADR 0027), on a plain PostgreSQL that archives its WAL the
way a Patroni member does (the same archive_command): rows are written, backed up, more rows
written, the time T noted, and the table dropped by mistake. `make restore`'s code restores to T
into a scratch cluster, which must have every row and the same checksum; restored to the latest
archived WAL instead, the table must be gone (what was restored is the instant, not the end)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import postgres  # tools/postgres.py (tests/stack/conftest.py puts tools/ on sys.path)
import pytest

from tests.services import free_port, require_binary
from tests.stack.conftest import processes_naming, stack

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]

psql = stack.patroni.psql


@dataclass
class Archived:
    base: Path
    port: int
    repository: stack.backups.Repository


@pytest.fixture
def archived() -> Iterator[Archived]:
    """PostgreSQL on a free port archiving every WAL segment to a fresh pgBackRest repository
    with its stanza made; everything under a new /tmp directory (postgres cannot enter pytest's),
    stopped by PID and deleted afterwards, and the test fails if a process is left."""
    require_binary("pgbackrest", "pgbackrest")
    base = Path(tempfile.mkdtemp(prefix="conduit-backup-test-", dir="/tmp"))
    base.chmod(0o755)
    server, port = base / "pg", free_port()
    repository = stack.backups.make_repository(
        base / "pgbackrest", [(server / "data", port, server)], stanza="test"
    )
    command = stack.archive_command(repository.config, repository.stanza, server / "data")
    try:
        postgres.start(server, port, fast=False, fresh=True,
                       settings={"archive_mode": "on", "archive_command": command})  # fmt: skip
        stack.backups.pgbackrest(repository, "stanza-create")
        yield Archived(base, port, repository)
    finally:
        postgres.stop(server)
        left = processes_naming(base)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)
        assert left == [], f"left running: {left}"


def test_a_dropped_table_is_restored_to_the_instant_before_the_mistake(
    archived: Archived,
) -> None:
    port, repository = archived.port, archived.repository
    # users_user: one of the tables make restore checksums a sample of.
    psql(port, "CREATE TABLE users_user (id serial PRIMARY KEY, username text NOT NULL)", "conduit")
    psql(port, "INSERT INTO users_user (username) SELECT 'before-' || i "
               "FROM generate_series(1, 200) i", "conduit")  # fmt: skip
    before = time.time()
    stack.backups.backup(repository, "full")
    metrics = stack.backups.publish_metrics(repository, archived.base / "textfile").read_text()
    name = "pgbackrest_backup_last_completed_timestamp_seconds{"
    completed = [line for line in metrics.splitlines() if line.startswith(name)]
    assert len(completed) == 1  # the stanza's, for ConduitBackupTooOld
    assert float(completed[0].rsplit(" ", 1)[1]) >= int(before)
    # pgBackRest keeps a backup's stop time in whole seconds and restores to a time only from a
    # backup that stopped before it: a target in the backup's own second finds none.
    time.sleep(1.0)
    psql(port, "INSERT INTO users_user (username) SELECT 'after-' || i "
               "FROM generate_series(1, 50) i", "conduit")  # fmt: skip
    expected = stack.restore.sample_checksums(port, "conduit")
    time.sleep(0.1)  # the commits' timestamps, T and the drop's: strictly in that order
    target = datetime.now(UTC).isoformat()
    time.sleep(0.1)
    psql(port, "DROP TABLE users_user", "conduit")  # the mistake
    assert stack.restore.archive_current_wal(repository)  # the drop reaches the archive too

    restored = stack.restore.restore(repository, target, base=archived.base, dbname="conduit")

    assert restored.tables == {"users_user": 250}
    assert restored.checksums == expected
    assert restored.backup_set.endswith("F")  # the full backup, and the WAL after it
    assert not restored.data_dir.parent.exists()  # stopped and deleted

    latest = stack.restore.restore(repository, "latest", base=archived.base, dbname="conduit")

    assert latest.tables == {}  # the end of the archive has the mistake in it


def test_a_target_past_the_end_of_the_archive_is_an_error_not_a_silent_restore(
    archived: Archived,
) -> None:
    port, repository = archived.port, archived.repository
    psql(port, "CREATE TABLE users_user (id serial PRIMARY KEY)", "conduit")
    stack.backups.backup(repository, "full")
    tomorrow = datetime.fromtimestamp(time.time() + 86400, UTC).isoformat()

    with pytest.raises(stack.backups.BackupError, match="archive ends before the target"):
        stack.restore.restore(repository, tomorrow, base=archived.base, dbname="conduit")

    assert [p for p in archived.base.iterdir() if p.name.startswith("restore-")] == []


def test_the_repository_is_encrypted_at_rest(archived: Archived) -> None:
    # make stack's repositories are made by the same make_repository (ADR 0033): AES-256 under a
    # passphrase that only the config, readable by postgres alone, holds.
    port, repository = archived.port, archived.repository
    psql(port, "CREATE TABLE secret_notes (body text)", "conduit")
    rows = "SELECT 'plain-marker-' || g FROM generate_series(1, 500) g"
    psql(port, f"INSERT INTO secret_notes {rows}", "conduit")
    stack.backups.backup(repository, "full")
    info = json.loads(stack.backups.pgbackrest(repository, "info", "--output=json").stdout)
    assert info[0]["cipher"] == "aes-256-cbc"
    assert (repository.config.stat().st_mode & 0o777) == 0o600
    files = [p for p in repository.repo.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert b"plain-marker-" not in data, path
        assert not data.startswith(b"[backrest]"), path  # pgBackRest's info files, unencrypted


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-12-05 10:31:07+00:00", "2026-12-05 10:31:07+00:00"),
        ("2026-12-05T10:31:07.250+01:00", "2026-12-05 10:31:07.250000+01:00"),
    ],
)
def test_a_target_time_is_given_to_postgresql_with_its_zone(given: str, expected: str) -> None:
    assert stack.restore.target_time(given) == expected


def test_a_target_time_without_a_zone_is_this_machines_local_time() -> None:
    found = datetime.fromisoformat(stack.restore.target_time("2026-12-05 10:31:07"))

    assert found.utcoffset() is not None
    assert found.strftime("%Y-%m-%d %H:%M:%S") == "2026-12-05 10:31:07"


def test_a_target_that_is_not_a_time_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid isoformat"):
        stack.restore.target_time("yesterday")
