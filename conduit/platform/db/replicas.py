"""Replica health: which read replicas may serve reads right now, and how far behind they are.

Each process keeps one small state per replica alias (``settings.DATABASE_REPLICAS``) and refreshes
it at most every ``DATABASE_REPLICA_CHECK_INTERVAL`` seconds, lazily, in the thread that asks for a
replica: one thread checks while the others use the last state, so a slow check never queues
requests. The check runs on its own psycopg connections (one to the replica, one to the primary
for its WAL position), never through Django's connections: it is not a query of the request
(query counts and ``conduit_db_queries_per_request`` stay exact), and a replica that is down costs
one failed connect per interval, not one per request.

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
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from conduit.platform.observability import db_metrics

logger = logging.getLogger(__name__)

# How stale a replica can be (ADR 0017). Each check samples the primary's WAL insert position
# first, at time t, then the replica's replay position r. Every commit acknowledged before t is
# below the insert position at t (also with synchronous_commit=off, where the flushed position
# lags behind acknowledged commits), so once r has passed a sample the replica holds everything
# the primary had at that sample's time: the lag is the age of the latest such sample. It is an
# upper bound of the age of the oldest write the replica has not replayed, exact to the check
# interval: a paused replica ages from the moment it fell behind (not from its last replayed
# commit, which may be hours old on a quiet primary, nor NULL after a restart); a replica that
# keeps up under a steady write load reads as at most one interval behind. Until a sample has been
# passed (a new process facing a replica that is already behind) the lag is unknown and the
# replica fenced.
PRIMARY_POSITION_SQL = """
SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint,
       current_setting('wal_block_size')::bigint,
       (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')
"""
REPLICA_SQL = "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint"
_SHORT_PAGE_HEADER, _LONG_PAGE_HEADER = (
    24,
    40,
)  # MAXALIGNed XLogPageHeaderData, XLogLongPageHeaderData


def record_boundary(insert_lsn: int, block_size: int, segment_size: int) -> int:
    """The insert position as the end of the last record: at the start of a WAL page it points
    past the page header, where a replayed record's end stops at the page boundary."""
    if insert_lsn % segment_size == _LONG_PAGE_HEADER:
        return insert_lsn - _LONG_PAGE_HEADER
    if insert_lsn % block_size == _SHORT_PAGE_HEADER:
        return insert_lsn - _SHORT_PAGE_HEADER
    return insert_lsn


# Samples the replica has not passed yet, oldest first; when full the oldest is dropped, which
# only makes the lag read larger (never smaller) than it is.
_MAX_PENDING_SAMPLES = 256


@dataclass
class ReplicaState:
    alias: str
    usable: bool = False
    lag: float = math.inf
    reason: str = "not checked yet"
    checked_at: float = -math.inf
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    monitor: psycopg.Connection[Any] | None = field(default=None, repr=False)
    primary_monitor: psycopg.Connection[Any] | None = field(default=None, repr=False)
    caught_up_at: float | None = None  # time of the latest primary sample the replica has passed
    pending: deque[tuple[float, int]] = field(
        default_factory=lambda: deque(maxlen=_MAX_PENDING_SAMPLES), repr=False
    )

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


def _fetch(
    connection: psycopg.Connection[Any] | None, alias: str, sql: str
) -> tuple[psycopg.Connection[Any], tuple[Any, ...]]:
    """Run ``sql`` on the monitor ``connection`` to ``alias`` (opened when missing); a failed
    connection is closed and the error raised."""
    if connection is None or connection.closed:
        connection = psycopg.connect(**conninfo(alias))
    try:
        row = connection.execute(sql).fetchone()
    except psycopg.Error:
        connection.close()
        raise
    return connection, (row or ())


def sample_primary(state: ReplicaState) -> None:
    """Record the primary's WAL position now. When the primary cannot be reached no sample is
    taken: the lag then grows with the time since the last one, so a replica stays usable
    through a short primary restart and is fenced after ``DATABASE_REPLICA_MAX_LAG``."""
    sampled_at = time.monotonic()
    try:
        state.primary_monitor, row = _fetch(
            state.primary_monitor, DEFAULT_DB_ALIAS, PRIMARY_POSITION_SQL
        )
    except (psycopg.Error, OSError) as error:
        state.primary_monitor = None
        logger.info("replica %s: no primary WAL sample: %s", state.alias, str(error).strip()[:200])
        return
    state.pending.append((sampled_at, record_boundary(*map(int, row))))


def measure(state: ReplicaState) -> tuple[bool, float]:
    """``(in recovery, lag in seconds)`` of the replica; raises when it cannot be reached."""
    sample_primary(state)
    try:
        state.monitor, row = _fetch(state.monitor, state.alias, REPLICA_SQL)
    except psycopg.Error:
        state.monitor = None
        raise
    in_recovery, replayed = row if row else (False, None)
    if not in_recovery or replayed is None:
        return False, math.inf
    while state.pending and state.pending[0][1] <= replayed:
        state.caught_up_at = state.pending.popleft()[0]
    if state.caught_up_at is None:
        return True, math.inf
    return True, time.monotonic() - state.caught_up_at


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
        elif math.isinf(lag):
            usable, reason = False, "replay lag unknown: behind the primary since the first check"
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
        for monitor in (state.monitor, state.primary_monitor):
            if monitor is not None:
                monitor.close()


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
