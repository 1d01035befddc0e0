"""Celery settings that only a deployment would show wrong (ADR 0015).

Queues: a worker started as compose.yaml and the Kubernetes deployment start it (no ``-Q``)
consumes the queues the app defines; routes to a queue it does not define send tasks nowhere.

Visibility timeout: Redis has no acknowledgement protocol of its own: kombu keeps a delivered
message in an "unacked" set and gives it to another worker once it is older than the visibility
timeout. A message counts from its delivery, and a retry's countdown is spent in the worker
holding it, so a task that may wait ``CELERY_RETRY_BACKOFF_MAX`` and then run up to its hard
time limit must be acknowledged within the timeout, or a second worker runs it while the first
still does.
"""

from django.conf import settings

from config.celery import app


def _conduit_tasks() -> dict[str, object]:
    app.autodiscover_tasks(force=True)
    return {name: task for name, task in app.tasks.items() if name.startswith("conduit.")}


def test_no_task_outlives_the_visibility_timeout_with_its_longest_retry_wait() -> None:
    tasks = _conduit_tasks()
    assert len(tasks) >= 8  # every app's tasks were found, not an empty loop
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    too_long = {
        name: limit + settings.CELERY_RETRY_BACKOFF_MAX
        for name, task in tasks.items()
        if (limit := getattr(task, "time_limit", None) or settings.CELERY_TASK_TIME_LIMIT)
        + settings.CELERY_RETRY_BACKOFF_MAX
        >= timeout
    }
    assert too_long == {}, f"visibility timeout {timeout} s"


def test_a_worker_without_q_consumes_every_queue_tasks_are_routed_to() -> None:
    defined = {queue.name for queue in app.conf.task_queues or []}
    assert defined == set(settings.TASK_QUEUES)
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed <= defined
    assert app.conf.task_default_queue in defined


def test_a_worker_knows_every_task_beat_schedules() -> None:
    """A fresh process, as a worker starts: beat's tasks must be registered by the app's own
    discovery, not by whatever this test process happened to import before."""
    import subprocess
    import sys

    code = (
        "from config.celery import app; app.loader.import_default_modules(); "
        "print('\\n'.join(app.tasks))"
    )
    registered = subprocess.run(  # noqa: S603  (this interpreter, a fixed script)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled
    assert scheduled - set(registered) == set()
