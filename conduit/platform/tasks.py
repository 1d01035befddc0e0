"""Enqueueing background work after the transaction commits, and the base class of every task.

A task that runs before the row it reads is committed sees nothing (or a rolled-back row), so
every enqueue from a request goes through :func:`enqueue_on_commit`. Tasks take ids, not objects,
and must be idempotent: with ``acks_late`` a task whose worker died runs again (ADR 0015).
"""

from typing import Any

import structlog
from celery import Task, shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction

from conduit.platform.celery_metrics import DEAD_LETTERS

logger = structlog.get_logger("conduit.tasks")

# Errors worth another try: the network, a mail server or the database briefly away. A bug
# (anything else) fails at once and is dead-lettered without retries.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    OSError,
    OperationalError,
    InterfaceError,
)


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """``task.delay(*args, **kwargs)`` once the transaction commits (at once outside one).

    ``robust``: the write has committed by then, so a broker that is down (or an inline task
    that fails) is logged, never turned into an error response that would make the client
    retry a write that succeeded.
    """
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs), robust=True)


class ConduitTask(Task):
    """The app's default task class (``config/celery.py``): retry defaults and dead letters.

    A task opts into retries with ``autoretry_for`` (usually ``TRANSIENT_ERRORS``); the retries
    back off exponentially (1, 2, 4, ... s, capped) with full jitter so that a burst of failures
    does not come back in lockstep. When a task fails for good, ``on_failure`` records it.
    """

    retry_backoff = True
    retry_backoff_max = settings.CELERY_RETRY_BACKOFF_MAX
    retry_jitter = True
    max_retries = settings.CELERY_RETRY_MAX

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        dead_letter(self, exc=exc, task_id=task_id, args=args, kwargs=kwargs)


def dead_letter(task: Task, *, exc: BaseException, task_id: str, args: Any, kwargs: Any) -> None:
    """One log line, one metric, one ``DeadLetter`` row (unless the database is what failed)."""
    from conduit.platform.models import DeadLetter

    retries = int(getattr(task.request, "retries", 0) or 0)
    DEAD_LETTERS.labels(task.name).inc()
    logger.error(
        "task dead-lettered", task=task.name, task_id=task_id, retries=retries, error=repr(exc)
    )
    try:
        DeadLetter.objects.create(
            task_name=task.name,
            task_id=task_id or "",
            args=list(args or []),
            kwargs=dict(kwargs or {}),
            retries=retries,
            error=repr(exc)[:2000],
        )
    except (DatabaseError, TypeError, ValueError):
        logger.exception("dead letter not recorded", task=task.name, task_id=task_id)


@shared_task(name="conduit.platform.sessions_clear", soft_time_limit=300, time_limit=360)
def sessions_clear() -> None:
    """Nightly (beat): delete expired sessions, as ``manage.py clearsessions`` does."""
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
