"""`make drill pitr`: a table dropped by mistake on the live cluster under load, then restored to
the instant before the mistake from pgBackRest's backup and WAL archive, into a scratch cluster
(`make restore`'s code, tools/stack/restore.py), and its rows checked against what they were.

The mistake is made on a table of the drill's own (``drill_pitr``, 1,000 rows of random text), not
on one of the app's, so the drill leaves the stack's data as it found it. The target is the
leader's clock read a second after the rows were written and a second before the drop.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import postgres  # tools/postgres.py
import psycopg
from stack import backups, core, restore  # tools/stack/

from .faults import Clock, Drill, DrillError

TABLE = "drill_pitr"  # the statements below name it
ROWS = 1000
CHECKSUM = "SELECT count(*), md5(string_agg(id || ':' || note, ',' ORDER BY id)) FROM drill_pitr"


def make_mistake(status: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """The table written on the leader (through the stack's DATABASE_URL), the target time taken,
    then the table dropped: what ``verify`` needs to know."""
    with psycopg.connect(status["env"]["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS drill_pitr")
        connection.execute("CREATE TABLE drill_pitr (id int PRIMARY KEY, note text NOT NULL)")
        connection.execute(
            "INSERT INTO drill_pitr SELECT i, md5(random()::text) FROM generate_series(1, %s) i",
            [ROWS],
        )
        count, checksum = connection.execute(CHECKSUM).fetchone() or (0, "")
        time.sleep(1.0)
        target = connection.execute("SELECT clock_timestamp()").fetchone()
        time.sleep(1.0)
        injected = clock()
        connection.execute("DROP TABLE drill_pitr")
    if target is None:
        raise DrillError("the leader did not tell its time")
    return {"injected_at_s": round(injected, 3), "table": TABLE, "rows": count,
            "checksum": checksum, "target": target[0].isoformat(sep=" ")}  # fmt: skip


def verify(fault: dict[str, Any]) -> dict[str, Any]:
    """Restore to the fault's target into a scratch cluster, read the table there, and say whether
    every row came back as it was; the scratch cluster is stopped and deleted afterwards."""
    if "target" not in fault:
        return {"restored": False, "error": "no mistake was made"}
    repository = backups.stack_repository()
    archived = restore.archive_current_wal(repository)  # the drop's WAL reaches the archive
    started = time.monotonic()
    done = restore.restore(repository, fault["target"], base=core.PG_BASE, keep=True)
    try:
        found = restore.psql(done.port, CHECKSUM, postgres.DB_NAME).split("|")
    except subprocess.CalledProcessError:  # no such table: restored to before it, or not at all
        found = ["0", ""]
    finally:
        restore.discard(done)
    rows, checksum = int(found[0]), found[1]
    return {
        "restored": True,
        "wal_archived_first": archived,
        "backup_set": done.backup_set,
        "restore_s": round(done.restore_seconds, 1),
        "recovery_s": round(done.recovery_seconds, 1),
        "total_s": round(time.monotonic() - started, 1),
        "rows_expected": fault["rows"],
        "rows_restored": rows,
        "rows_lost": fault["rows"] - rows,
        "checksum_matches": checksum == fault["checksum"],
    }


DRILL = Drill("pitr", "a table dropped by mistake on the leader, then restored to the instant "
              "before the drop into a scratch cluster (pgBackRest)", make_mistake)  # fmt: skip
