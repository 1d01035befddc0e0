"""`make restore TARGET=<time>|latest`: a point-in-time restore from the pgBackRest repository
into a scratch cluster on a free port, never onto the live members (ADR 0027; the live cluster's
restore is a runbook in docs/operations.md). It prints the row count of every table of the app's
schema and a checksum of a sample, then stops the scratch cluster and deletes it (``--keep``
leaves it running for a closer look).

The scratch cluster runs with ``archive_mode=off``: it is promoted onto a new timeline, and its
history file must not reach the repository the live cluster archives to.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import postgres  # tools/postgres.py

from .backups import BackupError, Repository, pgbackrest
from .core import pid_alive, stop_pid

SCHEMA = "public"
# Sampled for the checksum: the first rows by primary key of the tables most else depends on.
SAMPLE_TABLES = ("users_user", "articles_article")
SAMPLE_ROWS = 100


@dataclass
class Restored:
    target: str  # "latest" or the recovery target time given to PostgreSQL
    backup_set: str
    data_dir: Path
    port: int
    pid: int  # the scratch postmaster (gone unless kept)
    restore_seconds: float  # pgBackRest copying the backup
    recovery_seconds: float  # PostgreSQL replaying WAL up to the target
    tables: dict[str, int] = field(default_factory=dict)  # row counts
    checksums: dict[str, str] = field(default_factory=dict)  # md5 of the sample, by table
    kept: bool = False


def target_time(text: str) -> str:
    """A TARGET as PostgreSQL's recovery_target_time: an ISO time (``2026-12-05 10:31:07``,
    ``...T10:31:07.5+01:00``); one without a zone is this machine's local time. ValueError
    when it is not a time."""
    found = datetime.fromisoformat(text.strip())
    if found.tzinfo is None:
        found = found.astimezone()
    return found.isoformat(sep=" ")


def archive_current_wal(repository: Repository) -> bool:
    """Ask the primary to switch WAL and wait until the segment is archived (pgBackRest's
    ``check``), so the archive holds what was committed until now. False when no primary
    answers (a stopped stack: the archive is what it is)."""
    try:
        pgbackrest(repository, "check", timeout=90)
    except (BackupError, subprocess.TimeoutExpired):
        return False
    return True


def restore(
    repository: Repository,
    target: str,
    *,
    base: Path,
    port: int = 0,
    dbname: str = postgres.DB_NAME,
    keep: bool = False,
    timeout: float = 300,
) -> Restored:
    """Restore ``repository`` to ``target`` (``latest``: the end of the archive; else a time)
    into a fresh directory under ``base`` (postgres must be able to enter it), start it on
    ``port`` (0: a free one), wait until it is promoted, count and checksum ``dbname``'s rows,
    and (unless ``keep``) stop it and delete its directory, even when something failed."""
    options = ["--archive-mode=off"]
    if target != "latest":
        target = target_time(target)
        options += ["--type=time", f"--target={target}", "--target-action=promote"]
    scratch = Path(tempfile.mkdtemp(prefix="restore-", dir=base))
    data_dir = scratch / "data"
    data_dir.mkdir(mode=0o700)
    scratch.chmod(0o700)
    if os.geteuid() == 0:
        for path in (scratch, data_dir):
            shutil.chown(path, "postgres", "postgres")
    restored = Restored(target, "", data_dir, port or postgres.free_port(), 0, 0, 0)
    try:
        started = time.monotonic()
        done = pgbackrest(repository, "restore", f"--pg1-path={data_dir}", *options,
                          console="info")  # fmt: skip
        restored.restore_seconds = time.monotonic() - started
        found = re.search(r"restore backup set ([^\s,]+)", done.stdout)
        restored.backup_set = found.group(1) if found else "?"
        started = time.monotonic()
        restored.pid = start_scratch(data_dir, restored.port)
        wait_promoted(restored, timeout)
        restored.recovery_seconds = time.monotonic() - started
        restored.tables = row_counts(restored.port, dbname)
        restored.checksums = sample_checksums(restored.port, dbname)
        restored.kept = keep
    finally:
        if not restored.kept:
            discard(restored)
    return restored


def discard(restored: Restored) -> None:
    """Stop a restored scratch cluster (if it runs) and delete its directory."""
    if restored.pid:
        stop_pid(restored.pid, signal.SIGINT, str(restored.data_dir), timeout=30)
    shutil.rmtree(restored.data_dir.parent, ignore_errors=True)


def start_scratch(data_dir: Path, port: int) -> int:
    """The restored cluster's postmaster as postgres, on loopback ``port``, its socket and log
    beside ``data_dir``. The settings that name the member it was backed up from (its port,
    socket directory, pg_hba path, synchronous standby) are overridden; archiving is off."""
    scratch = data_dir.parent
    options = [
        f"port={port}", "listen_addresses=127.0.0.1", f"unix_socket_directories={scratch}",
        f"hba_file={data_dir}/pg_hba.conf", f"ident_file={data_dir}/pg_ident.conf",
        "archive_mode=off", "synchronous_standby_names=", "cluster_name=conduit-restore",
        "shared_buffers=128MB",
        # Nobody queries it before its promotion; and a hot standby refuses to recover unless
        # max_connections and its kin are at least the backed-up server's (tools/postgres.py
        # sets them on its command line, which a restore does not carry over).
        "hot_standby=off",
    ]  # fmt: skip
    argv = [str(postgres.PG_BIN / "postgres"), "-D", str(data_dir)]
    for option in options:
        argv += ["-c", option]
    with open(scratch / "postgres.log", "ab") as log:
        proc = subprocess.Popen(
            postgres.as_postgres(argv), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=scratch,
        )  # fmt: skip
    return proc.pid  # setpriv replaces itself: the postmaster's PID


def psql(port: int, sql: str, dbname: str, **variables: str) -> str:
    """``sql`` run by psql on the scratch cluster, with ``variables`` as psql's ``:'name'``
    (quoted by psql, never pasted into the text)."""
    argv = [str(postgres.PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            "-d", dbname, "-XAtq", "-v", "ON_ERROR_STOP=1", "-f", "-"]  # fmt: skip
    for name, value in variables.items():
        argv += ["-v", f"{name}={value}"]
    done = subprocess.run(argv, input=sql, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


def wait_promoted(restored: Restored, timeout: float) -> None:
    """Until recovery has reached its target and the cluster left recovery; BackupError with
    the end of its log when the postmaster exits (a target past the archive's end does that:
    PostgreSQL refuses to end recovery before the target)."""
    log = restored.data_dir.parent / "postgres.log"
    deadline = time.monotonic() + timeout
    while True:
        if not pid_alive(restored.pid, str(restored.data_dir)):
            tail = log.read_text(errors="replace")[-1500:]
            hint = ""
            if "before configured recovery target was reached" in tail:
                hint = (" (the archive ends before the target: no commit after it has been "
                        "archived yet; TARGET=latest restores everything archived)")  # fmt: skip
            raise BackupError(f"the restored cluster exited during recovery{hint}:\n{tail}")
        try:
            if psql(restored.port, "SELECT pg_is_in_recovery()", "postgres") == "f":
                return
        except subprocess.CalledProcessError:
            pass  # not accepting connections yet
        if time.monotonic() > deadline:
            raise BackupError(f"the restored cluster still in recovery after {timeout:.0f} s; "
                              f"see {log}")  # fmt: skip
        time.sleep(0.2)


# Each table's exact count and the sample's checksum: the statements are made server-side by
# format() from the catalogue's names, so any name is quoted right.
ROW_COUNTS = """
SELECT c.relname, (xpath('/row/n/text()', query_to_xml(
    format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :'schema' AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""
CHECKSUMS = r"""
SELECT t.name, (xpath('/row/m/text()', query_to_xml(format(
    'SELECT md5(coalesce(string_agg(s::text, E''\n'' ORDER BY s.id), '''')) AS m '
    'FROM (SELECT * FROM %I.%I ORDER BY id LIMIT %s) s', :'schema', t.name, :'rows'),
    false, true, '')))[1]
FROM unnest(string_to_array(:'tables', ',')) t(name)
WHERE to_regclass(format('%I.%I', :'schema', t.name)) IS NOT NULL ORDER BY t.name
"""


def row_counts(port: int, dbname: str) -> dict[str, int]:
    """Every table of the app's schema with its exact row count, by name."""
    rows = psql(port, ROW_COUNTS, dbname, schema=SCHEMA).splitlines()
    return {name: int(count) for name, count in (row.split("|") for row in rows)}


def sample_checksums(port: int, dbname: str) -> dict[str, str]:
    """md5 of the first SAMPLE_ROWS rows (as text, by primary key) of each of SAMPLE_TABLES
    that exists: equal on two clusters when those rows are equal."""
    rows = psql(port, CHECKSUMS, dbname, schema=SCHEMA, rows=str(SAMPLE_ROWS),
                tables=",".join(SAMPLE_TABLES)).splitlines()  # fmt: skip
    return dict(_pair(row) for row in rows)


def _pair(row: str) -> tuple[str, str]:
    name, value = row.split("|", 1)
    return name, value
