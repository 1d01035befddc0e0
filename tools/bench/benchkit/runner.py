"""``bench.py run``: picks its inputs from the database through the ORM (the most popular tag, a
typical author, a heavy favoriter, a reader following ~10 authors, 1,000 random articles and
users), signs in through the API, captures ``GET /api/articles`` for the two references, runs wrk
once per reference and scenario, undoes its writes and writes the result document
(``bench/results/<commit>-<size>.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchkit import REPO, RESULTS, report
from benchkit.cleanup import undo_writes
from benchkit.cpu import CpuWatch, pid_alive
from benchkit.dataset import MARKER, RNG_SEED, Inputs, dataset_counts, pick_inputs, run_check_plans
from benchkit.facts import commit_info, database_info, machine_info, package_version, wrk_version
from benchkit.net import http, loopback_only, wait_until_up
from benchkit.scenarios import Scenario, Wrk, all_scenarios, read_lines, selected, write_lines

Entry = dict[str, Any]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir: Path = args.run_dir
        self.run_id = f"{os.getpid()}-{int(time.time())}"
        # The variants' servers are watched too (their CPU would otherwise count as "other").
        variant_pids = {"db_replica": args.replica_pid, "redis": args.redis_pid,
                        "pgbouncer": args.pgbouncer_pid}  # fmt: skip
        watch = CpuWatch(
            {"app": args.app_pid, "db": args.db_pid, "nginx": args.nginx_pid}
            | {name: pid for name, pid in variant_pids.items() if pid}
        )
        self.wrk = Wrk(args.connections, args.timeout, watch)
        self.base, self.nginx = args.base.rstrip("/"), args.nginx.rstrip("/")
        self.db: dict[str, Any] = {}  # the database's version and settings (prepare)

    def login(self, username: str) -> str:
        email = f"{username}@bench.conduit.local"
        from conduit.demo.bulk.plan import BULK_PASSWORD

        status, body = http(
            "POST",
            f"{self.base}/api/users/login",
            {"user": {"email": email, "password": BULK_PASSWORD}},
        )
        if status != 200:
            sys.exit(f"could not sign in as {email} ({status}): is the data from seed_bulk?")
        return str(json.loads(body)["user"]["token"])

    def variant(self) -> dict[str, Any]:
        args = self.args
        return {
            "cache": args.cache,
            "replica": bool(args.replica),
            "db": args.db,
            "redis_killed": bool(args.redis_kill),
            "broker": args.broker,
        }

    def prepare(self) -> tuple[Inputs, dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The inputs (after undoing an interrupted run's writes), the query-plan check and the
        data set's size; closes the bench's database connection, idle during the load."""
        from django.db import connection

        inputs = pick_inputs()
        leftovers = undo_writes(inputs.writer, inputs.fav_actor)
        if leftovers["favorites_removed"] or leftovers["articles_deleted"]:
            print(f"undid an interrupted run's writes: {leftovers}", flush=True)
            inputs = pick_inputs()  # from the data as seeded
        check_plans = run_check_plans(self.run_dir)
        size = {"name": self.args.size, **dataset_counts(), "reused": bool(self.args.reused)}
        marker = Path(self.args.pg_dir or "/nonexistent") / MARKER
        if marker.exists():
            size["seeded"] = json.loads(marker.read_text())
        self.db = database_info()
        connection.close()  # idle during the load: it would only hold a server slot
        return inputs, leftovers, check_plans, size

    def capture(self) -> bytes:
        """``GET /api/articles``, as the two references serve it."""
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

    def check_first_requests(self, scenarios: list[Scenario]) -> None:
        for scenario in scenarios:
            if scenario.check:
                method, path, token = scenario.check
                status, _ = http(method, self.base + path, token=token)
                if not 200 <= status < 300:
                    sys.exit(f"{scenario.name}: {method} {path} answered {status} before the run")

    def warm_up(self) -> None:
        print(f"warming up ({self.args.warmup} s) ...", flush=True)
        # Every worker process imports, connects and fills its caches before anything counts.
        warm = ["/api/articles", "/bench/bare", "/api/tags"]
        for detail, profile in zip(
            read_lines(self.run_dir, "detail.txt"),
            read_lines(self.run_dir, "profiles.txt"),
            strict=False,
        ):
            warm += [detail, f"{detail}/comments", profile]
        warm_file = write_lines(self.run_dir, "warmup.txt", warm)
        self.wrk.run(self.base + "/", "paths.lua", [warm_file], self.args.warmup)

    def measure_references(
        self, captured: bytes
    ) -> tuple[dict[str, Entry | None], dict[str, float | None]]:
        references: dict[str, Entry | None] = {}
        ref_rps: dict[str, float | None] = {}
        for name, url in (
            ("nginx_static", f"{self.nginx}/api/articles"),
            ("bare_django", f"{self.base}/bench/bare"),
        ):
            if name not in self.args.references:  # BENCH_REFERENCES=0 or a subset (bench-ratio)
                references[name], ref_rps[name] = None, None
                continue
            status, body = http("GET", url)
            if status != 200 or len(body) != len(captured):
                print(f"{name}: {url} answered {status} with {len(body)} bytes: not measured")
                references[name], ref_rps[name] = None, None
                continue
            print(f"reference {name} ({self.args.duration} s) ...", end=" ", flush=True)
            raw, cpu = self.wrk.run(url, "static.lua", [], self.args.duration)
            print(f"{raw['requests_per_s']:,.0f} req/s", flush=True)
            references[name] = report.scenario_entry(
                raw, {}, cpu, f"GET {urllib.parse.urlsplit(url).path}"
            )
            ref_rps[name] = raw["requests_per_s"]
        report.cross_ratios(references, ref_rps)
        return references, ref_rps

    def measure_scenarios(
        self, scenarios: list[Scenario], ref_rps: dict[str, float | None]
    ) -> dict[str, Entry]:
        duration = self.args.duration
        results: dict[str, Entry] = {}
        for number, scenario in enumerate(scenarios, start=1):
            print(f"scenario {number}/{len(scenarios)} {scenario.name} ({duration} s) ...",
                  end=" ", flush=True)  # fmt: skip
            raw, cpu = self.wrk.run(self.base + scenario.path, scenario.script, scenario.args,
                                    duration)  # fmt: skip
            results[scenario.name] = report.scenario_entry(raw, ref_rps, cpu, scenario.request)
            print(f"{raw['requests_per_s']:,.0f} req/s", flush=True)
        if self.args.redis_kill:
            print("scenario global_list_redis_killed ...", flush=True)
            results["global_list_redis_killed"] = self.redis_killed(ref_rps)
        return results

    def redis_killed(self, ref_rps: dict[str, float | None]) -> Entry:
        """The anonymous global list with Redis SIGKILLed a third into the run: the cache turns
        into misses (conduit/platform/cache/safe.py) and every request must still answer 200."""
        pid = self.args.redis_pid
        if pid is None or not pid_alive(pid):
            sys.exit("BENCH_REDIS_KILL=1: no running redis-server to kill")
        delay = self.args.duration / 3
        timer = threading.Timer(delay, os.kill, (pid, signal.SIGKILL))
        timer.start()
        try:
            raw, cpu = self.wrk.run(self.base + "/api/articles", "static.lua", [],
                                    self.args.duration)  # fmt: skip
        finally:
            timer.cancel()
        time.sleep(0.2)
        if pid_alive(pid):
            sys.exit(f"redis-server (pid {pid}) was not killed during the run")
        entry = report.scenario_entry(raw, ref_rps, cpu, "GET /api/articles (anonymous), Redis "
                                      f"SIGKILLed {delay:.1f} s into the run")  # fmt: skip
        entry["redis_killed_after_s"] = round(delay, 1)
        return entry

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
        tokens = {name: self.login(getattr(inputs, name))
                  for name in ("reader", "writer", "fav_actor")}  # fmt: skip
        captured = self.capture()
        scenarios = selected(all_scenarios(inputs, tokens, self.run_dir, self.run_id),
                             args.scenarios)  # fmt: skip
        self.check_first_requests(scenarios)
        self.warm_up()
        references, ref_rps = self.measure_references(captured)
        results = self.measure_scenarios(scenarios, ref_rps)

        print("undoing the bench's writes ...", flush=True)
        undone = undo_writes(inputs.writer, inputs.fav_actor)
        connection.close()

        generator_notes = report.generator_notes({**references, **results})
        result = report.build_result(
            commit=commit_info(), size=size, server=self.server(), machine=machine_info(),
            generator=self.generator(), check_plans=check_plans, references=references,
            scenarios=results, started_at=started_at,
            notes=[*report.NOTES, *generator_notes, *([args.note] if args.note else [])],
            inputs={
                "tag": inputs.tag, "author": inputs.author, "favoriter": inputs.favoriter,
                "reader": inputs.reader, "writer": inputs.writer, "fav_actor": inputs.fav_actor,
                "random_seed": RNG_SEED, "captured_list_bytes": len(captured),
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
