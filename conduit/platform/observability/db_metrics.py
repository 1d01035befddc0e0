"""Database gauges for Prometheus: replica lag and usability, connection pool use.

Gauges, not collectors, so they work in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``): each
process writes its own values and ``/metrics`` combines the live processes' (the worst lag, the
lowest usability, the summed pool connections). They are set when a process checks its replicas
(every ``DATABASE_REPLICA_CHECK_INTERVAL`` while it serves reads) and when ``/metrics`` is scraped
(that process's pool), never per query.
"""

import math

from django.db import connections
from prometheus_client import Gauge

REPLICA_LAG = Gauge(
    "conduit_db_replica_lag_seconds",
    "Replay lag of a read replica at its last check (-1: unreachable).",
    ["alias"],
    multiprocess_mode="livemax",
)
REPLICA_USABLE = Gauge(
    "conduit_db_replica_usable",
    "1 when a read replica serves reads, 0 when it is fenced (down, promoted or lagging).",
    ["alias"],
    multiprocess_mode="livemin",
)
POOL_CONNECTIONS = Gauge(
    "conduit_db_pool_connections",
    "Connections of Django's psycopg pool by state (idle, busy, waiting: requests queued).",
    ["alias", "state"],
    multiprocess_mode="livesum",
)


def record_replica(alias: str, *, usable: bool, lag: float) -> None:
    REPLICA_USABLE.labels(alias).set(1 if usable else 0)
    REPLICA_LAG.labels(alias).set(-1 if math.isinf(lag) else lag)


def refresh_pool_gauges() -> None:
    """Set the pool gauges from each pooled alias's psycopg pool in this process."""
    for alias in connections:
        if connections.settings[alias].get("OPTIONS", {}).get("pool") is None:
            continue
        pool = getattr(connections[alias], "pool", None)
        if pool is None:
            continue
        stats = pool.get_stats()
        size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
        POOL_CONNECTIONS.labels(alias, "idle").set(idle)
        POOL_CONNECTIONS.labels(alias, "busy").set(max(0, size - idle))
        POOL_CONNECTIONS.labels(alias, "waiting").set(stats.get("requests_waiting", 0))
