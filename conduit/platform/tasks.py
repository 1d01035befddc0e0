"""Enqueueing background work: after the transaction commits, never before.

A task that runs before the row it reads is committed sees nothing (or a rolled-back row), so
every enqueue from a request goes through :func:`enqueue_on_commit`. Tasks take ids, not objects,
and must be idempotent: with ``acks_late`` a task whose worker died runs again.
"""

from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """``task.delay(*args, **kwargs)`` once the transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))
