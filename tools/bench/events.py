"""``make bench-events``: the live updates measured (ADR 0030), and the WSGI-vs-ASGI question
for the plain API that ADR 0002 left unmeasured.

On PostgreSQL 15 (``/tmp/conduit-bench-pg-events``, seeded with ``seed_bulk`` at ``BENCH_SIZE``)
and a Redis of the run's own (the cache and the events broker, as in the stack):

1. The API under each interface: granian ``--interface wsgi`` (2 workers x 4 threads,
   persistent connections: make run's and make bench's config) and ``--interface asgi``
   (2 workers, Django's connection pool: persistent connections are unsafe under ASGI) with
   Django's own handler and with config.asgi's (the events servers'), each on
   ``/bench/bare``, the anonymous ``/api/articles`` cached (the micro-cache and Redis) and
   uncached (``CACHE_ARTICLES=false``, no micro-cache); ``wrk -t1 -c32`` for ``BENCH_DURATION``
   seconds after a 3 s warm-up.
2. One events server (granian ASGI, 1 worker) next to the WSGI API: the API's cached list with
   no stream open; then ``BENCH_STREAMS`` idle streams over 500 articles, and the events
   process's RSS (main + worker) before and after, per stream; the API's list again with them
   open; then ``BENCH_COMMENTS`` comments posted through the API at ``BENCH_COMMENT_RATE`` a
   second, each on an article with ``BENCH_LISTENERS`` more streams, the delay from the comment's
   ``createdAt`` (taken just before its one-statement insert and commit) to each listener's read.

Writes ``bench/results/<commit>-events.json``. Loopback only; every process started here is
stopped by PID at the end. Wrap in ``flock /tmp/conduit-bench.lock`` (the make target does).
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # config, conduit
from benchkit import REPO
from benchkit.facts import commit_info, machine_info
from benchkit.net import free_ports, http, port_answers
from benchkit.servers import Processes
from benchkit.sse_client import Streams

PY = REPO / ".venv" / "bin" / "python"
GRANIAN = str(REPO / ".venv" / "bin" / "granian")
PG_DIR = "/tmp/conduit-bench-pg-events"
SIZE = os.environ.get("BENCH_SIZE", "10k")
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "5000"))
LISTENERS = int(os.environ.get("BENCH_LISTENERS", "20"))
COMMENTS = int(os.environ.get("BENCH_COMMENTS", "200"))
COMMENT_RATE = float(os.environ.get("BENCH_COMMENT_RATE", "10"))


def step(text: str) -> None:
    print(f"\n=== {text}", flush=True)


TARGETS = {
    "wsgi": ("wsgi", "config.wsgi:application"),
    # Django's own ASGI handler: a thread per request for its sync parts (asgiref's
    # ThreadSensitiveContext), as an API under ASGI would run
    "asgi": ("asgi", "tools.bench.benchkit.asgi_stock:application"),
    # config.asgi, the events servers' handler: every request's sync parts in one shared thread
    "asgi-streams-handler": ("asgi", "config.asgi:application"),
}


def server_argv(variant: str, port: int, workers: int) -> list[str]:
    interface, target = TARGETS[variant]
    argv = [GRANIAN, "--interface", interface, "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--no-ws", "--log-level", "warning"]  # fmt: skip
    if interface == "wsgi":
        argv += ["--blocking-threads", "4"]
    if variant == "asgi-streams-handler":  # as the stack's events server (tools/stack/apps.py)
        argv += ["--backlog", "2048", "--backpressure", "20000"]
    return [*argv, target]


def wrk(url: str) -> dict[str, Any]:
    subprocess.run(["wrk", "-t1", "-c32", "-d3s", url], capture_output=True, check=False)
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{DURATION}s", "--latency", url],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    rps = p99 = errors = 0.0
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec"):
            rps = float(parts[1])
        elif line.strip().startswith("99%"):
            p99 = _ms(parts[1])
        elif "Non-2xx" in line or "Socket errors" in line:
            errors += sum(int(p.strip(",")) for p in parts if p.strip(",").isdigit())
    return {"requests_per_s": rps, "p99_ms": p99, "errors": int(errors)}


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * factor, 3)
    return float(text)


def rss_kib(pid: int) -> int:
    """RSS of the process and its children (granian's main and its worker)."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * STREAMS + 1000
    if hard < need:
        sys.exit(f"the file-descriptor limit is {hard}; {need} needed for {STREAMS} streams")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    run_dir = REPO / "var" / "bench-events"
    run_dir.mkdir(parents=True, exist_ok=True)
    procs = Processes(run_dir)
    result: dict[str, Any] = {
        "commit": commit_info(),
        "machine": machine_info(),
        "started": datetime.now(UTC).isoformat(),
        "size": SIZE,
        "duration_s": DURATION,
    }
    try:
        run(procs, run_dir, result)
    finally:
        procs.stop_all()
        subprocess.run(
            [str(PY), "tools/postgres.py", "stop", "--dir", PG_DIR], cwd=REPO, check=False
        )
    path = REPO / "bench" / "results" / f"{result['commit']['id']}-events.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {path.relative_to(REPO)}")


def run(procs: Processes, run_dir: Path, result: dict[str, Any]) -> None:
    step(f"PostgreSQL 15 in {PG_DIR}, seed_bulk {SIZE}")
    database_url = subprocess.run(
        [str(PY), "tools/postgres.py", "start", "--dir", PG_DIR, "--fresh"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    redis_port, api_port, events_port = free_ports(3)
    redis = procs.start(
        "redis",
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        dict(os.environ),
    )
    procs.wait_for(redis, lambda: port_answers(redis_port))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "RATE_LIMITS_ENABLED": "false",
        "BENCH_ENDPOINTS": "1",
        "LOG_LEVEL": "WARNING",
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EVENTS_URL": f"redis://127.0.0.1:{redis_port}/2",
        "METRICS_ENABLED": "false",
    }
    seed = subprocess.run(
        [str(PY), "tools/bench/bench.py", "seed-args", SIZE],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for args in (["migrate", "--noinput", "--verbosity", "0"], ["seed_bulk", "--reset", *seed]):
        subprocess.run([str(PY), "manage.py", *args], cwd=REPO, env=env, check=True)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "DEBUG")})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()

    base = f"http://127.0.0.1:{api_port}"
    uncached = {"CACHE_ARTICLES": "false", "CACHE_ANONYMOUS_SECONDS": "0"}
    interfaces: dict[str, dict[str, Any]] = {}
    for interface in TARGETS:
        db = {"CONN_MAX_AGE": "60"} if interface == "wsgi" else {"DATABASE_POOL": "true"}
        figures: dict[str, Any] = {"database": db}
        for label, extra, paths in (
            ("cached", {}, {"bare": "/bench/bare", "list_cached": "/api/articles"}),
            ("uncached", uncached, {"list_uncached": "/api/articles"}),
        ):
            step(f"the API under {interface}, {label}")
            server = procs.start(
                f"api-{interface}-{label}",
                server_argv(interface, api_port, 2),
                {**env, **db, **extra},
            )
            procs.wait_for(server, lambda: http("GET", f"{base}/readyz")[0] == 200)
            if "bare" in paths:  # /bench/bare answers a captured list (platform/http/bench.py)
                bare = REPO / "var" / "bench" / "bare.json"
                bare.parent.mkdir(parents=True, exist_ok=True)
                bare.write_bytes(http("GET", f"{base}/api/articles")[1])
            for name, path in paths.items():
                figures[name] = wrk(base + path)
                print(f"   {name}: {figures[name]}", flush=True)
            procs.stop_one(server)
        interfaces[interface] = figures
    result["api_by_interface"] = interfaces
    result["events"] = events_part(procs, env, base, api_port, events_port)


def events_part(
    procs: Processes, env: dict[str, str], base: str, api_port: int, events_port: int
) -> dict[str, Any]:
    from benchkit.tokens import tokens_for

    from conduit.articles.models import Article
    from conduit.users.models import User

    step("the WSGI API and one events server (granian ASGI, 1 worker)")
    pool = {"DATABASE_POOL": "true"}
    api = procs.start("api", server_argv("wsgi", api_port, 2), {**env, "CONN_MAX_AGE": "60"})
    events = procs.start(
        "events", server_argv("asgi-streams-handler", events_port, 1), {**env, **pool}
    )
    procs.wait_for(api, lambda: http("GET", f"{base}/readyz")[0] == 200)
    procs.wait_for(events, lambda: port_answers(events_port))
    slugs = list(Article.objects.order_by("id").values_list("slug", flat=True)[:501])
    target, idle_slugs = slugs[0], slugs[1:]
    figures: dict[str, Any] = {"streams": STREAMS, "heartbeat_s": 15}
    figures["api_list_without_streams"] = wrk(f"{base}/api/articles")
    print(f"   API list, no stream open: {figures['api_list_without_streams']}", flush=True)

    streams = Streams(events_port)
    streams.start()
    warm = streams.open([f"/events/article/{target}"], listen=False)
    time.sleep(1)
    before = rss_kib(events.process.pid)
    paths = [f"/events/article/{idle_slugs[i % len(idle_slugs)]}" for i in range(STREAMS)]
    seconds = streams.open(paths, listen=False)
    time.sleep(2)
    after = rss_kib(events.process.pid)
    figures.update(
        open_seconds=round(seconds + warm, 2),
        opened=streams.opened,
        failed=streams.failed,
        rss_before_kib=before,
        rss_after_kib=after,
        rss_per_stream_kib=round((after - before) / max(1, streams.opened - 1), 2),
    )
    print(
        f"   {streams.opened} streams open in {seconds:.1f} s, {streams.failed} failed; RSS "
        f"{before} -> {after} KiB: {figures['rss_per_stream_kib']} KiB each",
        flush=True,
    )
    figures["api_list_with_streams"] = wrk(f"{base}/api/articles")
    print(f"   API list, {STREAMS} streams open: {figures['api_list_with_streams']}", flush=True)

    streams.open([f"/events/article/{target}"] * LISTENERS, listen=True)
    writer = User.objects.order_by("id").values_list("username", flat=True).first()
    if writer is None:
        raise SystemExit("no users: seed_bulk did not run")
    token = tokens_for(base, [writer])[0][writer]
    step(f"{COMMENTS} comments at {COMMENT_RATE}/s, {LISTENERS} listeners")
    for n in range(COMMENTS):
        status, _ = http(
            "POST",
            f"{base}/api/articles/{target}/comments",
            {"comment": {"body": f"bench comment {n}"}},
            token,
        )
        if status != 201:
            raise SystemExit(f"a comment answered {status}")
        time.sleep(1 / COMMENT_RATE)
    time.sleep(2)
    delays = [
        (a.at - datetime.fromisoformat(a.data["createdAt"]).timestamp()) * 1000
        for a in streams.arrivals
    ]
    figures["commit_to_client_ms"] = {
        "events": len(delays),
        "expected": COMMENTS * LISTENERS,
        "p50": percentile(delays, 0.5),
        "p90": percentile(delays, 0.9),
        "p99": percentile(delays, 0.99),
        "max": round(max(delays, default=0), 2),
    }
    print(f"   commit to client: {figures['commit_to_client_ms']}", flush=True)
    figures["closed_early"] = streams.closed_early
    streams.close_all()
    return figures


if __name__ == "__main__":
    main()
