"""Liveness and readiness probes: ``GET /healthz`` and ``GET /readyz``.

``/healthz`` answers "is this process alive and serving?": it touches nothing (no database, no
cache, no session) and is always 200 while the process can run a view. A supervisor restarts the
process when it fails.

``/readyz`` answers "should traffic be sent here?": it runs every registered check and answers 200
``{"status": "ready", "checks": {name: "ok"}}`` or, when any critical check fails, 503
``{"status": "unavailable", "checks": {name: "ok" | "failing"}}``. A load balancer takes the
instance out of rotation until it is ready again; it is not restarted. The probe is public (the
load balancer and the kubelet call it without credentials), so it names the failing check and no
more: the exception text (host names, ports, server messages) goes to the log as a
``readiness_check_failed`` line.

``broker`` joins the checks when ``CELERY_BROKER_URL`` is set (Redis ``PING`` or an AMQP
connect, ``BROKER_TIMEOUT`` seconds at most); without a broker tasks run inline: nothing to check.

Checks are a small registry (``register``/``unregister``), so that later pieces of the topology
(a broker, a read replica) add their own without touching the views. A check is a callable that
returns ``None`` when healthy and raises when not; the exception text is what the log line shows.
A check registered with ``critical=False`` (a read replica: the primary serves its reads) reports
its failure in the JSON without making the instance unready.
"""

import uuid
from collections.abc import Callable
from threading import Lock

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

Check = Callable[[], None]

logger = structlog.get_logger(__name__)

_checks: dict[str, Check] = {}
_not_critical: set[str] = set()
_lock = Lock()


def register(name: str, check: Check, *, critical: bool = True) -> Check | None:
    """Add (or replace) the check called ``name``; returns the one it replaced, if any."""
    with _lock:
        previous = _checks.get(name)
        _checks[name] = check
        if critical:
            _not_critical.discard(name)
        else:
            _not_critical.add(name)
    return previous


def unregister(name: str) -> None:
    with _lock:
        _checks.pop(name, None)
        _not_critical.discard(name)


def is_critical(name: str) -> bool:
    with _lock:
        return name not in _not_critical


def registered() -> dict[str, Check]:
    with _lock:
        return dict(_checks)


def run_checks() -> tuple[bool, dict[str, str]]:
    """Run every check; ``(no critical one failed, {name: "ok" or "failing"})``. Each failure is
    logged with its exception text, which never reaches the answer."""
    results: dict[str, str] = {}
    healthy = True
    for name, check in registered().items():
        try:
            check()
        except Exception as error:
            critical = name not in _not_critical
            healthy = healthy and not critical
            results[name] = "failing"
            logger.warning(
                "readiness_check_failed",
                check=name,
                critical=critical,
                error=f"{type(error).__name__}: {error}",
            )
        else:
            results[name] = "ok"
    return healthy, results


# --- the built-in checks ----------------------------------------------------------------------


def check_database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


# Once every migration is applied it stays so for the life of the process (a deploy that adds
# migrations starts new processes), so the plan is computed only until it first comes out empty.
_migrations_applied = False


def check_migrations() -> None:
    global _migrations_applied
    if _migrations_applied:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        more = f" (+{len(plan) - 5} more)" if len(plan) > 5 else ""
        raise RuntimeError(f"{len(plan)} unapplied migration(s): {names}{more}")
    _migrations_applied = True


def reset_migrations_cache() -> None:
    """Forget a cached "all applied" (tests, or after migrating a live process's database)."""
    global _migrations_applied
    _migrations_applied = False


def check_cache() -> None:
    key = "conduit:readyz"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return the value just set")


register("database", check_database)
register("migrations", check_migrations)
# Not critical: with the cache down Conduit is slower, never wrong (ADR 0016); taking every
# instance out of rotation for it would turn a cache outage into a site outage.
register("cache", check_cache, critical=False)


def check_replicas() -> None:
    from conduit.platform.db import replicas  # psycopg: only where replicas are configured

    replicas.check_replicas()


def register_replica_check() -> None:
    """Every configured replica's state ("ok", or why it is fenced); never makes /readyz fail."""
    register("replicas", check_replicas, critical=False)


if getattr(settings, "DATABASE_REPLICAS", []):
    register_replica_check()


# A broker that does not answer within this long counts as down: /readyz must stay quick (a
# probe times out, typically after 1-5 s) and a load balancer polls it every few seconds.
BROKER_TIMEOUT = 1.0


def check_broker() -> None:
    """The Celery broker answers: Redis ``PING``, or an AMQP connection opened and closed.

    Without it, a request that enqueues a task (publishing an article, an avatar upload) would
    fail after its write committed, so an instance that cannot reach the broker is not ready.
    """
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(
            url, socket_timeout=BROKER_TIMEOUT, socket_connect_timeout=BROKER_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    from kombu import Connection

    with Connection(url, connect_timeout=BROKER_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)


def register_broker_check() -> None:
    register("broker", check_broker)


if getattr(settings, "CELERY_BROKER_URL", ""):
    register_broker_check()


# --- the views --------------------------------------------------------------------------------


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    healthy, results = run_checks()
    if healthy:
        return JsonResponse({"status": "ready", "checks": results})
    return JsonResponse({"status": "unavailable", "checks": results}, status=503)
