from django.db import models
from django.utils import timezone


class DeadLetter(models.Model):
    """A task that failed for good (a bug, or a transient error that outlived its retries).

    Kept so an operator can see what was lost and replay it (``args``/``kwargs`` are ids, so
    replaying is ``app.send_task(task_name, args, kwargs)``); counted by
    ``conduit_celery_dead_letters_total{task}``.
    """

    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=64)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    retries = models.PositiveIntegerField(default=0)
    error = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}]"


class OutboxTask(models.Model):
    """A task whose publish failed after its transaction committed (the broker was down).

    ``conduit.platform.tasks.enqueue.publish`` writes it instead of losing the task; the beat task
    ``outbox_relay`` publishes it again once the broker is back and deletes it. Tasks are
    idempotent (ADR 0015), so a publish that failed only on the way back costs a duplicate run.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    headers = models.JSONField(default=dict)  # the request id, for the task's log lines
    attempts = models.PositiveIntegerField(default=1)
    error = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"
