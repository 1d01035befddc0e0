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
