"""``make bench-fanout``: publish an article to 10,000 followers through the real HTTP API and
real Celery workers, and check that 10,000 emails arrive exactly once (ADR 0015).

On PostgreSQL 15 (durable settings, ``/tmp/conduit-bench-pg-fanout``), a Redis broker with the
stack's persistence (append-only file), ``BENCH_FANOUT_WORKERS`` Celery workers and the app on
its production server config (granian, as tools/run.sh and make bench start it), with an aiosmtpd
sink in this process that counts each message by recipient and Message-ID:

1. Publish latency: ``POST /api/articles`` by an author with 0 followers and by one with
   ``BENCH_FOLLOWERS`` followers, interleaved, ``BENCH_REPEATS`` times each, with no worker
   running (the request's cost alone; the queued fan-outs are then dropped unsent).
2. Delivery: workers start; the author with followers publishes once more; while the emails
   arrive, progress is printed (received / expected, rate) and the author without followers
   keeps publishing every ``BENCH_PROBE_INTERVAL`` s (latency while the workers are busy).
3. Exactly once: every follower got exactly one email (recipients and Message-IDs counted), and
   every delivery record is marked sent. Any failure makes the exit status non-zero.

Writes ``bench/results/<commit>-fanout.json``. Everything started here is stopped by PID at the
end, Ctrl-C included. Traffic stays on 127.0.0.1.

    BENCH_FOLLOWERS=10000  BENCH_REPEATS=20  BENCH_FANOUT_WORKERS=2  BENCH_FANOUT_CONCURRENCY=2
    BENCH_WORKERS=2  BENCH_THREADS=4  BENCH_TIMEOUT=600  BENCH_PROBE_INTERVAL=0.5
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit, also when loaded by path
from benchkit import REPO
from benchkit.cpu import cpu_cores, cpu_snapshot
from benchkit.facts import commit_info, machine_info
from benchkit.fanout_report import exactly_once, latency_summaries, print_summary, write_result
from benchkit.fanout_stack import Stack, env_int, start, start_workers, step
from benchkit.servers import Proc, Processes

PG_DIR = Path("/tmp/conduit-bench-pg-fanout")


@dataclass(frozen=True)
class Config:
    followers: int
    repeats: int
    workers: int
    concurrency: int
    web_workers: int
    web_threads: int
    timeout: int
    probe_interval: float

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            followers=env_int("BENCH_FOLLOWERS", 10_000),
            repeats=env_int("BENCH_REPEATS", 20),
            workers=env_int("BENCH_FANOUT_WORKERS", 2),
            concurrency=env_int("BENCH_FANOUT_CONCURRENCY", 2),
            web_workers=env_int("BENCH_WORKERS", 2),
            web_threads=env_int("BENCH_THREADS", 4),
            timeout=env_int("BENCH_TIMEOUT", 600),
            probe_interval=float(os.environ.get("BENCH_PROBE_INTERVAL", "0.5")),
        )


def publish(base: str, token: str, title: str) -> float:
    """POST /api/articles; returns the latency in ms (fails on anything but 201)."""
    body = json.dumps(
        {"article": {"title": title, "description": "Fan-out bench", "body": "Hello, followers."}}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback only)
        f"{base}/api/articles",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
        status = response.status
    elapsed = (time.perf_counter() - started) * 1000
    if status != 201:
        raise SystemExit(f"POST /api/articles answered {status}")
    return elapsed


def publish_latency(cfg: Config, stack: Stack) -> dict[str, list[float]]:
    """Phase 1: the two authors publish in turn with no worker running; the fan-outs those
    requests queued are dropped unsent (this phase measures the requests)."""
    step(f"publish latency, no worker running: {cfg.repeats} x 0 followers, "
         f"{cfg.repeats} x {cfg.followers:,}")  # fmt: skip
    loud_token, quiet_token = stack.tokens
    for i in range(3):  # warm-up: connections, imports, caches
        publish(stack.base, quiet_token, f"Warm-up {i}")
        publish(stack.base, loud_token, f"Warm-up {i}")
    idle: dict[str, list[float]] = {"no_followers": [], "followers": []}
    for i in range(cfg.repeats):
        idle["no_followers"].append(publish(stack.base, quiet_token, f"Quiet {i}"))
        idle["followers"].append(publish(stack.base, loud_token, f"Loud {i}"))
        quiet, loud = idle["no_followers"][-1], idle["followers"][-1]
        print(f"  {i + 1}/{cfg.repeats}: {quiet:.1f} ms vs {loud:.1f} ms", flush=True)
    import redis as redis_client

    broker = redis_client.Redis(port=stack.redis_port, db=1)
    queued = int(broker.llen("email"))
    broker.delete("email")
    broker.close()
    print(f"dropped {queued} queued fan-out tasks unsent", flush=True)
    return idle


def deliver(
    cfg: Config, stack: Stack, workers: list[Proc]
) -> tuple[dict[str, Any], list[float], float]:
    """Phase 2: the popular author publishes once more; waits for the emails while the other
    author keeps publishing. Returns the delivery's counts, the probe's latencies and the
    delivered publish request's."""
    step(f"publish to {cfg.followers:,} followers and wait for the emails")
    from conduit.articles.models import Article
    from conduit.notifications.models import ArticleEmail

    sink = stack.sink
    groups = {
        "celery_workers": [w.process.pid for w in workers],
        "app_server": [stack.app.process.pid],
        "postgres": [int((PG_DIR / "server.pid").read_text().split()[0])],
        "redis": [stack.redis.process.pid],
    }
    cpu_before = cpu_snapshot(groups)
    delivery_started = time.perf_counter()
    the_request_ms = publish(stack.base, stack.tokens[0], "The big announcement")
    article_id = (
        Article.objects.filter(author=stack.popular, title="The big announcement")
        .values_list("pk", flat=True)
        .get()
    )
    busy: list[float] = []
    stop_probe = threading.Event()

    def probe() -> None:
        n = 0
        while not stop_probe.wait(cfg.probe_interval):
            busy.append(publish(stack.base, stack.tokens[1], f"During {n}"))
            n += 1

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    deadline = time.monotonic() + cfg.timeout
    last_print, last_count = time.perf_counter(), 0
    while sink.received < cfg.followers and time.monotonic() < deadline:
        time.sleep(0.2)
        now = time.perf_counter()
        if now - last_print >= 2:
            count = sink.received
            rate = (count - last_count) / (now - last_print)
            elapsed = now - delivery_started
            print(f"  emails {count:,} / {cfg.followers:,}  ({rate:,.0f}/s, {elapsed:.0f} s)")
            last_print, last_count = now, count
    all_at = time.perf_counter()
    cpu = cpu_cores(cpu_before, cpu_snapshot(groups), all_at - delivery_started)
    time.sleep(3)  # late duplicates would arrive now
    stop_probe.set()
    prober.join(10)
    took = all_at - delivery_started
    print(f"  emails {sink.received:,} / {cfg.followers:,} after {took:.1f} s", flush=True)

    records = ArticleEmail.objects.filter(article_id=article_id)
    delivery = {
        **sink.delivery(set(stack.fan_emails)),
        "records": records.count(),
        "records_sent": records.filter(sent_at__isnull=False).count(),
        "seconds_to_first_email": round((sink.first_at or all_at) - delivery_started, 2),
        "seconds_to_all_emails": round(all_at - delivery_started, 2),
        "emails_per_s": round(sink.received / max(all_at - delivery_started, 1e-9), 1),
        "cpu_cores": cpu,
    }
    return delivery, busy, the_request_ms


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress, piped too
    cfg = Config.from_env()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    commit = commit_info()
    machine = machine_info()
    run_dir = Path(subprocess.check_output(
        ["mktemp", "-d", "/tmp/conduit-bench-fanout.XXXXXX"], text=True).strip())  # fmt: skip
    procs = Processes(run_dir)
    pg_started = False
    ok = False
    try:
        step(f"PostgreSQL 15 in {PG_DIR}, new (durable settings)")
        url = subprocess.check_output(
            ["python3", "tools/postgres.py", "start", "--dir", str(PG_DIR), "--fresh"],
            cwd=REPO,
            text=True,
        ).strip()
        pg_started = True
        stack = start(procs, run_dir, url, followers=cfg.followers,
                      web_workers=cfg.web_workers, web_threads=cfg.web_threads)  # fmt: skip
        idle = publish_latency(cfg, stack)
        workers = start_workers(stack, cfg.workers, cfg.concurrency)
        delivery, busy, the_request_ms = deliver(cfg, stack, workers)
        ok = exactly_once(delivery, cfg.followers)
        from django.conf import settings

        latency = latency_summaries(idle, busy, the_request_ms)
        chunk = settings.NOTIFICATIONS_CHUNK_SIZE
        config = {
            "followers": cfg.followers,
            "repeats": cfg.repeats,
            "celery_workers": cfg.workers,
            "celery_concurrency": cfg.concurrency,
            "chunk_size": chunk,
            "chunks": -(-cfg.followers // chunk),
            "app_server": " ".join(stack.app_command[1:]),
            "broker": "redis (append-only file)",
            "database": "PostgreSQL 15, durable (fsync, synchronous_commit on)",
        }
        out = write_result(commit=commit, started_at=started_at, ok=ok, config=config,
                           latency=latency, delivery=delivery, machine=machine)  # fmt: skip
        stack.controller.stop()
        step("result")
        print_summary(latency, the_request_ms, delivery, ok, out)
        return 0 if ok else 1
    finally:
        procs.stop_all()
        if pg_started:
            stop = ["python3", "tools/postgres.py", "stop", "--dir", str(PG_DIR)]
            subprocess.run(stop, cwd=REPO, check=False)
        if ok:
            subprocess.run(["rm", "-rf", str(run_dir)], check=False)
        else:
            print(f"logs are in {run_dir}", flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
