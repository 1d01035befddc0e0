"""Celery signal handlers: request ids into tasks, log context, metrics, the worker's logging.

* ``before_task_publish`` copies the current ``request_id`` (bound by ``RequestIdMiddleware``)
  into the message's headers; ``task_prerun`` binds it, with the task's name and id, into
  structlog's context, so every line a task logs names the request that caused it.
  ``task_postrun`` puts the previous context back (an inline task runs inside the request).
* ``task_prerun``/``task_postrun`` time each execution and count it by outcome.
* ``setup_logging`` has a receiver, so Celery leaves logging alone: Django's ``LOGGING`` (JSON
  lines through structlog) renders the worker's lines as it renders the web's.
* ``worker_process_init`` sets up tracing in each pool process when it is on (ADR 0037).
* ``worker_init`` starts the metrics server (``CELERY_METRICS_PORT``) in the main process;
  ``worker_process_shutdown`` tells the multiprocess collector a pool process is gone.

Imported by ``config/celery.py``, so web processes and workers both connect them.
"""

import os
import time
from typing import Any

import structlog
from celery import signals

from conduit.platform.observability import tracing
from conduit.platform.tasks.metrics import TASK_DURATION, TASKS

HEADER = "request_id"
_STATES = {"SUCCESS": "succeeded", "RETRY": "retried", "FAILURE": "failed"}
# task id -> (start time, the structlog context to restore afterwards)
_running: dict[str, tuple[float, dict[str, Any]]] = {}


@signals.before_task_publish.connect(dispatch_uid="conduit.celery.request_id_header")
def _add_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if headers is not None and request_id and HEADER not in headers:
        headers[HEADER] = request_id


@signals.task_prerun.connect(dispatch_uid="conduit.celery.prerun")
def _task_started(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    previous = structlog.contextvars.get_contextvars()
    _running[task_id] = (time.perf_counter(), previous)
    # A worker's message carries the id in its headers; an inline task runs in the request.
    request_id = getattr(task.request, HEADER, None) or previous.get("request_id")
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task=task.name, task_id=task_id)
    if request_id:
        structlog.contextvars.bind_contextvars(request_id=request_id)


@signals.task_postrun.connect(dispatch_uid="conduit.celery.postrun")
def _task_finished(
    task_id: str = "", task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    started, previous = _running.pop(task_id, (None, {}))
    if started is not None:
        TASK_DURATION.labels(task.name).observe(time.perf_counter() - started)
    TASKS.labels(task.name, _STATES.get(state or "", (state or "unknown").lower())).inc()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**previous)


@signals.setup_logging.connect(dispatch_uid="conduit.celery.logging")
def _keep_django_logging(**kwargs: Any) -> None:
    """Django's LOGGING is already configured (django.setup()); Celery adds nothing."""


@signals.worker_init.connect(dispatch_uid="conduit.celery.metrics_server")
def _start_metrics_server(sender: Any = None, **kwargs: Any) -> None:
    from django.conf import settings

    from conduit.platform.tasks.metrics import start_metrics_server

    if settings.CELERY_METRICS_PORT:
        start_metrics_server(
            settings.CELERY_METRICS_ADDR,
            settings.CELERY_METRICS_PORT,
            settings.CELERY_BROKER_URL,
            settings.TASK_QUEUES,
        )


@signals.worker_process_init.connect(dispatch_uid="conduit.celery.tracing")
def _start_tracing(**kwargs: Any) -> None:
    """Each pool process traces itself (ADR 0037): after the fork, as the SDK's exporter thread
    and the instrumented connections are the process's own."""
    tracing.setup("worker")


@signals.worker_process_shutdown.connect(dispatch_uid="conduit.celery.mark_dead")
def _mark_process_dead(pid: int | None = None, **kwargs: Any) -> None:
    from prometheus_client import multiprocess

    from conduit.platform.observability.metrics import multiprocess_dir

    tracing.flush()  # the spans still queued, before the pool process exits
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid or os.getpid())
