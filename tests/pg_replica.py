"""A real PostgreSQL streaming replica of the test database, and a small primary to restart.

``pg_replica`` (session): ``pg_basebackup -R -X stream`` from the suite's PostgreSQL (the one
``make test`` starts with tools/postgres.py; its default pg_hba.conf accepts replication from
127.0.0.1) into a directory under /tmp, started as a hot standby on a free port as the
``postgres`` user, stopped (SIGINT, fast shutdown) and removed in teardown. It follows the test
database that pytest-django created on the primary, so tests that use it commit their data
(``transaction=True``) and wait for replay (``wait_caught_up``).

``replica_alias`` (function): makes the replica Django's ``replica1`` alias with the router and the
read-your-writes middleware switched on, as ``DATABASE_REPLICA_URLS`` does, in a transactional
test whose ``databases`` include the alias; the routing is undone after the test.

``scratch_primary`` (function): a PostgreSQL of its own (tools/postgres.py) that a test may stop
and start again on the same port without touching the suite's database.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.services import ServerProcess, free_port, wait_until
from tests.support import load_tool

REPO = Path(__file__).resolve().parent.parent
ALIAS = "replica1"


pg_tools = load_tool("conduit_tools_postgres", REPO / "tools" / "postgres.py")


def _postgres_dir(prefix: str) -> Path:
    # Not under pytest's tmp dir: /tmp/pytest-of-root is 0700 and postgres could not enter it.
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def _query(conninfo: dict[str, Any], sql: str) -> Any:
    with psycopg.connect(**conninfo, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(sql).fetchone()
    return None if row is None else row[0]


@dataclass
class PgReplica:
    server: ServerProcess
    primary: dict[str, Any]
    dbname: str

    @property
    def port(self) -> int:
        return self.server.port

    def conninfo(self) -> dict[str, Any]:
        return {**self.primary, "port": self.port}

    def query(self, sql: str) -> Any:
        return _query(self.conninfo(), sql)

    def pause(self) -> None:
        self.query("SELECT pg_wal_replay_pause()")
        wait_until(lambda: self.query("SELECT pg_get_wal_replay_pause_state()") == "paused",
                   "replay paused")  # fmt: skip

    def resume(self) -> None:
        self.query("SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 60.0) -> None:
        """Until the replica has replayed everything the primary has committed so far (the insert
        position: the suite's server commits asynchronously, so the flushed one lags behind)."""
        from conduit.platform.db.replicas import PRIMARY_POSITION_SQL, record_boundary

        with psycopg.connect(**self.primary, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(PRIMARY_POSITION_SQL).fetchone()
        assert row is not None
        target = record_boundary(*map(int, row))
        wait_until(
            lambda: (
                self.query("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint") >= target
            ),
            "replica caught up",
            timeout,
        )

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start(timeout=60)


def _accepts_queries(conninfo: dict[str, Any]) -> bool:
    try:
        return _query(conninfo, "SELECT pg_is_in_recovery()") is True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_replica(django_db_setup: None, django_db_blocker: Any) -> Iterator[PgReplica]:
    with django_db_blocker.unblock():
        primary_settings = connections[DEFAULT_DB_ALIAS].settings_dict
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        pytest.skip("a streaming replica needs PostgreSQL")
    bin_dir = pg_tools.PG_BIN
    primary = {
        "host": primary_settings["HOST"] or "127.0.0.1",
        "port": int(primary_settings["PORT"] or 5432),
        "user": primary_settings["USER"] or "postgres",
        "dbname": primary_settings["NAME"],
    }
    workdir = _postgres_dir("conduit-test-replica-")
    data = workdir / "data"
    port = free_port()
    try:
        subprocess.run(  # noqa: S603 - fixed argv
            pg_tools.as_postgres(
                [str(bin_dir / "pg_basebackup"), "-h", primary["host"], "-p",
                 str(primary["port"]), "-U", primary["user"], "-D", str(data), "-R",
                 "-X", "stream", "-c", "fast"]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        server = ServerProcess(
            name="pg-replica",
            argv=pg_tools.as_postgres(
                [str(bin_dir / "postgres"), "-D", str(data), "-c", f"port={port}",
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={workdir}",
                 "-c", "hot_standby=on", "-c", "max_connections=200",
                 # a stopped primary is retried quickly, so the standby reconnects soon after
                 "-c", "wal_retrieve_retry_interval=200ms"]
            ),
            port=port,
            workdir=workdir,
            stop_signal=signal.SIGINT,
        )  # fmt: skip
        replica = PgReplica(server=server, primary=primary, dbname=primary["dbname"])
        server.ready = lambda: _accepts_queries(replica.conninfo())
        server.start(timeout=60)
        replica.wait_caught_up()
        yield replica
    finally:
        if "server" in locals():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def replica_registered(pg_replica: PgReplica) -> Iterator[PgReplica]:
    """``replica1`` in Django's connections for a module of tests, a mirror of ``default`` for the
    test machinery (the replica follows the primary's test database).

    Module-scoped so the alias exists before each test case is set up: Django refuses
    connections to an alias the test case's ``databases`` do not name, and checks those names
    at set-up. The module marks its tests ``django_db(transaction=True, databases=[default,
    replica1])``."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[ALIAS] = {
        **primary,
        "PORT": str(pg_replica.port),
        "TEST": {**primary["TEST"], "MIRROR": DEFAULT_DB_ALIAS},
    }
    try:
        yield pg_replica
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]
        del connections.settings[ALIAS]


@pytest.fixture
def replica_alias(
    replica_registered: PgReplica, transactional_db: None, settings: SettingsWrapper
) -> Iterator[PgReplica]:
    """The router and the read-your-writes middleware switched on for ``replica1``, as
    ``DATABASE_REPLICA_URLS`` does, and switched off after the test."""
    from conduit.platform.db import replicas
    from conduit.platform.http import probes

    pg_replica = replica_registered
    pg_replica.start()  # a test before this one may have stopped it
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.DATABASE_ROUTERS = ["conduit.platform.db.router.ReplicaRouter"]
    settings.DATABASE_REPLICA_CHECK_INTERVAL = 0.0
    settings.DATABASE_REPLICA_MAX_LAG = 300.0
    settings.DATABASE_REPLICA_CHECK_TIMEOUT = 2.0
    replicas.reset()
    probes.register_replica_check()
    try:
        yield pg_replica
    finally:
        probes.unregister("replicas")
        replicas.reset()
        if pg_replica.server.running:
            pg_replica.resume()
        connections[ALIAS].close()


@pytest.fixture
def scratch_primary() -> Iterator[tuple[Path, str]]:
    """``(data dir, DATABASE_URL)`` of a throw-away PostgreSQL; restart it with
    ``pg_tools.stop(dir)`` and ``pg_tools.start(dir, port, fast=True, fresh=False)``."""
    workdir = _postgres_dir("conduit-test-scratch-pg-")
    try:
        url = pg_tools.start(workdir, 0, True, True)
        yield workdir, url
    finally:
        pg_tools.stop(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
