"""What ``make bench-fanout`` runs (its PostgreSQL aside): a Redis broker, the migrated and
seeded database, Django in the bench process, the SMTP sink, the app on granian and the Celery
workers, each started here and stopped by PID (``Processes``)."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchkit import REPO
from benchkit.dataset import seed_followers
from benchkit.net import free_ports, port_answers
from benchkit.servers import (
    Proc,
    Processes,
    celery_worker_command,
    granian_command,
    redis_command,
)
from benchkit.smtp_sink import CountingSink

VENV_BIN = Path(sys.executable).parent


def env_int(name: str, default: int) -> int:
    """A positive integer from the environment (the fan-out benches' settings)."""
    value = int(os.environ.get(name, default))
    if value <= 0:
        raise SystemExit(f"{name} must be a positive integer")
    return value


def step(text: str) -> None:
    print(f"\n=== {text}", flush=True)


@dataclass
class Stack:
    """What runs for the benchmark: the broker, the app, the sink, the two authors."""

    procs: Processes
    env: dict[str, str]
    redis: Proc
    redis_port: int
    app: Proc
    app_command: list[str]
    base: str
    sink: CountingSink
    controller: Any  # aiosmtpd's Controller
    popular: Any
    tokens: tuple[str, str]  # popular's, lonely's
    fan_emails: list[str]


def app_env(database_url: str, broker_port: int, smtp_port: int) -> dict[str, str]:
    """The app's production settings, for granian, the workers and this process."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "SECURE_HSTS_SECONDS": "0",
        "RATE_LIMITS_ENABLED": "false",  # seeding and publishing through the API, quickly
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{broker_port}/1",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(REPO),
    }


def start(
    procs: Processes,
    run_dir: Path,
    database_url: str,
    *,
    followers: int,
    web_workers: int,
    web_threads: int,
) -> Stack:
    """Redis, the migrated and seeded database, Django in this process, the sink, granian."""
    redis_port, smtp_port, app_port = free_ports(3)
    step(f"Redis broker on 127.0.0.1:{redis_port} (append-only file, as make stack)")
    redis_dir = run_dir / "redis"
    redis_dir.mkdir()
    redis = procs.start("redis", redis_command(redis_port, redis_dir), dict(os.environ))
    procs.wait_for(redis, lambda: port_answers(redis_port))
    env = app_env(database_url, redis_port, smtp_port)
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})

    step("migrate")
    manage = [str(VENV_BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
    import django

    sys.path.insert(0, str(REPO))
    django.setup()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per command
    from aiosmtpd.controller import Controller

    from conduit.api.authentication import token_for

    step(f"seed: an author with {followers:,} followers, one with none")
    t0 = time.perf_counter()
    popular, lonely, fan_emails = seed_followers(followers)
    print(f"seeded in {time.perf_counter() - t0:.1f} s", flush=True)

    step(f"SMTP sink (aiosmtpd) on 127.0.0.1:{smtp_port}")
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    step(f"granian on 127.0.0.1:{app_port}, {web_workers} workers x {web_threads} threads")
    granian = granian_command(VENV_BIN, port=app_port, workers=web_workers, threads=web_threads)
    app = procs.start("granian", granian, env)
    procs.wait_for(app, lambda: port_answers(app_port))
    return Stack(procs, env, redis, redis_port, app, granian, f"http://127.0.0.1:{app_port}",
                 sink, controller, popular, (token_for(popular), token_for(lonely)),
                 fan_emails)  # fmt: skip


def start_workers(stack: Stack, count: int, concurrency: int) -> list[Proc]:
    step(f"{count} Celery workers x {concurrency} processes (queues email, default)")
    workers = [
        stack.procs.start(
            f"celery-worker-{n + 1}",
            celery_worker_command(VENV_BIN, f"bench-fanout-{n + 1}", concurrency),
            stack.env,
        )
        for n in range(count)
    ]
    for worker in workers:
        stack.procs.wait_for(worker, worker.logged(b" ready."))
    return workers
