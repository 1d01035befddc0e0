"""The load runs of ``bench.py run``: the warm-up, the references and the scenarios, each a wrk
run with its CPU (``CpuWatch``) and its lock waits (``LockSampler``) recorded."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from benchkit import report, timelines
from benchkit.cpu import CpuWatch, pid_alive, settle
from benchkit.locks import LockSampler
from benchkit.net import http
from benchkit.scenarios import READ, Scenario, Wrk, read_lines, write_lines

Entry = dict[str, Any]


class Load:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir: Path = args.run_dir
        # The variants' servers are watched too (their CPU would otherwise count as "other").
        variant_pids = {"db_replica": args.replica_pid, "redis": args.redis_pid,
                        "pgbouncer": args.pgbouncer_pid}  # fmt: skip
        watch = CpuWatch(
            {"app": args.app_pid, "db": args.db_pid, "nginx": args.nginx_pid}
            | {name: pid for name, pid in variant_pids.items() if pid}
        )
        self.wrk = Wrk(args.connections, args.timeout, watch)
        self.locks = LockSampler()
        self.base, self.nginx = args.base.rstrip("/"), args.nginx.rstrip("/")

    def run(
        self, url: str, script: str, args: list[str], duration: int
    ) -> tuple[dict[str, Any], dict[str, float | None], dict[str, Any] | None]:
        """One wrk run, once the machine is quiet: its parsed result, the CPU used meanwhile
        and the lock waits."""
        settle()
        self.locks.start()
        try:
            raw, cpu = self.wrk.run(url, script, args, duration)
        finally:
            locks = self.locks.stop()
        return raw, cpu, locks

    def check_first_requests(self, scenarios: list[Scenario]) -> None:
        """Each scenario's first request answers 2xx, before any load. A feed scenario's is
        checked after its timeline is made cold or warm: read now, its warm timeline's head
        would stay in the app's in-process cache, and the cold run would read it."""
        for scenario in scenarios:
            if not scenario.timelines:
                self.check(scenario)

    def check(self, scenario: Scenario) -> None:
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

    def reference_requests(self) -> dict[str, tuple[str, str, str]]:
        """name -> method, URL, Lua script."""
        return {
            "nginx_static": ("GET", f"{self.nginx}/api/articles", "static.lua"),
            "bare_django": ("GET", f"{self.base}/bench/bare", "static.lua"),
            "bare_write": ("POST", f"{self.base}/bench/bare-write", "post.lua"),
        }

    def measure_references(
        self, captured: bytes, kinds: set[str]
    ) -> tuple[dict[str, Entry | None], dict[str, float | None]]:
        """The references wanted (``BENCH_REFERENCES``) that a scenario of ``kinds`` is divided
        by; a reference that does not answer as expected first is not measured."""
        references: dict[str, Entry | None] = {}
        ref_rps: dict[str, float | None] = {}
        needed = {name for kind in kinds for name in report.references_of(kind)}
        for name, (method, url, script) in self.reference_requests().items():
            references[name], ref_rps[name] = None, None
            if name not in self.args.references or name not in needed:
                continue  # BENCH_REFERENCES=0 or a subset (bench-ratio), or no scenario needs it
            if method == "GET":
                status, body = http(method, url)
                answered = status == 200 and len(body) == len(captured)
            else:
                status, body = http(method, url, {})
                answered = status == 201
            if not answered:
                print(f"{name}: {method} {url} answered {status} with {len(body)} bytes: not "
                      "measured", flush=True)  # fmt: skip
                continue
            print(f"reference {name} ({self.args.duration} s) ...", end=" ", flush=True)
            raw, cpu, locks = self.run(url, script, [], self.args.duration)
            print(f"{raw['requests_per_s']:,.0f} req/s", flush=True)
            path = urllib.parse.urlsplit(url).path
            kind = "write" if name in report.WRITE_REFERENCES else READ
            references[name] = report.scenario_entry(
                raw, {}, cpu, f"{method} {path}", kind=kind, lock_waits=locks
            )
            ref_rps[name] = raw["requests_per_s"]
        report.cross_ratios(references, ref_rps)
        return references, ref_rps

    def measure_scenarios(
        self,
        scenarios: list[Scenario],
        ref_rps: dict[str, float | None],
        *,
        redis_kill: bool = True,
    ) -> dict[str, Entry]:
        duration = self.args.duration
        results: dict[str, Entry] = {}
        for number, scenario in enumerate(scenarios, start=1):
            print(f"scenario {number}/{len(scenarios)} {scenario.name} ({duration} s) ...",
                  end=" ", flush=True)  # fmt: skip
            timeline, scraped = None, {}
            if scenario.timelines and scenario.reader:
                timeline = timelines.prepare(scenario.reader, scenario.timelines)
                self.check(scenario)
                scraped = timelines.scrape(self.base)
            raw, cpu, locks = self.run(self.base + scenario.path, scenario.script, scenario.args,
                                       duration)  # fmt: skip
            results[scenario.name] = report.scenario_entry(
                raw, ref_rps, cpu, scenario.request, kind=scenario.kind, lock_waits=locks
            )
            if timeline is not None and scenario.reader:
                results[scenario.name]["timeline"] = timeline | timelines.after(scenario.reader)
                results[scenario.name]["app_metrics"] = timelines.delta(
                    scraped, timelines.scrape(self.base)
                ) | {"workers": self.args.workers}
            print(f"{raw['requests_per_s']:,.0f} req/s, {raw['errors']['status']} non-2xx",
                  flush=True)  # fmt: skip
        if self.args.redis_kill and redis_kill:
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
            raw, cpu, locks = self.run(self.base + "/api/articles", "static.lua", [],
                                       self.args.duration)  # fmt: skip
        finally:
            timer.cancel()
        time.sleep(0.2)
        if pid_alive(pid):
            sys.exit(f"redis-server (pid {pid}) was not killed during the run")
        entry = report.scenario_entry(raw, ref_rps, cpu, "GET /api/articles (anonymous), Redis "
                                      f"SIGKILLed {delay:.1f} s into the run",
                                      lock_waits=locks)  # fmt: skip
        entry["redis_killed_after_s"] = round(delay, 1)
        return entry
