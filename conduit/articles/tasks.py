"""Periodic checks of the articles domain (celery beat, ``CELERY_BEAT_SCHEDULE``)."""

import structlog
from celery import shared_task

from conduit.articles.counters import find_drift
from conduit.platform.tasks.metrics import counters_drift_gauge

logger = structlog.get_logger(__name__)


@shared_task(name="conduit.articles.counters_check", soft_time_limit=480, time_limit=540)
def counters_check() -> int:
    """Nightly: recompute every counter (as ``manage.py check_counters``) and report drift as
    the ``conduit_counters_drift`` gauge and a warning; repairing stays a human decision."""
    drift = find_drift()
    counters_drift_gauge().set(len(drift))
    if drift:
        logger.warning(
            "counters drifted",
            drifted=len(drift),
            sample=[f"{d.counter} {d.key}: {d.stored} != {d.actual}" for d in drift[:5]],
        )
    return len(drift)
