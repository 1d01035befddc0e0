"""Deleting what is past its retention (docs/retention.md), in bounded batches: each batch is
its own short transaction of at most ``batch_size`` rows, so a large backlog never holds a long
lock, a long transaction or a huge WAL burst, and a task cut short by its time limit keeps the
batches it finished."""

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta

from django.db import models, router, transaction
from django.utils import timezone

BATCH_SIZE = 1000


def cutoff(days: float) -> datetime:
    """The moment before which rows kept ``days`` days are due."""
    return timezone.now() - timedelta(days=days)


def delete_in_batches(
    queryset: models.QuerySet[models.Model],
    *,
    batch_size: int = BATCH_SIZE,
    within: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> int:
    """Delete the rows of ``queryset``, oldest primary key first, ``batch_size`` at a time;
    each batch's transaction runs inside ``within()`` (e.g. a setting the database checks).
    Returns how many rows went."""
    model = queryset.model
    alias = router.db_for_write(model)
    total = 0
    while True:
        with transaction.atomic(using=alias), within():
            pks = list(
                queryset.using(alias).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            if pks:
                model._base_manager.using(alias).filter(pk__in=pks).delete()
        total += len(pks)
        if len(pks) < batch_size:
            return total
