"""Encryption in transit to PostgreSQL and Redis, as `make stack` sets them up (ADR 0033): a CA
and server certificate made by tools/stack/tls.py with Debian's openssl, a PostgreSQL and a Redis
of this test's own serving TLS with it, and the clients the app uses (psycopg with
``sslmode=verify-full``; redis-py, kombu and Celery with ``rediss://``) verifying it. A client
given another CA, or a name the certificate does not hold, is refused; a plain client on the TLS
port gets nothing."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import celery
import kombu
import postgres  # tools/postgres.py (tests/stack/conftest.py puts tools/ on sys.path)
import psycopg
import pytest
import redis

from tests.services import RedisServer, free_port, make_redis
from tests.stack.conftest import stack

pytestmark = pytest.mark.services

Tls = stack.tls.Tls


@pytest.fixture(scope="module")
def certificates() -> Iterator[tuple[Tls, Tls]]:
    """The stack's certificates, and another CA's (a client that trusts only that one must
    refuse the server). Under /tmp, where postgres may read its copy."""
    base = Path(tempfile.mkdtemp(prefix="conduit-tls-test-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield stack.tls.ensure(base / "tls"), stack.tls.ensure(base / "other")
    finally:
        shutil.rmtree(base)


def test_the_certificate_is_made_once_and_names_loopback(certificates) -> None:
    tls, other = certificates
    show = ["openssl", "x509", "-noout", "-text", "-in", str(tls.cert)]
    text = subprocess.run(show, capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert "IP Address:127.0.0.1" in text
    assert "DNS:localhost" in text
    before = tls.cert.read_bytes()
    assert stack.tls.ensure(tls.directory) == tls
    assert tls.cert.read_bytes() == before  # reused, not made again
    assert other.ca.read_bytes() != tls.ca.read_bytes()


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_postgres(certificates) -> Iterator[int]:
    """A PostgreSQL 15 with ssl=on and the stack's certificate (a copy owned by postgres, 0600,
    as tools/stack/patroni.py gives each member); its port."""
    tls, _ = certificates
    server = tls.directory.parent / "pg"
    own = tls.copy_for(tls.directory.parent / "pg-tls", "postgres")
    settings = {"ssl": "on", "ssl_cert_file": str(own.cert), "ssl_key_file": str(own.key)}
    url = postgres.start(server, 0, fast=True, fresh=True, settings=settings)
    try:
        yield int(url.rsplit(":", 1)[1].split("/")[0])
    finally:
        postgres.stop(server)


def connect(port: int, ca: Path, host: str = "127.0.0.1", **more: str) -> psycopg.Connection:
    return psycopg.connect(
        host=host, port=port, user="postgres", dbname=postgres.DB_NAME, sslmode="verify-full",
        sslrootcert=str(ca), connect_timeout=5, **more,
    )  # fmt: skip


def test_psycopg_with_verify_full_and_the_ca_connects_over_tls(tls_postgres, certificates):
    tls, _ = certificates
    with connect(tls_postgres, tls.ca) as conn:
        row = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert row.fetchone() == (True, "TLSv1.3")


def test_the_app_connects_with_the_stack_s_database_url(tls_postgres, certificates):
    # The URL as tools/stack/databases.py makes it, read by django-environ as the settings do.
    import environ

    tls, _ = certificates
    url = f"postgres://postgres@127.0.0.1:{tls_postgres}/conduit?{tls.postgres_query()}"
    config = environ.Env.db_url_config(url)
    assert config["OPTIONS"] == {"sslmode": "verify-full", "sslrootcert": str(tls.ca)}
    with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=5) as conn:
        assert conn.pgconn.ssl_in_use


def test_another_ca_is_refused(tls_postgres, certificates):
    _, other = certificates
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        connect(tls_postgres, other.ca)


def test_a_name_the_certificate_does_not_hold_is_refused(tls_postgres, certificates):
    # Connected to 127.0.0.1, but asking for another name: verify-full checks it.
    tls, _ = certificates
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        connect(tls_postgres, tls.ca, host="db.example.com", hostaddr="127.0.0.1")


# --- Redis --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_redis(
    certificates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RedisServer, int]]:
    """A Redis with its plain port and a TLS port beside it, as tools/stack/services.py runs it;
    the server and the TLS port."""
    tls, _ = certificates
    server = make_redis(tmp_path_factory.mktemp("redis-tls"))
    tls_port = free_port()
    server.argv += tls.redis_args(tls_port)
    server.start()
    try:
        yield server, tls_port
    finally:
        server.stop()


def test_redis_py_over_rediss_with_the_ca(tls_redis, certificates):
    tls, _ = certificates
    _, port = tls_redis
    client = redis.Redis.from_url(tls.redis_url(port, 0), socket_timeout=5)
    client.set("tls-check", b"sealed")
    assert client.get("tls-check") == b"sealed"
    info = client.info("clients")
    assert info["connected_clients"] >= 1
    client.close()


def test_redis_refuses_a_client_that_trusts_another_ca(tls_redis, certificates):
    _, other = certificates
    _, port = tls_redis
    client = redis.Redis.from_url(other.redis_url(port, 0), socket_timeout=5)
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        client.ping()


def test_a_plain_connection_to_the_tls_port_fails(tls_redis):
    _, port = tls_redis
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    with pytest.raises(redis.ConnectionError):
        client.ping()


def test_the_app_s_cache_backend_over_rediss(tls_redis, certificates):
    from conduit.platform.cache.backends import RedisCache

    tls, _ = certificates
    _, port = tls_redis
    cache = RedisCache(tls.redis_url(port, 0), {"KEY_PREFIX": "tls-test"})
    cache.set("k", {"v": 1}, 30)
    assert cache.get("k") == {"v": 1}
    assert cache._client is not None
    connection = cache._client.connection
    assert isinstance(connection, redis.SSLConnection)
    assert connection.cert_reqs == ssl.CERT_REQUIRED


def test_celery_s_broker_over_rediss(tls_redis, certificates):
    # kombu and Celery take the CA and ssl_cert_reqs from the URL, as the stack's
    # CELERY_BROKER_URL gives them; a message goes through the TLS port and back.
    tls, other = certificates
    _, port = tls_redis
    app = celery.Celery("tls-test", broker=tls.redis_url(port, 1), set_as_current=False)
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        queue = connection.SimpleQueue("tls-test")
        queue.put({"sealed": True})
        message = queue.get(timeout=5)
        message.ack()
        assert message.payload == {"sealed": True}
        queue.close()
    refused = kombu.Connection(
        f"rediss://127.0.0.1:{port}/1?ssl_cert_reqs=required&ssl_ca_certs={quote(str(other.ca))}"
    )
    with pytest.raises(Exception, match="certificate verify failed"):
        refused.ensure_connection(max_retries=1)
