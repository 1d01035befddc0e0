"""Retention of the task records (docs/retention.md): the outbox and the dead letters.

An outbox row is a task the broker did not take; the relay publishes it within seconds of the
broker's return. One still there after ``OUTBOX_RETENTION_DAYS`` will not be published by the
relay's next turn either (its task is gone, or keeps failing to serialise): it becomes a dead
letter, so it stays visible and replayable, not silently dropped. Dead letters are kept
``DEAD_LETTER_RETENTION_DAYS`` for an operator to look at or replay, then deleted.
"""

import structlog
from celery import shared_task
from django.conf import settings
from django.db import router, transaction

from conduit.platform.db.retention import BATCH_SIZE, cutoff, delete_in_batches
from conduit.platform.models import DeadLetter, OutboxTask

logger = structlog.get_logger("conduit.tasks")


def outbox_expire(*, days: float, batch_size: int = BATCH_SIZE) -> int:
    """Move outbox rows older than ``days`` to the dead letters; returns how many moved."""
    alias = router.db_for_write(OutboxTask)
    moved = 0
    while True:
        with transaction.atomic(using=alias):
            due = (
                OutboxTask.objects.using(alias)
                .select_for_update(skip_locked=True)  # never a row the relay is publishing
                .filter(created_at__lt=cutoff(days))
                .order_by("pk")[:batch_size]
            )
            rows = list(due)
            DeadLetter.objects.using(alias).bulk_create(
                DeadLetter(
                    task_name=row.task_name,
                    task_id="",
                    args=row.args,
                    kwargs=row.kwargs,
                    retries=row.attempts,
                    error=f"outbox: not published in {days:g} days; last error: {row.error}"[:2000],
                )
                for row in rows
            )
            OutboxTask.objects.using(alias).filter(pk__in=[row.pk for row in rows]).delete()
        moved += len(rows)
        if len(rows) < batch_size:
            return moved


@shared_task(name="conduit.platform.task_records_remove_old", soft_time_limit=300, time_limit=360)
def task_records_remove_old() -> dict[str, int]:
    """Nightly (beat): outbox rows past ``OUTBOX_RETENTION_DAYS`` become dead letters, dead
    letters past ``DEAD_LETTER_RETENTION_DAYS`` are deleted."""
    expired = outbox_expire(days=settings.OUTBOX_RETENTION_DAYS)
    old = DeadLetter.objects.filter(created_at__lt=cutoff(settings.DEAD_LETTER_RETENTION_DAYS))
    removed = delete_in_batches(old)
    if expired or removed:
        logger.info("task records removed", outbox_dead_lettered=expired, dead_letters=removed)
    return {"outbox_dead_lettered": expired, "dead_letters_removed": removed}
