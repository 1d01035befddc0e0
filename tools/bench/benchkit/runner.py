"""``bench.py run``: undoes an interrupted run's writes, picks its inputs from the database
through the ORM (the most popular tag, a typical author, a heavy favoriter, a reader following
~10 authors, 1,000 random articles and users, the writers and the hot article and author), mints
its users' tokens, captures ``GET /api/articles`` for the read references and makes the
``bare_write`` reference's tables, runs wrk once per reference and scenario (benchkit/load.py),
undoes its writes, drops those tables and writes the result document
(``bench/results/<commit>-<size>.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchkit import REPO, RESULTS, bare_write, report
from benchkit.cleanup import remember_bio, undo_writes
from benchkit.dataset import (
    ACTORS,
    MARKER,
    RNG_SEED,
    Actors,
    Inputs,
    dataset_counts,
    pick_actors,
    pick_inputs,
    run_check_plans,
)  # fmt: skip
from benchkit.facts import commit_info, database_info, machine_info, package_version, wrk_version
from benchkit.load import Load
from benchkit.net import http, loopback_only, wait_until_up
from benchkit.scenarios import READ, WRITE, all_scenarios, feed_readers, selected
from benchkit.tokens import tokens_for

Entry = dict[str, Any]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir: Path = args.run_dir
        self.run_id = f"{os.getpid()}-{int(time.time())}"
        self.load = Load(args)
        self.base, self.nginx = self.load.base, self.load.nginx
        self.db: dict[str, Any] = {}  # the database's version and settings (prepare)
        # update_user's actor's bio, kept next to the database: a run cut short leaves it there
        # for the next run's clean-up.
        self.restore = (
            Path(args.pg_dir) / "bench-restore.json"
            if args.pg_dir
            else REPO / "var" / "bench" / "restore.json"
        )

    def variant(self) -> dict[str, Any]:
        args = self.args
        return {
            "cache": args.cache,
            "replica": bool(args.replica),
            "db": args.db,
            "redis_killed": bool(args.redis_kill),
            "broker": args.broker,
            "tracing": bool(args.tracing),
            "timelines": args.timelines,
            # FEED_HEAD_SECONDS=0 in the environment (the app's too): every feed read asks
            # the stores for its timeline's head, as one whose head a write renewed does.
            "feed_heads": os.environ.get("FEED_HEAD_SECONDS", "").strip() != "0",
        }

    def prepare(self) -> tuple[Inputs, dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The inputs (after undoing an interrupted run's writes), the query-plan check and the
        data set's size; makes the bare_write reference's tables, and closes the bench's
        database connection, idle during the load."""
        from django.db import connection

        actors = pick_actors()
        bare_write.drop()  # an interrupted run's
        leftovers = undo_writes(actors, self.restore)
        if any(v for k, v in leftovers.items() if k != "counter_drift"):
            print(f"undid an interrupted run's writes: {leftovers}", flush=True)
        inputs = pick_inputs(actors)
        remember_bio(actors.update_actor, self.restore)
        bare_write.create()
        check_plans = run_check_plans(self.run_dir)
        size = {"name": self.args.size, **dataset_counts(), "reused": bool(self.args.reused)}
        marker = Path(self.args.pg_dir or "/nonexistent") / MARKER
        if marker.exists():
            size["seeded"] = json.loads(marker.read_text())
        self.db = database_info()
        connection.close()  # idle during the load: it would only hold a server slot
        return inputs, leftovers, check_plans, size

    def finish(self, inputs: Inputs) -> dict[str, Any]:
        """Undo the run's writes and drop the bare_write tables."""
        from django.db import connection

        print("undoing the bench's writes ...", flush=True)
        undone = undo_writes(
            inputs.actors, self.restore,
            users=[*inputs.follow_usernames, inputs.hot_author],
            articles=[*inputs.favorite_slugs, inputs.hot_article],
        )  # fmt: skip
        bare_write.drop()
        connection.close()
        return undone

    def capture(self) -> bytes:
        """``GET /api/articles``, as the two read references serve it."""
        from conduit.platform.http.bench import bare_body_path

        status, captured = http("GET", f"{self.base}/api/articles")
        if status != 200:
            sys.exit(f"GET /api/articles answered {status}")
        Path(self.args.www, "api", "articles").write_bytes(captured)
        bare_file = bare_body_path()
        bare_file.parent.mkdir(parents=True, exist_ok=True)
        bare_file.write_bytes(captured)
        print(f"captured GET /api/articles: {len(captured):,} bytes, "
              f"{len(json.loads(captured)['articles'])} articles", flush=True)  # fmt: skip
        return captured

    def server(self) -> dict[str, Any]:
        from django.conf import settings

        args = self.args
        return {
            "target": args.target,
            "granian": package_version("granian"),
            "django": package_version("django"),
            "interface": "wsgi",
            "workers": args.workers,
            "threads": args.threads,
            "conn_max_age": os.environ.get("CONN_MAX_AGE", "60 (default)"),
            "database_pool": args.db == "pool",
            "pgbouncer": args.db == "pgbouncer",
            "cache_url_scheme": os.environ.get("CACHE_URL", "").split(":", 1)[0] or "locmem",
            "command": args.server_cmd,
            "database": {**self.db, "reused_data_dir": bool(args.reused), "data_dir": args.pg_dir},
            "debug": bool(settings.DEBUG),
        }

    def generator(self) -> dict[str, Any]:
        args = self.args
        return {
            "wrk": wrk_version(),
            "threads": 1,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "timeout_s": args.timeout,
        }

    def main(self) -> None:
        import django

        sys.path.insert(0, str(REPO))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from django.db import connection

        args = self.args
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        loopback_only(self.base)
        loopback_only(self.nginx)
        print(f"\n=== make bench: size {args.size}, {args.duration} s per scenario, "
              f"{args.connections} connections", flush=True)  # fmt: skip

        inputs, leftovers, check_plans, size = self.prepare()
        wait_until_up(f"{self.base}/api/tags", args.app_pid)
        wait_until_up(f"{self.nginx}/", args.nginx_pid)
        actors = inputs.actors
        users = [*feed_readers(inputs).values(), *_writers(actors), *actors.hot_users]
        tokens, token_source = tokens_for(self.base, list(dict.fromkeys(users)))
        connection.close()  # as in prepare: idle during the load
        captured = self.capture()
        scenarios = selected(all_scenarios(inputs, tokens, self.run_dir, self.run_id),
                             args.scenarios)  # fmt: skip
        self.load.check_first_requests(scenarios)
        self.load.warm_up()
        # Each kind's references right before its scenarios: bare_write's thousands of rows
        # would otherwise leave PostgreSQL writing them back (WAL, autovacuum) during the reads.
        references: dict[str, Any] = {}
        ref_rps: dict[str, float | None] = {}
        results: dict[str, Any] = {}
        for kind in (READ, WRITE):
            these = [scenario for scenario in scenarios if scenario.kind == kind]
            wanted = {kind} if these or (kind == READ and args.redis_kill) else set()
            measured, rps = self.load.measure_references(captured, wanted)
            references |= {name: entry for name, entry in measured.items() if entry is not None}
            ref_rps |= {name: value for name, value in rps.items() if value is not None}
            results |= self.load.measure_scenarios(these, ref_rps, redis_kill=kind == READ)
        references |= {name: None for name in measured if name not in references}
        report.cross_ratios(references, ref_rps)
        undone = self.finish(inputs)

        generator_notes = report.generator_notes({**references, **results})
        result = report.build_result(
            commit=commit_info(), size=size, server=self.server(), machine=machine_info(),
            generator=self.generator(), check_plans=check_plans, references=references,
            scenarios=results, started_at=started_at,
            notes=[*report.NOTES, *generator_notes, *([args.note] if args.note else [])],
            inputs={
                "tag": inputs.tag, "author": inputs.author, "favoriter": inputs.favoriter,
                "reader": inputs.reader, **{name: getattr(actors, name) for name in ACTORS},
                "hot_users": {"count": len(actors.hot_users), "first": actors.hot_users[0],
                              "last": actors.hot_users[-1]},
                "hot_article": inputs.hot_article, "hot_author": inputs.hot_author,
                "random_seed": RNG_SEED, "captured_list_bytes": len(captured),
                "tokens": token_source,
            },
            cleanup={"before": leftovers, "after": undone},
            variant=self.variant(),
        )  # fmt: skip
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "-target" if args.target else report.variant_suffix(self.variant())
        out = args.out or RESULTS / f"{result['commit']['id']}-{args.size}{suffix}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print()
        print(report.table(result))
        print()
        print(report.plans_summary(check_plans))
        for note in generator_notes:
            print(f"note: {note}")
        if undone["counter_drift"]:
            print(f"counter drift after undoing the writes: {undone['counter_drift']}")
        print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
        if args.pg_dir:
            print(f"the database stays in {args.pg_dir} (stopped): BENCH_KEEP_DB=1 reuses it")


def _writers(actors: Actors) -> list[str]:
    return [getattr(actors, name) for name in ACTORS]
