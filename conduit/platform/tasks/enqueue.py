"""Enqueueing background work after the transaction commits, and the base class of every task.

A task that runs before the row it reads is committed sees nothing (or a rolled-back row), so
every enqueue from a request goes through :func:`enqueue_on_commit`; after the commit the
process's sender thread publishes it (``sender.py``), so the response does not wait for the
broker. Tasks take ids, not objects,
and must be idempotent: with ``acks_late`` a task whose worker died runs again (ADR 0015).

A publish that fails after the commit (the broker down or unreachable) is not lost: the task is
kept in the ``OutboxTask`` table and :func:`outbox_relay`, run by beat every
``CELERY_OUTBOX_RELAY_INTERVAL`` seconds, publishes it once the broker is back. After a failed
publish, this process sends the next ones straight to the outbox for
``CELERY_OUTBOX_BYPASS_SECONDS``, so that a dead broker costs one request its publish retries,
not every publish.
"""

import threading
import time
from typing import Any

import structlog
from celery import Task, shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, models, transaction

from conduit.platform.tasks import sender
from conduit.platform.tasks.metrics import DEAD_LETTERS, OUTBOX

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
    transaction.on_commit(lambda: _publish_soon(task, args, kwargs), robust=True)


def enqueue_named_on_commit(name: str, *args: Any, **kwargs: Any) -> None:
    """:func:`enqueue_on_commit` for another app's task, known by its registered name, so that
    the app that reacts to a write (the notifications app to a publish) is not imported by the
    app that writes: Celery's way of calling a task its caller does not import. The name is
    looked up now, so a wrong one fails the write's request, not silently after the commit."""
    from celery import current_app

    if name not in current_app.tasks:  # a web process has not imported the apps' tasks yet
        with _importing:  # a second thread waits for the first's import, then finds the task
            if name not in current_app.tasks:
                current_app.loader.import_default_modules()  # as a worker does when it starts
    enqueue_on_commit(current_app.tasks[name], *args, **kwargs)


# Held while the apps' task modules are imported: concurrent first publishes in a new process
# would otherwise see the import begun (Celery marks it done at its start) and the task missing.
_importing = threading.Lock()


def _publish_soon(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Inline (no broker) the task runs now, as the request's code; with a broker the sender
    thread publishes it, so the response does not wait for the broker (``sender.py``)."""
    if task.app.conf.task_always_eager:
        publish(task, args, kwargs)
    else:
        sender.soon(publish, task, args, kwargs)


# time.monotonic() until which this process does not try the broker (after a failed publish)
_broker_down_until = 0.0


def publish(task: Task, args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]) -> None:
    """Publish the task, or keep it in the outbox when the broker cannot take it.

    Inline (no broker, the embedded default) the task just runs. A task that cannot be kept
    either (the database is down too) is logged by ``on_commit(robust=True)`` and lost.
    """
    global _broker_down_until
    if task.app.conf.task_always_eager:
        task.apply_async(args=args, kwargs=kwargs)
        return
    if time.monotonic() < _broker_down_until:
        _keep(task.name, args, kwargs, error="not tried: the broker failed moments ago")
        return
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except Exception as exc:  # whatever the broker's client raised: keep the task
        _broker_down_until = time.monotonic() + settings.CELERY_OUTBOX_BYPASS_SECONDS
        _keep(task.name, args, kwargs, error=repr(exc))


def _keep(name: str, args: Any, kwargs: dict[str, Any], *, error: str) -> None:
    from conduit.platform.models import OutboxTask

    request_id = structlog.contextvars.get_contextvars().get("request_id")
    row = OutboxTask.objects.create(
        task_name=name,
        args=list(args),
        kwargs=dict(kwargs),
        headers={"request_id": request_id} if request_id else {},
        error=error[:2000],
    )
    OUTBOX.labels(name, "kept").inc()
    logger.warning("task kept in the outbox", task=name, outbox_id=row.pk, error=error)


OUTBOX_BATCH = 500


@shared_task(name="conduit.platform.outbox_relay", soft_time_limit=60, time_limit=90)
def outbox_relay() -> int:
    """Beat, every CELERY_OUTBOX_RELAY_INTERVAL s: publish the kept tasks, oldest first, and
    delete each once the broker took it; returns how many were published."""
    published = 0
    while True:
        sent, more = _relay_batch()
        published += sent
        if not more:
            break
    if published:
        logger.info("outbox relayed", published=published)
    return published


def _relay_batch() -> tuple[int, bool]:
    """Publish up to OUTBOX_BATCH kept tasks; returns (published, whether to go on).

    Rows are locked with SKIP LOCKED, so two relays never publish the same row. The published
    rows are deleted in the transaction that locked them: if its commit fails they are
    published again later (a duplicate run, which idempotent tasks absorb), never lost. The
    first failed publish ends the run: the broker is away again, the rest wait for the next.
    """
    from celery import current_app

    from conduit.platform.models import OutboxTask

    with transaction.atomic():
        rows = list(
            OutboxTask.objects.select_for_update(skip_locked=True).order_by("pk")[:OUTBOX_BATCH]
        )
        published: list[OutboxTask] = []
        failure: Exception | None = None
        for row in rows:
            try:
                current_app.send_task(
                    row.task_name, args=row.args, kwargs=row.kwargs, headers=row.headers
                )
            except Exception as exc:  # whatever the broker's client raised
                failure = exc
                break
            published.append(row)
        OutboxTask.objects.filter(pk__in=[row.pk for row in published]).delete()
        if failure is not None:
            OutboxTask.objects.filter(pk__in=[row.pk for row in rows[len(published) :]]).update(
                attempts=models.F("attempts") + 1, error=repr(failure)[:2000]
            )
    for row in published:
        OUTBOX.labels(row.task_name, "relayed").inc()
    if failure is not None:
        logger.warning(
            "outbox relay stopped: the broker failed",
            published=len(published),
            waiting=len(rows) - len(published),
            error=repr(failure),
        )
        return len(published), False
    return len(published), len(rows) == OUTBOX_BATCH


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
