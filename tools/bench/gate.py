"""The performance regression gate that `make test` runs (issue 20, ADR 0039; bench/README.md).

    .venv/bin/python tools/bench/gate.py                    # the gate: ~90 s, exit 1 on a drop
    .venv/bin/python tools/bench/gate.py --write-baseline   # refresh bench/gate-baseline.json
    .venv/bin/python tools/bench/gate.py --endpoints article --slow article:2   # see it trip

It starts a throw-away PostgreSQL (``tools/postgres.py --fast``), seeds a small data set with
``seed_bulk``, and two granian servers on the production command (tools/run.sh's), each with the
bare view routed (``BENCH_ENDPOINTS=1``): one with the in-process cache as ``make run`` serves,
one uncached (``CACHE_ARTICLES=false``). After a warm-up it runs rounds of ``wrk -t1 -c1`` over
each endpoint and its server's bare view (benchkit/gate.py: the order, the ratios, the verdict)
and compares the median ratio per endpoint with the committed baseline. An endpoint more than
30% below its baseline is measured again for as many rounds more, and fails only if the median
over all its rounds is still below: one disturbed round cannot fail the build.

Exit status: 0 pass, 1 a regression, 2 the gate could not measure. Everything it starts is
stopped by PID at the end; it holds ``/tmp/conduit-bench.lock`` while it measures.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit, also when loaded by path
from benchkit import LUA, REPO
from benchkit import gate as g
from benchkit.facts import commit_info, machine_info
from benchkit.net import free_ports, http, wait_until_up
from benchkit.scenarios import parse_wrk_output
from benchkit.servers import Processes, granian_command

BASELINE = REPO / "bench" / "gate-baseline.json"
LOCK = Path("/tmp/conduit-bench.lock")
SEED = ["--users", "200", "--articles", "1000", "--tags", "50", "--seed", "42"]
ARTICLES_ROTATED = 100
CONNECTIONS = 2  # wrk's: the server's 4 threads never all idle, and no queue to speak of
PY = sys.executable


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    names = [e.name for e in g.ENDPOINTS]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--endpoints", default=",".join(names), help=f"comma-separated, of {names}")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--seconds", type=int, default=1, help="wrk's duration per run")
    p.add_argument("--max-drop", type=float, default=g.MAX_DROP)
    p.add_argument("--baseline", type=Path, default=BASELINE)
    p.add_argument("--write-baseline", action="store_true", help="write --baseline, no verdict")
    p.add_argument("--out", type=Path, default=REPO / "var" / "bench-gate.json")
    p.add_argument("--slow", default="", help="ENDPOINT:MS, CPU added to that endpoint's requests")
    p.add_argument("--pg-dir", type=Path, default=None)
    args = p.parse_args(argv)
    wanted = [name for name in args.endpoints.split(",") if name]
    unknown = set(wanted) - set(names)
    if unknown or not wanted:
        p.error(f"--endpoints: unknown {sorted(unknown)}; known: {names}")
    args.selected = [e for e in g.ENDPOINTS if e.name in wanted]
    if args.rounds < 1 or args.seconds < 1:
        p.error("--rounds and --seconds must be positive")
    if args.write_baseline and len(args.selected) != len(g.ENDPOINTS):
        p.error("--write-baseline measures every endpoint")
    args.slowed, args.slow_ms = "", 0.0
    if args.slow:
        name, _, ms = args.slow.partition(":")
        if name not in names or not ms.replace(".", "", 1).isdigit():
            p.error(f"--slow takes ENDPOINT:MS with ENDPOINT of {names}, not {args.slow!r}")
        args.slowed, args.slow_ms = name, float(ms)
    if args.pg_dir is None:
        tree = hashlib.md5(str(REPO).encode()).hexdigest()[:8]  # noqa: S324 - a name, not security
        args.pg_dir = Path(f"/tmp/conduit-gate-pg-{tree}")
    return args


class Gate:
    def __init__(self, args: argparse.Namespace, run_dir: Path) -> None:
        self.args, self.run_dir = args, run_dir
        self.procs = Processes(run_dir)
        self.urls: dict[str, str] = {}
        self.server_pids: dict[str, int] = {}
        self.pg_pid = 0
        self.files: dict[str, list[str]] = {}  # run key -> wrk's script arguments

    def env(self, database_url: str, secret: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "CACHE_"))}
        return env | {
            "DJANGO_SETTINGS_MODULE": "config.settings",  # not the suite's, when pytest runs this
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret,
            "DEBUG": "false",
            "CONN_MAX_AGE": "60",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "RATE_LIMITS_ENABLED": "false",
            "VAR_DIR": str(self.run_dir / "var"),
            "CACHE_URL": "",
            "CELERY_BROKER_URL": "",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def prepare(self) -> None:
        """PostgreSQL, the data, the two servers, the inputs."""
        started = time.monotonic()
        url = subprocess.run(
            [PY, "tools/postgres.py", "start", "--dir", str(self.args.pg_dir), "--fast", "--fresh"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        self.pg_started = True
        self.pg_pid = int((self.args.pg_dir / "server.pid").read_text().split()[0])
        env = self.env(url, secrets.token_urlsafe(50))
        manage = [PY, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        subprocess.run(
            [*manage, "seed_bulk", "--reset", *SEED],
            cwd=REPO,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # Autovacuum would otherwise visit the new tables mid-measurement, on the database's CPU;
        # nothing writes to them afterwards (the gate only reads), so it is switched off.
        for sql in (
            "VACUUM ANALYZE",
            "ALTER SYSTEM SET autovacuum = off",
            "SELECT pg_reload_conf()",
        ):
            subprocess.run(
                [*manage, "dbshell", "--", "-qc", sql],
                cwd=REPO,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        servers = {e.server for e in self.args.selected}
        ports = dict(zip(sorted(servers), free_ports(len(servers)), strict=True))
        for server, port in ports.items():
            server_env = env | {"BENCH_ENDPOINTS": "1"}
            argv = granian_command(Path(PY).parent, port=port, workers=1, threads=4)
            if server == "uncached":
                server_env |= {"CACHE_ARTICLES": "false", "CACHE_ANONYMOUS_SECONDS": "0"}
            slowed = next((e for e in self.args.selected if e.name == self.args.slowed), None)
            if slowed and slowed.server == server:
                server_env |= {
                    "BENCH_GATE_SLOW_PATH": slowed.slow_pattern,
                    "BENCH_GATE_SLOW_MS": str(self.args.slow_ms),
                    "PYTHONPATH": str(Path(__file__).resolve().parent),
                }
                argv[-1] = "benchkit.gate_slow:application"
            proc = self.procs.start(f"granian-{server}", argv, server_env)
            self.server_pids[server] = proc.process.pid
            self.urls[server] = f"http://127.0.0.1:{port}"
            wait_until_up(self.urls[server] + "/api/tags", proc.process.pid)
        self.inputs(next(iter(self.urls.values())))
        print(f"set up in {time.monotonic() - started:.1f} s: {self.urls}", flush=True)

    def inputs(self, base: str) -> None:
        """The bare body, the articles the detail rotates over, the signed-in reader's token."""
        status, body = http("GET", base + "/api/articles")
        if status != 200:
            sys.exit(f"GET /api/articles answered {status}")
        bare = self.run_dir / "var" / "bench" / "bare.json"
        bare.parent.mkdir(parents=True, exist_ok=True)
        bare.write_bytes(body)
        _, page = http("GET", f"{base}/api/articles?limit={ARTICLES_ROTATED}")
        articles = json.loads(page)["articles"]
        paths = [f"/api/articles/{urllib.parse.quote(a['slug'])}" for a in articles]
        (self.run_dir / "articles.txt").write_text("\n".join(paths) + "\n")
        reader = articles[0]["author"]["username"]
        sys.path.insert(0, str(REPO))
        from conduit.demo.bulk.plan import BULK_PASSWORD

        login = {"user": {"email": f"{reader}@bench.conduit.local", "password": BULK_PASSWORD}}
        status, answer = http("POST", base + "/api/users/login", login)
        if status != 200:
            sys.exit(f"could not sign in as {reader} ({status})")
        token = json.loads(answer)["user"]["token"]
        for server, url in self.urls.items():
            self.files[g.run_key(server, g.BARE)] = [f"{url}/bench/bare", "static.lua"]
        for e in self.args.selected:
            url = self.urls[e.server] + e.path
            args = [url, e.script]
            if e.script == "paths.lua":
                args.append(str(self.run_dir / "articles.txt"))
            if e.signed_in:
                args.append(token)
            self.files[g.run_key(e.server, e.name)] = args

    def wrk(self, key: str) -> dict[str, Any]:
        """One run: wrk's result, with the CPU its server and PostgreSQL spent meanwhile."""
        url, script, *script_args = self.files[key]
        roots = [self.server_pids[key.split(":")[0]], self.pg_pid]
        command = [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{self.args.seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(LUA / script),
            url,
            "--",
            *script_args,
        ]
        before = g.tree_cpu_ns(roots)
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        cpu_ns = g.cpu_used_ns(before, g.tree_cpu_ns(roots))
        if done.returncode != 0:
            sys.exit(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
        result = parse_wrk_output(done.stdout)
        errors = sum(result["errors"].values())
        if errors:
            sys.exit(f"{key}: {errors} errors in {result['requests']} requests: {result['errors']}")
        if cpu_ns <= 0 or not result["requests"]:
            sys.exit(
                f"{key}: no CPU time or no request measured ({cpu_ns} ns, {result['requests']})"
            )
        return result | {"cpu_ns": cpu_ns}

    def rounds(self, endpoints: list[g.Endpoint], count: int, first: int) -> list[dict[str, Any]]:
        done = []
        for number in range(first, first + count):
            ratios, runs = {}, {}
            for one, other in g.round_pairs(endpoints, number):
                runs[one], runs[other] = self.wrk(one), self.wrk(other)
                mine, bare = (one, other) if other.endswith(":" + g.BARE) else (other, one)
                name = mine.split(":")[1]
                ratios[name] = g.pair_ratio(
                    g.speed(runs[mine]["requests"], runs[mine]["cpu_ns"]),
                    g.speed(runs[bare]["requests"], runs[bare]["cpu_ns"]),
                )
                runs[f"{name}:bare"] = runs.pop(bare)
            done.append(
                {
                    "round": number,
                    "ratios": ratios,
                    "requests": {k: r["requests"] for k, r in runs.items()},
                    "cpu_us_per_request": {
                        k: round(r["cpu_ns"] / 1e3 / r["requests"], 1)
                        for k, r in runs.items()
                        if r["requests"]
                    },
                    "p50_ms": {k: r["latency_ms"]["p50"] for k, r in runs.items()},
                }
            )
            print(
                f"round {number + 1 or 'warm-up'}: "
                + "  ".join(f"{k} {v:.3f}" for k, v in ratios.items()),
                flush=True,
            )
        return done

    def stop(self) -> None:
        self.procs.stop_all()
        if getattr(self, "pg_started", False):
            subprocess.run(
                [PY, "tools/postgres.py", "stop", "--dir", str(self.args.pg_dir)],
                cwd=REPO,
                check=False,
            )


def steal_ticks() -> int:
    """The machine's CPU steal so far (/proc/stat, in clock ticks): the hypervisor's share."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[8]) if len(fields) > 8 else 0


def measure(gate: Gate, args: argparse.Namespace) -> dict[str, Any]:
    started, steal = time.monotonic(), steal_ticks()
    print("warm-up: every run once, not counted", flush=True)
    gate.rounds(args.selected, 1, -1)
    rounds = gate.rounds(args.selected, args.rounds, 0)
    baseline = {}
    if not args.write_baseline:
        if not args.baseline.exists():
            sys.exit(f"no baseline at {args.baseline}: run with --write-baseline")
        baseline = json.loads(args.baseline.read_text())["median_ratios"]
    verdicts = g.judge([r["ratios"] for r in rounds], baseline, args.max_drop)
    if args.write_baseline:
        return {
            "rounds": rounds,
            "median_ratios": {n: v["median_ratio"] for n, v in verdicts.items()},
            "seconds_measuring": round(time.monotonic() - started, 1),
            "cpu_steal_s": round((steal_ticks() - steal) / os.sysconf("SC_CLK_TCK"), 2),
        }
    confirmed: list[dict[str, Any]] = []
    suspects = [e for e in args.selected if e.name in g.failed(verdicts)] if baseline else []
    if suspects:
        print(
            f"below the baseline: {[e.name for e in suspects]}; measuring them "
            f"{args.rounds} rounds more",
            flush=True,
        )
        confirmed = gate.rounds(suspects, args.rounds, args.rounds)
        pooled = [r["ratios"] for r in rounds] + [r["ratios"] for r in confirmed]
        verdicts |= g.judge(pooled, baseline, args.max_drop)
    return {
        "rounds": rounds,
        "confirmation_rounds": confirmed,
        "verdicts": verdicts,
        "median_ratios": {n: v["median_ratio"] for n, v in verdicts.items()},
        "seconds_measuring": round(time.monotonic() - started, 1),
        "cpu_steal_s": round((steal_ticks() - steal) / os.sysconf("SC_CLK_TCK"), 2),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began, commit = time.monotonic(), commit_info()  # the tree measured, before anyone edits it
    with tempfile.TemporaryDirectory(prefix="conduit-gate.") as tmp, LOCK.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for {LOCK} (another bench is running)", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        waited = time.monotonic() - began
        gate = Gate(args, Path(tmp))
        try:
            gate.prepare()
            measured = measure(gate, args)
        finally:
            gate.stop()
    result: dict[str, Any] = {
        "commit": commit,
        "machine": machine_info(),
        "command": " ".join(["tools/bench/gate.py", *(argv if argv is not None else sys.argv[1:])]),
        "settings": {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "max_drop": args.max_drop,
            "connections": 1,
            "seed_bulk": " ".join(SEED),
            "slow": args.slow or None,
        },
        "seconds_total": round(time.monotonic() - began, 1),
        "seconds_waiting_for_lock": round(waited, 1),
    } | measured
    target = args.baseline if args.write_baseline else args.out
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    if "verdicts" in result:
        print(g.table(result["verdicts"], args.max_drop))
    else:
        print(f"baseline median ratios: {result['median_ratios']}")
    print(
        f"{result['seconds_total']} s in all, CPU steal {result['cpu_steal_s']} s; wrote {target}"
    )
    if args.write_baseline:
        return 0
    bad = g.failed(result["verdicts"])
    if bad:
        print(
            f"REGRESSION GATE FAILED: {', '.join(bad)} more than {args.max_drop:.0%} below "
            f"the baseline ratio to the bare view (docs/contributing.md says what to do)"
        )
        return 1
    print("regression gate passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as stop:  # sys.exit("why"): could not measure, which is not a regression
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
            sys.exit(2)
        raise
