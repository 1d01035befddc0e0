"""Conduit itself in `make stack`: the app servers' environment, the database's set-up (migrate,
collectstatic, demo data) and the granian app servers."""

from __future__ import annotations

import os
import secrets
import subprocess
import time

from .core import (
    LOGS,
    PY,
    ROOT,
    STACK,
    Stack,
    StackError,
    answers_200,
    fresh_directory,
    spawn,
    wait_for,
)

GRANIAN = ROOT / ".venv" / "bin" / "granian"

# Seconds a stopping app server gives its in-flight requests (granian's --workers-kill-timeout;
# deploy/docker/entrypoint.sh uses the same 30, under Kubernetes' terminationGracePeriodSeconds).
DRAIN_TIMEOUT = int(os.environ.get("STACK_DRAIN_TIMEOUT", "30"))


def app_server_argv(port: int, *, workers: int = 1, threads: int = 4) -> list[str]:
    """granian serving Conduit on 127.0.0.1:``port``: the stack's app servers and tests/stack/.

    On SIGTERM granian closes its listening socket at once (new connections are refused, so the
    load balancer tries another server), lets in-flight requests finish for up to DRAIN_TIMEOUT
    seconds, then exits (tests/stack/test_drain.py).
    """
    return [str(GRANIAN), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws",
            "--respawn-failed-workers", "--workers-kill-timeout", str(DRAIN_TIMEOUT),
            "--log-level", os.environ.get("GRANIAN_LOG_LEVEL", "warning"),
            "config.wsgi:application"]  # fmt: skip


def app_environment(stack: Stack, urls: dict[str, str], site_url: str, lb: str) -> dict[str, str]:
    """The environment of the app servers, the set-up commands and Celery: ``urls`` (the
    database, replica, cache, mail and broker URLs by variable), recorded in the state file
    without the secret key, which lives in var/stack/secret_key."""
    secret_file = STACK / "secret_key"
    if not secret_file.exists() or not secret_file.read_text().strip():
        secret_file.touch(mode=0o600)
        secret_file.write_text(secrets.token_urlsafe(50) + "\n")
    (STACK / "media" / "avatars").mkdir(parents=True, exist_ok=True)
    app_env = {
        **urls,
        "DEBUG": "false",
        "DATABASE_POOL": "true",  # ADR 0017: measured ahead of persistent connections and pgbouncer
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # A front end on another port of this machine may call the API (it serves on loopback).
        "CORS_ALLOW_LOOPBACK": os.environ.get("CORS_ALLOW_LOOPBACK") or "true",
        # The balancer serves HTTPS and redirects browsers there itself (ADR 0033); the app never
        # redirects (the drills, the bench and the suites call it over plain HTTP). nginx and
        # HAProxy always set X-Forwarded-Proto, so a request that came over HTTPS is one to the
        # app, which then sends HSTS: for five minutes, since a browser holds localhost (not
        # 127.0.0.1: an address gets none) to HTTPS on every port, make run's too.
        "SECURE_SSL_REDIRECT": os.environ.get("SECURE_SSL_REDIRECT") or "false",
        "TRUST_X_FORWARDED_PROTO": "true",
        "SECURE_HSTS_SECONDS": os.environ.get("SECURE_HSTS_SECONDS") or "300",
        # Image URLs in API answers and links in emails: the load balancer's address.
        "SITE_URL": os.environ.get("SITE_URL") or site_url,
        "LOG_FORMAT": "json",
        # RealWorld's suites register with common passwords and are run against the stack too.
        "PASSWORD_REJECT_COMMON": os.environ.get("PASSWORD_REJECT_COMMON") or "false",
        # nginx and HAProxy in front, on loopback: their X-Forwarded-For names the client.
        "TRUSTED_PROXIES": os.environ.get("TRUSTED_PROXIES") or "127.0.0.1",
        "STATIC_ROOT": str(STACK / "static"),
        "MEDIA_ROOT": str(STACK / "media"),
        # nginx serves the avatars; behind HAProxy (which serves no files) the app does.
        "MEDIA_SERVE": "true" if lb == "haproxy" else "false",
    }
    stack.set(env=app_env)
    env = {**os.environ, **app_env, "SECRET_KEY": secret_file.read_text().strip()}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def set_up_database(env: dict[str, str]) -> None:
    """A fresh database at each start: migrate, collectstatic, seed_demo."""
    print("== migrate, collectstatic, seed_demo", flush=True)
    log = LOGS / "setup.log"
    for args in (["migrate", "--noinput"], ["collectstatic", "--noinput", "--clear"],
                 ["seed_demo"]):  # fmt: skip
        print(f"   manage.py {args[0]} ...", end=" ", flush=True)  # each takes seconds
        started = time.monotonic()
        with open(log, "ab") as out:
            done = subprocess.run(
                [str(PY), "manage.py", *args], env=env, cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        print(f"{time.monotonic() - started:.1f} s", flush=True)
        if done.returncode != 0:
            raise StackError(f"manage.py {args[0]} failed; see {log}")


def start_app_servers(stack: Stack, ports: list[int], env: dict[str, str]) -> None:
    """One granian per port, each with its own metrics directory (emptied: metrics.py refuses a
    stale one); started together, then each waited for until /readyz answers 200."""
    pids = []
    for i, port in enumerate(ports, start=1):
        print(f"== app server {i} (granian) on 127.0.0.1:{port}", flush=True)
        metrics_dir = fresh_directory(STACK / "metrics" / f"app-{i}")
        log = LOGS / f"app-{i}.log"
        pid = spawn(
            app_server_argv(port), log, {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        )
        stack.record(f"app-{i}", pid, f"127.0.0.1:{port}", log, "granian", "TERM")
        pids.append(pid)
    for i, (port, pid) in enumerate(zip(ports, pids, strict=True), start=1):
        url = f"http://127.0.0.1:{port}/readyz"
        wait_for(f"app server {i} /readyz", answers_200(url), LOGS / f"app-{i}.log", pid, "granian")


def events_server_argv(port: int) -> list[str]:
    """granian's ASGI interface serving the live-update streams (ADR 0030): one worker, whose
    event loop holds thousands of idle streams; nginx routes /events/ here. granian serves at
    most --backpressure requests at once per worker (default: the backlog, 1024): a stream is
    a request for its whole life, so the limit is raised (docs/performance.md)."""
    return [str(GRANIAN), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--backlog", "2048", "--backpressure", "20000",
            "--no-ws", "--respawn-failed-workers",
            "--workers-kill-timeout", "5",
            "--log-level", os.environ.get("GRANIAN_LOG_LEVEL", "warning"),
            "config.asgi:application"]  # fmt: skip


def start_events_server(stack: Stack, port: int, env: dict[str, str]) -> None:
    """The events server, with the app servers' environment (DATABASE_POOL: no persistent
    connection per thread under ASGI) and a metrics directory of its own."""
    print(f"== events server (granian ASGI) on 127.0.0.1:{port}", flush=True)
    metrics_dir = fresh_directory(STACK / "metrics" / "events")
    log = LOGS / "events.log"
    pid = spawn(
        events_server_argv(port), log, {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    )
    stack.record("events", pid, f"127.0.0.1:{port}", log, "granian", "TERM")
    wait_for("events server /readyz", answers_200(f"http://127.0.0.1:{port}/readyz"), log, pid,
             "granian")  # fmt: skip
