"""Celery in `make stack`: one worker for every queue, and beat."""

from __future__ import annotations

import socket

from .core import LOGS, ROOT, STACK, Stack, fresh_directory, spawn, wait_for

CELERY = ROOT / ".venv" / "bin" / "celery"
QUEUES = "default,email,media,exports"


def start_celery_worker(stack: Stack, metrics_port: int, env: dict[str, str]) -> int:
    """The worker: its pool processes write metrics to their own multiprocess directory, which
    the main process serves on ``metrics_port``. Returns its PID (wait_for_celery waits)."""
    metrics = fresh_directory(STACK / "metrics" / "worker")
    log = LOGS / "celery-worker.log"
    pid = spawn(
        [str(CELERY), "-A", "config", "worker", "-Q", QUEUES, "--concurrency", "2",
         "--hostname", f"stack-worker@{socket.gethostname()}", "--loglevel", "INFO",
         "--without-mingle", "--without-gossip"],
        log,
        {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics), "CELERY_METRICS_PORT": str(metrics_port)},
    )  # fmt: skip
    stack.record("celery-worker", pid, f"metrics 127.0.0.1:{metrics_port}", log, "worker", "TERM")
    return pid


def start_celery_beat(stack: Stack, env: dict[str, str]) -> int:
    """Beat, its schedule file under var/stack/. Returns its PID."""
    log = LOGS / "celery-beat.log"
    pid = spawn(
        [str(CELERY), "-A", "config", "beat", "--loglevel", "INFO",
         "--schedule", str(STACK / "celerybeat-schedule")],
        log,
        env,
    )  # fmt: skip
    stack.record("celery-beat", pid, "-", log, "beat", "TERM")
    return pid


def start_celery(stack: Stack, metrics_port: int, env: dict[str, str]) -> None:
    """The worker and beat, started together and then waited for (each logs when it is up)."""
    print(f"== Celery worker (queues {QUEUES}, metrics on :{metrics_port}) and beat", flush=True)
    worker = start_celery_worker(stack, metrics_port, env)
    beat = start_celery_beat(stack, env)
    worker_log, beat_log = LOGS / "celery-worker.log", LOGS / "celery-beat.log"
    wait_for("Celery worker", lambda: b" ready." in worker_log.read_bytes(), worker_log, worker,
             "worker")  # fmt: skip
    wait_for("Celery beat", lambda: b"beat: Starting" in beat_log.read_bytes(), beat_log, beat,
             "beat")  # fmt: skip
