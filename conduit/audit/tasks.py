"""The audit log's retention (celery beat, ``CELERY_BEAT_SCHEDULE``; docs/retention.md)."""

import structlog
from celery import shared_task

from conduit.audit.services import audit_prune
from conduit.platform.tasks.enqueue import TRANSIENT_ERRORS

logger = structlog.get_logger("conduit.audit")


@shared_task(
    name="conduit.audit.audit_remove_old",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def audit_remove_old() -> int:
    """Nightly: delete the entries older than ``AUDIT_RETENTION_DAYS``, in batches."""
    removed = audit_prune()
    if removed:
        logger.info("audit entries removed", count=removed)
    return removed
