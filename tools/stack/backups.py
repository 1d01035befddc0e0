"""Backups of the stack's PostgreSQL with pgBackRest (ADR 0027): the repository and its config,
the stanza, a full backup when the stack starts, incremental ones on a schedule (a loop process
the stack records and stops like any other), and what `make backup-status` reports.

The repository lives under /tmp/conduit-stack-<hash>/pgbackrest/, beside the members' data and
not under var/stack/: PostgreSQL's archive_command runs as ``postgres``, which cannot enter a
checkout under /root. It is made fresh with the cluster at each `make stack` (a new cluster has a
new system identifier, which an old stanza refuses) and outlives `make stack-stop`, so
`make restore` works on a stopped stack until the next start.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import postgres  # tools/postgres.py

from . import patroni
from .backup_metrics import backup_metrics, write_textfile
from .configs import pgbackrest_conf
from .core import LOGS, PG_BASE, PY, ROOT, Stack, StackError, binary, load_state, spawn, wait_for
from .monitoring import TEXTFILE_DIR
from .status import members

STANZA = "conduit"
WORK_DIR = PG_BASE / "pgbackrest"  # pgbackrest.conf, repo/, log/, lock/
# Seconds between the scheduled incremental backups (the full one is taken at start).
INTERVAL = int(os.environ.get("STACK_BACKUP_INTERVAL", "3600"))


class BackupError(StackError):
    """pgBackRest failed; the message has its output."""


@dataclass(frozen=True)
class Repository:
    """A pgBackRest config, its repository and work directories, all under ``directory``."""

    directory: Path
    stanza: str = STANZA

    @property
    def config(self) -> Path:
        return self.directory / "pgbackrest.conf"

    @property
    def repo(self) -> Path:
        return self.directory / "repo"

    @property
    def archive(self) -> tuple[Path, str]:
        """What Patroni's archive_command needs (patroni.Cluster.archive)."""
        return self.config, self.stanza


def make_repository(
    directory: Path, members: list[tuple[Path, int, Path]], stanza: str = STANZA
) -> Repository:
    """A fresh, empty ``directory`` owned by postgres (who archives and backs up) with the
    rendered config for ``members`` (data directory, port, socket directory). The repository is
    encrypted (aes-256-cbc) with a passphrase made here, written only in the config, which only
    postgres (and root) may read (ADR 0033)."""
    if directory.exists():
        shutil.rmtree(directory)
    repository = Repository(directory, stanza)
    for sub in (directory, repository.repo, directory / "log", directory / "lock"):
        sub.mkdir(mode=0o750, parents=True)
        if os.geteuid() == 0:
            shutil.chown(sub, "postgres", "postgres")
    pgbackrest_conf(repository.config, repo=repository.repo, work_dir=directory, stanza=stanza,
                    members=members, cipher_pass=secrets.token_urlsafe(48))  # fmt: skip
    repository.config.chmod(0o600)
    if os.geteuid() == 0:
        shutil.chown(repository.config, "postgres", "postgres")
    return repository


def pgbackrest(
    repository: Repository, *args: str, console: str = "warn", timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``pgbackrest <args>`` as postgres on ``repository``'s stanza; BackupError on failure."""
    argv = [binary("pgbackrest"), f"--config={repository.config}",
            f"--stanza={repository.stanza}", f"--log-level-console={console}", *args]  # fmt: skip
    done = subprocess.run(
        postgres.as_postgres(argv), capture_output=True, text=True, check=False,
        cwd=repository.directory, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise BackupError(f"pgbackrest {' '.join(args)} failed ({done.returncode}): {output}")
    return done


def backup(repository: Repository, kind: str = "incr") -> float:
    """A backup from whichever member is the primary; seconds it took. An incremental or
    differential one with no full backup to build on is taken as a full one."""
    started = time.monotonic()
    pgbackrest(repository, "backup", f"--type={kind}")
    return time.monotonic() - started


def stanzas(repository: Repository) -> list[dict[str, Any]]:
    """pgBackRest's ``info --output=json``: a list of stanzas (here the one)."""
    return list(json.loads(pgbackrest(repository, "info", "--output=json").stdout))


def info(repository: Repository) -> dict[str, Any]:
    """The stanza's entry of ``stanzas``."""
    found = stanzas(repository)
    return dict(found[0]) if found else {}


def publish_metrics(repository: Repository, directory: Path = TEXTFILE_DIR) -> Path:
    """The repository's backups as the node exporter's textfile metrics (backup_metrics.py), read
    by the ``ConduitBackupTooOld`` alert and the dashboard: after every backup, whoever took it."""
    directory.mkdir(parents=True, exist_ok=True)
    return write_textfile(directory, "pgbackrest.prom", backup_metrics(stanzas(repository)))


# --- in make stack ------------------------------------------------------------------------------


def start(stack: Stack) -> None:
    """The full backup (the database is set up by now, so a restore replays little WAL), then
    the loop that takes an incremental one every STACK_BACKUP_INTERVAL seconds."""
    repository = Repository(WORK_DIR)
    print("== pgBackRest: full backup", end=" ... ", flush=True)
    print(f"{backup(repository, 'full'):.1f} s (repository {repository.repo})", flush=True)
    publish_metrics(repository)
    log = LOGS / "backups.log"
    argv = [str(PY), str(ROOT / "tools" / "stack"), "backup-loop", "--config",
            str(repository.config), "--interval", str(INTERVAL)]  # fmt: skip
    seen = log.stat().st_size if log.exists() else 0  # the log is appended to across starts
    pid = spawn(argv, log)
    # The loop and the pgbackrest it runs both name the config: stop finds either by it.
    stack.set(backups={"config": str(repository.config), "interval_seconds": INTERVAL})
    stack.record("backup-scheduler", pid, f"every {INTERVAL} s", log, str(repository.config),
                 "TERM")  # fmt: skip
    wait_for("the backup scheduler", lambda: b"scheduler: " in log.read_bytes()[seen:], log, pid,
             str(repository.config))  # fmt: skip


def loop(repository: Repository, interval: float) -> int:
    """Every ``interval`` seconds an incremental backup, one line of log each. SIGTERM stops
    the backup in progress (pgBackRest resumes or discards it next time) and the loop."""
    running: list[subprocess.Popen[str]] = []
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in running:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"{_now()} scheduler: an incremental backup every {interval:.0f} s", flush=True)
    next_run = time.monotonic() + interval
    while not stopping:
        if time.monotonic() < next_run:
            time.sleep(min(1.0, next_run - time.monotonic()))
            continue
        next_run = time.monotonic() + interval
        started = time.monotonic()
        argv = [binary("pgbackrest"), f"--config={repository.config}",
                f"--stanza={repository.stanza}", "--log-level-console=warn", "backup",
                "--type=incr"]  # fmt: skip
        child = subprocess.Popen(postgres.as_postgres(argv), cwd=repository.directory, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        running.append(child)
        output, _ = child.communicate()
        running.clear()
        took = time.monotonic() - started
        if child.returncode == 0:
            print(f"{_now()} incremental backup done in {took:.1f} s", flush=True)
        else:
            print(f"{_now()} incremental backup FAILED ({child.returncode}) after {took:.1f} s: "
                  f"{output.strip()}", flush=True)  # fmt: skip
        try:  # a failed backup too: the metrics then say how old the last good one is
            publish_metrics(repository)
        except (StackError, OSError, ValueError) as error:
            print(f"{_now()} backup metrics not written: {error}", flush=True)
    print(f"{_now()} scheduler: stopped", flush=True)
    return 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- status -------------------------------------------------------------------------------------


def leader_port() -> int | None:
    """The PostgreSQL port of the stack's leader now, None when no stack runs or none leads."""
    state = load_state()
    if not state or not state.get("patroni"):
        return None
    found = patroni.roles(members(state))
    ports = {m.name: m.pg_port for m in members(state)}
    return next((ports[name] for name, role in found.items() if role == "leader"), None)


ARCHIVER = (
    "SELECT json_build_object('archived_count', archived_count, 'last_archived_wal', "
    "last_archived_wal, 'last_archived_time', last_archived_time, 'failed_count', failed_count, "
    "'last_failed_wal', last_failed_wal, 'last_failed_time', last_failed_time) "
    "FROM pg_stat_archiver"
)


def archiver(port: int) -> dict[str, Any]:
    """PostgreSQL's own view of its archiving (pg_stat_archiver) on the member at ``port``, and
    ``failing``: the last attempt failed (a failure after the last success)."""
    found = dict(json.loads(patroni.psql(port, ARCHIVER)))
    failed, archived = found["last_failed_time"], found["last_archived_time"]
    found["failing"] = failed is not None and (archived is None or failed > archived)
    return found


def summary(repository: Repository, port: int | None) -> dict[str, Any]:
    """What `make backup-status JSON=1` prints: the stanza's status, each backup (label, type,
    start and stop as ISO times and Unix seconds, sizes), the last backup's stop time and age
    (an alert on "no backup for 26 h" reads ``last_backup_age_seconds``), the WAL range in the
    repository, and the leader's archiver (``archiver.failing`` for "the WAL archive fails"),
    null when no stack runs."""
    found = info(repository)
    backups = [
        {
            "label": b["label"],
            "type": b["type"],
            "start": _iso(b["timestamp"]["start"]),
            "stop": _iso(b["timestamp"]["stop"]),
            "stop_epoch": b["timestamp"]["stop"],
            "size_bytes": b["info"]["size"],
            "repo_size_bytes": b["info"]["repository"]["delta"],
            "wal_start": b["archive"]["start"],
            "wal_stop": b["archive"]["stop"],
        }
        for b in found.get("backup", [])
    ]
    last = backups[-1] if backups else None
    archives = found.get("archive", [])
    return {
        "stanza": repository.stanza,
        "repository": str(repository.repo),
        "status": found.get("status", {}).get("message", "missing"),
        "status_code": found.get("status", {}).get("code"),
        "backups": backups,
        "last_backup": last,
        "last_backup_age_seconds": round(time.time() - last["stop_epoch"]) if last else None,
        "wal_archive": {"min": archives[-1].get("min"), "max": archives[-1].get("max")}
        if archives
        else None,
        "archiver": archiver(port) if port else None,
        "schedule_seconds": schedule(),
    }


def schedule() -> int | None:
    """Seconds between the running stack's scheduled backups; None when no stack runs."""
    state = load_state()
    return state.get("backups", {}).get("interval_seconds") if state else None


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def print_summary(found: dict[str, Any]) -> None:
    print(f"stanza {found['stanza']}: {found['status']}  (repository {found['repository']})")
    rows = [["label", "type", "stopped (UTC)", "size", "in repository"]]
    rows += [[b["label"], b["type"], b["stop"][:19].replace("T", " "), _mb(b["size_bytes"]),
              _mb(b["repo_size_bytes"])] for b in found["backups"]]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    age = found["last_backup_age_seconds"]
    every = found["schedule_seconds"]
    print(
        f"last backup: {'none' if age is None else f'{age} s ago'}; "
        + (f"an incremental one every {every} s" if every else "no schedule (no stack runs)")
    )
    wal = found["wal_archive"]
    print(f"WAL in the repository: {wal['min']} .. {wal['max']}" if wal else "WAL: none archived")
    arch = found["archiver"]
    if arch is None:
        print("archiver: no leader (the stack is not running)")
    else:
        state = "FAILING" if arch["failing"] else "ok"
        print(f"archiver on the leader: {state}; last archived {arch['last_archived_wal']} at "
              f"{arch['last_archived_time']}; {arch['failed_count']} failures (last "
              f"{arch['last_failed_time'] or '-'})")  # fmt: skip


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def stack_repository() -> Repository:
    """The repository `make stack` made for this checkout."""
    repository = Repository(WORK_DIR)
    if not repository.config.exists():
        print(f"no pgBackRest repository at {WORK_DIR}: make stack makes one", file=sys.stderr)
        raise SystemExit(3)
    return repository
