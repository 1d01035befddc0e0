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

import contextlib
import json
import logging
import math
import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit, also when loaded by path
from benchkit import RESULTS
from benchkit.cpu import machine_busy_seconds, proc_stats, tree_cpu
from benchkit.facts import commit_info, machine_info
from benchkit.net import port_is_free

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PG_DIR = Path("/tmp/conduit-bench-pg-fanout")
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def env_int(name: str, default: int) -> int:
    value = int(os.environ.get(name, default))
    if value <= 0:
        raise SystemExit(f"{name} must be a positive integer")
    return value


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    if not port_is_free(port):
        raise SystemExit(f"port {port} was taken at once: try again")
    return port


def step(text: str) -> None:
    print(f"\n=== {text}", flush=True)


# --- the SMTP sink ----------------------------------------------------------------------------


@dataclass
class CountingSink:
    """aiosmtpd handler: counts messages per recipient and per Message-ID, keeps no bodies."""

    recipients: Counter[str] = field(default_factory=Counter)
    message_ids: Counter[str] = field(default_factory=Counter)
    received: int = 0
    first_at: float | None = None
    last_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        match = MESSAGE_ID.search(envelope.content)
        now = time.perf_counter()
        with self.lock:
            self.received += 1
            self.first_at = self.first_at or now
            self.last_at = now
            self.recipients.update(envelope.rcpt_tos)
            self.message_ids[match.group(1).decode() if match else "?"] += 1
        return "250 Message accepted for delivery"


# --- processes --------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM


class Processes:
    """Every process started here, stopped by PID (process group) in reverse order."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.procs: list[Proc] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], sig: int = 15) -> Proc:
        log = self.run_dir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
                start_new_session=True,
            )
        proc = Proc(name, process, log, sig)
        self.procs.append(proc)
        return proc

    def wait_for(self, proc: Proc, ready: Any, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.process.poll() is not None:
                raise SystemExit(
                    f"{proc.name} exited: see {proc.log}\n{proc.log.read_text()[-2000:]}"
                )
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{proc.name} not ready in {timeout:.0f} s: see {proc.log}")

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.process.poll() is None:
                proc.process.send_signal(proc.stop_signal)
                try:
                    proc.process.wait(30)
                except subprocess.TimeoutExpired:
                    print(f"{proc.name} (pid {proc.process.pid}) did not stop: SIGKILL", flush=True)
            # the group: a worker's pool processes, granian's workers
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.process.pid, signal.SIGKILL)
            proc.process.wait(10)


def port_answers(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- measurements -----------------------------------------------------------------------------


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


def summary(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)

    def rank(p: float) -> float:  # nearest rank
        return ordered[max(0, min(len(ordered), math.ceil(p / 100 * len(ordered))) - 1)]

    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p99": round(rank(99), 2),
        "mean": round(statistics.fmean(ordered), 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
        "samples": [round(s, 2) for s in samples],
    }


def cpu_snapshot(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each named group of process trees, of this process (the SMTP sink
    and the prober) and of the whole machine."""
    stats = proc_stats(reaped_children=True)
    snapshot = {name: sum(tree_cpu(stats, pid) for pid in group) for name, group in pids.items()}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    snapshot["bench_process"] = usage.ru_utime + usage.ru_stime
    snapshot["machine"] = machine_busy_seconds()
    return snapshot


def cpu_cores(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """CPU seconds per second of wall time; ``other`` is the rest of the machine."""
    used = {name: (after[name] - before[name]) / wall for name in before}
    machine = used.pop("machine")
    used["other"] = max(0.0, machine - sum(used.values()))
    return {name: round(value, 2) for name, value in used.items()}


def seed(followers: int) -> tuple[Any, Any, list[str]]:
    """An author with ``followers`` followers and one with none, counters consistent."""
    from django.db import transaction

    from conduit.profiles.models import Follow
    from conduit.users.models import User, identity_key

    def user(name: str) -> Any:
        email = f"{name}@bench.example"
        return User(
            username=name,
            email=email,
            username_key=identity_key(name),
            email_key=identity_key(email),
            password="!",  # unusable: these accounts never sign in  # noqa: S106
        )

    with transaction.atomic():
        popular, lonely = User.objects.bulk_create([user("fanout-author"), user("lonely-author")])
        fans = User.objects.bulk_create(
            [user(f"fan{n:05d}") for n in range(followers)], batch_size=2000
        )
        Follow.objects.bulk_create(
            [Follow(follower=fan, followee=popular) for fan in fans], batch_size=2000
        )
        User.objects.filter(pk=popular.pk).update(followers_count=followers)
        User.objects.filter(pk__in=[f.pk for f in fans]).update(following_count=1)
    return popular, lonely, [f.email for f in fans]


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress, piped too
    followers = env_int("BENCH_FOLLOWERS", 10_000)
    repeats = env_int("BENCH_REPEATS", 20)
    n_workers = env_int("BENCH_FANOUT_WORKERS", 2)
    concurrency = env_int("BENCH_FANOUT_CONCURRENCY", 2)
    web_workers = env_int("BENCH_WORKERS", 2)
    web_threads = env_int("BENCH_THREADS", 4)
    timeout = env_int("BENCH_TIMEOUT", 600)
    probe_interval = float(os.environ.get("BENCH_PROBE_INTERVAL", "0.5"))
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    commit = commit_info()
    machine = machine_info()

    run_dir = Path(
        subprocess.check_output(
            ["mktemp", "-d", "/tmp/conduit-bench-fanout.XXXXXX"], text=True
        ).strip()
    )
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

        redis_port, smtp_port, app_port = free_port(), free_port(), free_port()
        step(f"Redis broker on 127.0.0.1:{redis_port} (append-only file, as make stack)")
        redis_dir = run_dir / "redis"
        redis_dir.mkdir()
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
                "yes",
                "--dir",
                str(redis_dir),
            ],
            dict(os.environ),
        )
        procs.wait_for(redis, lambda: port_answers(redis_port))

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(REPO),
        }
        os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})

        step("migrate")
        manage = [str(VENV_BIN / "python"), "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
        import django

        sys.path.insert(0, str(REPO))
        django.setup()
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per command
        from django.conf import settings

        from conduit.api.authentication import token_for
        from conduit.notifications.models import ArticleEmail

        step(f"seed: an author with {followers:,} followers, one with none")
        t0 = time.perf_counter()
        popular, lonely, fan_emails = seed(followers)
        print(f"seeded in {time.perf_counter() - t0:.1f} s", flush=True)
        popular_token, lonely_token = token_for(popular), token_for(lonely)

        step(f"SMTP sink (aiosmtpd) on 127.0.0.1:{smtp_port}")
        from aiosmtpd.controller import Controller

        sink = CountingSink()
        controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        controller.start()

        step(f"granian on 127.0.0.1:{app_port}, {web_workers} workers x {web_threads} threads")
        granian = [
            str(VENV_BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(app_port),
            "--workers",
            str(web_workers),
            "--blocking-threads",
            str(web_threads),
            "--no-ws",
            "--respawn-failed-workers",
            "--workers-kill-timeout",
            "30",
            "--log-level",
            "warning",
            "config.wsgi:application",
        ]
        app = procs.start("granian", granian, env)
        base = f"http://127.0.0.1:{app_port}"
        procs.wait_for(app, lambda: port_answers(app_port))

        step(
            f"publish latency, no worker running: {repeats} x 0 followers, "
            f"{repeats} x {followers:,}"
        )
        for i in range(3):  # warm-up: connections, imports, caches
            publish(base, lonely_token, f"Warm-up {i}")
            publish(base, popular_token, f"Warm-up {i}")
        idle: dict[str, list[float]] = {"no_followers": [], "followers": []}
        for i in range(repeats):
            idle["no_followers"].append(publish(base, lonely_token, f"Quiet {i}"))
            idle["followers"].append(publish(base, popular_token, f"Loud {i}"))
            quiet, loud = idle["no_followers"][-1], idle["followers"][-1]
            print(f"  {i + 1}/{repeats}: {quiet:.1f} ms vs {loud:.1f} ms", flush=True)
        import redis as redis_client

        broker = redis_client.Redis(port=redis_port, db=1)
        queued = int(broker.llen("email"))
        broker.delete("email")  # those fan-outs are never delivered: this phase measured requests
        broker.close()
        print(f"dropped {queued} queued fan-out tasks unsent", flush=True)

        step(f"{n_workers} Celery workers x {concurrency} processes (queues email, default)")
        workers = []
        for n in range(n_workers):
            worker = procs.start(
                f"celery-worker-{n + 1}",
                [
                    str(VENV_BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    "email,default",
                    "--concurrency",
                    str(concurrency),
                    "--loglevel",
                    "INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--hostname",
                    f"bench-fanout-{n + 1}@%h",
                ],
                env,
            )
            workers.append(worker)
        for worker in workers:
            procs.wait_for(worker, lambda w=worker: b" ready." in w.log.read_bytes())

        step(f"publish to {followers:,} followers and wait for the emails")
        groups = {
            "celery_workers": [w.process.pid for w in workers],
            "app_server": [app.process.pid],
            "postgres": [int((PG_DIR / "server.pid").read_text().split()[0])],
            "redis": [redis.process.pid],
        }
        cpu_before = cpu_snapshot(groups)
        delivery_started = time.perf_counter()
        the_request_ms = publish(base, popular_token, "The big announcement")
        from conduit.articles.models import Article

        article_id = (
            Article.objects.filter(author=popular, title="The big announcement")
            .values_list("pk", flat=True)
            .get()
        )
        busy: list[float] = []
        stop_probe = threading.Event()

        def probe() -> None:
            n = 0
            while not stop_probe.wait(probe_interval):
                busy.append(publish(base, lonely_token, f"During {n}"))
                n += 1

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        deadline = time.monotonic() + timeout
        last_print, last_count = time.perf_counter(), 0
        while sink.received < followers and time.monotonic() < deadline:
            time.sleep(0.2)
            now = time.perf_counter()
            if now - last_print >= 2:
                count = sink.received
                rate = (count - last_count) / (now - last_print)
                elapsed = now - delivery_started
                print(f"  emails {count:,} / {followers:,}  ({rate:,.0f}/s, {elapsed:.0f} s)")
                last_print, last_count = now, count
        all_at = time.perf_counter()
        cpu = cpu_cores(cpu_before, cpu_snapshot(groups), all_at - delivery_started)
        time.sleep(3)  # late duplicates would arrive now
        stop_probe.set()
        prober.join(10)
        took = all_at - delivery_started
        print(f"  emails {sink.received:,} / {followers:,} after {took:.1f} s", flush=True)

        records = ArticleEmail.objects.filter(article_id=article_id)
        duplicates = sum(n - 1 for n in sink.recipients.values() if n > 1)
        expected = set(fan_emails)
        delivery = {
            "expected": followers,
            "received": sink.received,
            "distinct_recipients": len(sink.recipients),
            "duplicate_emails": duplicates,
            "duplicate_message_ids": sum(n - 1 for n in sink.message_ids.values() if n > 1),
            "missing_recipients": len(expected - set(sink.recipients)),
            "unexpected_recipients": len(set(sink.recipients) - expected),
            "records": records.count(),
            "records_sent": records.filter(sent_at__isnull=False).count(),
            "seconds_to_first_email": round((sink.first_at or all_at) - delivery_started, 2),
            "seconds_to_all_emails": round(all_at - delivery_started, 2),
            "emails_per_s": round(sink.received / max(all_at - delivery_started, 1e-9), 1),
            "cpu_cores": cpu,
        }
        ok = (
            delivery["received"] == followers
            and delivery["distinct_recipients"] == followers
            and duplicates == 0
            and delivery["duplicate_message_ids"] == 0
            and delivery["missing_recipients"] == 0
            and delivery["unexpected_recipients"] == 0
            and delivery["records_sent"] == followers
        )
        latency = {
            "no_followers": summary(idle["no_followers"]),
            "followers": summary(idle["followers"]),
            "no_followers_during_fanout": summary(busy) if busy else None,
            "the_delivered_publish": round(the_request_ms, 2),
        }
        result = {
            "benchmark": "fanout",
            "commit": commit,
            "started_at": started_at,
            "exactly_once": ok,
            "config": {
                "followers": followers,
                "repeats": repeats,
                "celery_workers": n_workers,
                "celery_concurrency": concurrency,
                "chunk_size": settings.NOTIFICATIONS_CHUNK_SIZE,
                "chunks": -(-followers // settings.NOTIFICATIONS_CHUNK_SIZE),
                "app_server": " ".join(granian[1:]),
                "broker": "redis (append-only file)",
                "database": "PostgreSQL 15, durable (fsync, synchronous_commit on)",
            },
            "publish_latency_ms": latency,
            "delivery": delivery,
            "machine": machine,
            "notes": [
                "publish_latency_ms.no_followers/followers: POST /api/articles by an author with 0 "
                "and with `followers` followers, interleaved, after 3 warm-ups each, with no "
                "worker running, one new HTTP connection per request (urllib). The request only "
                "enqueues one fan-out task after its commit; those queued fan-outs were dropped.",
                "no_followers_during_fanout: the same request every BENCH_PROBE_INTERVAL s while "
                "the workers sent the emails, on the same 2 cores.",
                "delivery: from just before the delivered publish request to the last email "
                "received by the aiosmtpd sink (in the bench process); then 3 s more for late "
                "duplicates. Recipients and Message-IDs are counted; records are ArticleEmail "
                "rows.",
                "delivery.cpu_cores: CPU seconds per second during the delivery, per process "
                "tree (bench_process is the SMTP sink and the prober); other is the rest of the "
                "machine (other sessions). Worker-bound when celery_workers is near nproc.",
            ],
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if followers == 10_000 else f"-{followers}"
        out = RESULTS / f"{commit['id']}-fanout{suffix}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        controller.stop()

        step("result")
        for name, entry in latency.items():
            if isinstance(entry, dict):
                p50, p99, n = entry["p50"], entry["p99"], entry["n"]
                print(f"  publish {name:28s} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  (n={n})")
        print(f"  the delivered publish request    {the_request_ms:.1f} ms")
        print(f"  delivery: {json.dumps(delivery)}")
        print(f"  exactly once: {'yes' if ok else 'NO'}; written to {out.relative_to(REPO)}")
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
