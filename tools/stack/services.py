"""Redis (the cache and the Celery broker) and the SMTP sink for `make stack`."""

from __future__ import annotations

import socket

from . import tls
from .core import LOGS, PY, STACK, Stack, fresh_directory, spawn, wait_for


def redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


def smtp_banner(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        ok = sock.recv(256).startswith(b"220")
        sock.sendall(b"QUIT\r\n")
        return ok


def redis_argv(port: int, tls_port: int | None = None) -> list[str]:
    """Redis as the stack runs it (a drill restarts it with the same: Redis rewrites its own
    command line in /proc, so it cannot be read back from there). ``tls_port``: TLS there with
    the stack's certificate (var/stack/tls/, ADR 0033), beside the plain ``port``."""
    plain = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--dir", str(STACK / "redis"), "--daemonize", "no"]  # fmt: skip
    return plain + (tls.ensure().redis_args(tls_port) if tls_port else [])


def start_redis(stack: Stack, port: int, tls_port: int) -> None:
    """One Redis for the cache (db 0) and the broker (db 1), with an append-only file under
    var/stack/redis/ (a queued task survives a restart of Redis: the drills'). The app's
    connections use its TLS port; the plain port stays on loopback for the exporter and the
    drills' checks (ADR 0033). Each make stack starts it empty, as it makes the database fresh:
    the last stack's cache would answer for the new database's ids (a new account showed the
    name of the old account with its id), and its queue would run tasks for rows that are gone."""
    print(f"== Redis on 127.0.0.1:{port}, TLS on :{tls_port}", flush=True)
    fresh_directory(STACK / "redis")
    log = LOGS / "redis.log"
    pid = spawn(redis_argv(port, tls_port), log)
    stack.record("redis", pid, f"127.0.0.1:{port} (TLS :{tls_port})", log, "redis-server", "TERM",
                 tls_port=tls_port)  # fmt: skip
    wait_for("Redis", lambda: redis_ping(port), log, pid, "redis-server")


def start_smtp_sink(stack: Stack, port: int) -> None:
    """aiosmtpd filing every message in var/stack/mail/ (a Maildir)."""
    print(f"== SMTP sink on 127.0.0.1:{port} (mail in var/stack/mail/)", flush=True)
    mail_dir = STACK / "mail"
    # A Maildir: aiosmtpd's Mailbox handler creates one only where no directory exists yet, and
    # fails every delivery (SMTP 500) into a bare directory.
    for sub in ("tmp", "new", "cur"):
        (mail_dir / sub).mkdir(parents=True, exist_ok=True)
    log = LOGS / "smtp.log"
    pid = spawn(
        [str(PY), "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Mailbox", str(mail_dir)],
        log,
    )  # fmt: skip
    stack.record("smtp-sink", pid, f"127.0.0.1:{port}", log, "aiosmtpd", "TERM")
    wait_for("SMTP sink", lambda: smtp_banner(port), log, pid, "aiosmtpd")
