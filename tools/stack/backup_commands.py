"""The backup commands of tools/stack (ADR 0027), behind `make backup`, `make backup-status` and
`make restore`:

    tools/stack backup [--type incr|diff|full]       # incr: a full one when none exists
    tools/stack backup-status [--json]               # pgBackRest info, the archiver's state
    tools/stack restore --target TIME|latest [--keep] [--json]
    tools/stack backup-loop --config FILE --interval SECONDS   # make stack runs it

``restore`` restores into a scratch cluster under /tmp/conduit-stack-<hash>/restore-*/ on
STACK_RESTORE_PORT (0, the default: a free port), prints the row count of every table and the
checksum of a sample, then stops and deletes it; ``--keep`` leaves it running and says how to stop
it. It first asks the leader, when the stack runs, to archive its current WAL, so ``latest`` and a
recent time include the last commits.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
from pathlib import Path

from . import backups, restore
from .core import PG_BASE, StackError

COMMANDS = {"backup", "backup-status", "restore", "backup-loop"}


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="tools/stack", description=__doc__)
    sub = found.add_subparsers(dest="command", required=True)
    one = sub.add_parser("backup")
    one.add_argument("--type", choices=["incr", "diff", "full"], default="incr")
    one = sub.add_parser("backup-status")
    one.add_argument("--json", action="store_true")
    one = sub.add_parser("restore")
    one.add_argument("--target", required=True, help="an ISO time (local unless a zone is given) "
                                                     "or latest")  # fmt: skip
    one.add_argument("--keep", action="store_true", help="leave the scratch cluster running")
    one.add_argument("--json", action="store_true")
    one = sub.add_parser("backup-loop")
    one.add_argument("--config", type=Path, required=True)
    one.add_argument("--interval", type=float, required=True)
    return found


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "backup-loop":
            return backups.loop(backups.Repository(args.config.parent), args.interval)
        repository = backups.stack_repository()
        if args.command == "backup":
            seconds = backups.backup(repository, args.type)
            backups.publish_metrics(repository)
            last = backups.info(repository)["backup"][-1]
            print(f"{last['type']} backup {last['label']} in {seconds:.1f} s")
            return 0
        if args.command == "backup-status":
            found = backups.summary(repository, backups.leader_port())
            if args.json:
                print(json.dumps(found, indent=2))
            else:
                backups.print_summary(found)
            return 0 if found["backups"] else 1
        return run_restore(repository, args.target, keep=args.keep, as_json=args.json)
    except (StackError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"{args.command} failed: {error}", flush=True)
        return 1


def run_restore(repository: backups.Repository, target: str, *, keep: bool, as_json: bool) -> int:
    try:
        if target != "latest":
            restore.target_time(target)  # a typo fails here, before any copying
    except ValueError:
        print(f'TARGET must be latest or an ISO time like "2026-12-05 10:31:07", not {target!r}')
        return 2
    if not restore.archive_current_wal(repository) and not as_json:
        print("no running leader: restoring from what the repository has archived")
    port = int(os.environ.get("STACK_RESTORE_PORT", "0"))
    done = restore.restore(repository, target, base=PG_BASE, port=port, keep=keep)
    if as_json:
        document = dataclasses.asdict(done)
        document["data_dir"] = str(done.data_dir)
        print(json.dumps(document, indent=2))
        return 0
    print(f"restored to {done.target} from backup set {done.backup_set}: pgBackRest "
          f"{done.restore_seconds:.1f} s, recovery {done.recovery_seconds:.1f} s")  # fmt: skip
    width = max((len(name) for name in done.tables), default=5)
    print(f"\n  {'table'.ljust(width)}  rows")
    for name, count in done.tables.items():
        print(f"  {name.ljust(width)}  {count}")
    print(f"\nmd5 of the first {restore.SAMPLE_ROWS} rows by id:")
    for name, checksum in done.checksums.items():
        print(f"  {name.ljust(width)}  {checksum}")
    if done.kept:
        print(f"\nthe scratch cluster runs on 127.0.0.1:{done.port} (pid {done.pid}), data in "
              f"{done.data_dir}:\n  psql -h 127.0.0.1 -p {done.port} -U postgres conduit\n"
              f"  stop it: kill -INT {done.pid} && rm -rf {done.data_dir.parent}")  # fmt: skip
    else:
        print("\nthe scratch cluster is stopped and deleted (KEEP=1 keeps it)")
    return 0
