"""PostgreSQL for `make stack`: the primary and a streaming replica, under
/tmp/conduit-stack-<hash>/ (the postgres user cannot enter /root-owned directories)."""

from __future__ import annotations

import os
import shutil
import subprocess

import postgres  # tools/postgres.py

from .core import PG_BASE, Stack, StackError, spawn, wait_for

STREAMING = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"


def psql(port: int, sql: str) -> str:
    out = subprocess.run(
        [str(postgres.PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
         "-d", postgres.DB_NAME, "-Atc", sql],
        capture_output=True, text=True, check=True, timeout=10,
    )  # fmt: skip
    return out.stdout.strip()


def start_primary(stack: Stack, port: int) -> str:
    """A fresh primary (tools/postgres.py: initdb as postgres, durable settings, trust auth on
    loopback; the default pg_hba.conf already allows replication connections from 127.0.0.1).
    Returns its DATABASE_URL."""
    print(f"== PostgreSQL primary on 127.0.0.1:{port}", flush=True)
    primary_dir = PG_BASE / "primary"
    PG_BASE.mkdir(mode=0o755, exist_ok=True)
    PG_BASE.chmod(0o755)
    try:
        database_url = postgres.start(primary_dir, port, fast=False, fresh=True)
    except SystemExit as error:
        raise StackError(f"PostgreSQL primary: {error}; see {primary_dir / 'server.log'}") from None
    stack.record("postgres-primary", int((primary_dir / "server.pid").read_text()),
                 f"127.0.0.1:{port}", primary_dir / "server.log", "postgres", "INT")  # fmt: skip
    return database_url


def start_replica(stack: Stack, port: int, primary_port: int) -> str:
    """A base backup of the primary with standby.signal and primary_conninfo (-R), started as a
    hot standby on its own port; ready once the primary sees it streaming. Returns its URL."""
    print(f"== PostgreSQL streaming replica on 127.0.0.1:{port}", flush=True)
    replica_dir = PG_BASE / "replica"
    if replica_dir.exists():
        shutil.rmtree(replica_dir)
    replica_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(replica_dir, "postgres", "postgres")
    log = replica_dir / "server.log"
    subprocess.run(
        postgres.as_postgres(
            [str(postgres.PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port),
             "-U", "postgres", "-D", str(replica_dir / "data"), "-R", "-X", "stream", "-c", "fast"]
        ),
        check=True,
    )  # fmt: skip
    pid = spawn(
        postgres.as_postgres(
            [str(postgres.PG_BIN / "postgres"), "-D", str(replica_dir / "data"),
             "-c", f"port={port}", "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={replica_dir}", "-c", "max_connections=200",
             "-c", "hot_standby=on"]
        ),
        log,
    )  # fmt: skip
    stack.record("postgres-replica", pid, f"127.0.0.1:{port}", log, "postgres", "INT")

    def streaming() -> bool:
        isready = [str(postgres.PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-q"]
        if subprocess.run([*isready, "-p", str(port)], check=False).returncode != 0:
            return False
        return psql(primary_port, STREAMING) == "1"

    wait_for("PostgreSQL replica (streaming)", streaming, log, pid, "postgres")
    return f"postgres://postgres@127.0.0.1:{port}/{postgres.DB_NAME}"
