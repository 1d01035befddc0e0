"""Replica health: which read replicas may serve reads right now, and how far behind they are.

Each process keeps one small state per replica alias (``settings.DATABASE_REPLICAS``) and refreshes
it at most every ``DATABASE_REPLICA_CHECK_INTERVAL`` seconds, lazily, in the thread that asks for a
replica: one thread checks while the others use the last state, so a slow check never queues
requests. The check runs on its own psycopg connection, never through Django's connections: it is
not a query of the request (query counts and ``conduit_db_queries_per_request`` stay exact), and a
replica that is down costs one failed connect per interval, not one per request.

A replica is *usable* when it answers, is still in recovery (a promoted replica is no longer a copy
of the primary) and its replay lag is at most ``DATABASE_REPLICA_MAX_LAG``. Otherwise it is fenced
until a later check says it is usable again (ADR 0017).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections

from conduit.platform import db_metrics

logger = logging.getLogger(__name__)

# Lag is 0 when the WAL receiver is streaming and everything received has been replayed: then
# "now - last replayed commit" would only measure how long the primary has been idle. Otherwise
# (replay paused or behind, or the receiver disconnected) it is the age of the last replayed commit,
# which is an upper bound of how stale a read can be; NULL (nothing replayed yet) counts as stale.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
                 AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
            ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
       END
"""


@dataclass
class ReplicaState:
    alias: str
    usable: bool = False
    lag: float = math.inf
    reason: str = "not checked yet"
    checked_at: float = -math.inf
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    monitor: psycopg.Connection[Any] | None = field(default=None, repr=False)

    def describe(self) -> str:
        if self.usable:
            return f"ok (lag {self.lag:.3f} s)"
        return f"fenced: {self.reason}"


_states: dict[str, ReplicaState] = {}
_states_lock = threading.Lock()


def aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def state_of(alias: str) -> ReplicaState:
    state = _states.get(alias)
    if state is None:
        with _states_lock:
            state = _states.setdefault(alias, ReplicaState(alias))
    return state


def conninfo(alias: str) -> dict[str, Any]:
    """psycopg connect arguments for ``alias``'s settings (the pool option is Django's own)."""
    config = connections.settings[alias]
    params: dict[str, Any] = {
        "dbname": config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    options = {k: v for k, v in config.get("OPTIONS", {}).items() if k != "pool"}
    params.update(options)
    params["connect_timeout"] = max(1, math.ceil(settings.DATABASE_REPLICA_CHECK_TIMEOUT))
    params["autocommit"] = True
    return {k: v for k, v in params.items() if v is not None}


def measure(state: ReplicaState) -> tuple[bool, float]:
    """``(in recovery, lag in seconds)`` from the replica; raises when it cannot be reached."""
    if state.monitor is None or state.monitor.closed:
        state.monitor = psycopg.connect(**conninfo(state.alias))
    try:
        row = state.monitor.execute(LAG_SQL).fetchone()
    except psycopg.Error:
        state.monitor.close()
        state.monitor = None
        raise
    in_recovery, lag = row if row is not None else (False, None)
    return bool(in_recovery), (math.inf if lag is None else max(0.0, float(lag)))


def check(state: ReplicaState) -> None:
    """Measure ``state``'s replica now and record the result (and the metrics)."""
    max_lag = float(settings.DATABASE_REPLICA_MAX_LAG)
    try:
        in_recovery, lag = measure(state)
    except (psycopg.Error, OSError) as error:
        usable, lag, reason = False, math.inf, f"unreachable: {str(error).strip()[:200]}"
    else:
        if not in_recovery:
            usable, reason = False, "not in recovery (promoted?)"
        elif lag > max_lag:
            usable, reason = False, f"replay lag {lag:.3f} s > {max_lag:g} s"
        else:
            usable, reason = True, ""
    if usable != state.usable and state.checked_at > -math.inf:
        logger.warning(
            "replica %s %s", state.alias, "usable again" if usable else f"fenced: {reason}"
        )
    state.usable, state.lag, state.reason = usable, lag, reason
    state.checked_at = time.monotonic()
    db_metrics.record_replica(state.alias, usable=usable, lag=lag)
    db_metrics.refresh_pool_gauges()


def refresh(state: ReplicaState, *, wait: bool = False) -> ReplicaState:
    """Check ``state`` when its last check is older than the interval. Without ``wait`` a thread
    that finds another one checking goes on with the last state instead of queueing behind it."""
    if time.monotonic() - state.checked_at < settings.DATABASE_REPLICA_CHECK_INTERVAL:
        return state
    if state.lock.acquire(blocking=wait):
        try:
            if time.monotonic() - state.checked_at >= settings.DATABASE_REPLICA_CHECK_INTERVAL:
                check(state)
        finally:
            state.lock.release()
    return state


def pick() -> str | None:
    """A usable replica's alias for a read, or ``None`` (then the primary serves it)."""
    usable = [s.alias for s in map(state_of, aliases()) if refresh(s).usable]
    if not usable:
        return None
    return usable[0] if len(usable) == 1 else random.choice(usable)  # noqa: S311 - load spreading


def reset() -> None:
    """Forget every replica's state and close the monitor connections (tests, settings changes)."""
    with _states_lock:
        states = list(_states.values())
        _states.clear()
    for state in states:
        if state.monitor is not None:
            state.monitor.close()


def check_replicas() -> None:
    """The ``/readyz`` check: reports each replica's state; a fenced replica is not a failure of
    the instance (the primary serves its reads), so this check is registered as non-critical."""
    fenced = []
    for state in map(state_of, aliases()):
        refresh(state, wait=True)
        if not state.usable:
            fenced.append(f"{state.alias} {state.describe()}")
    if fenced:
        raise RuntimeError("; ".join(fenced))
