"""The Celery application (ADR 0015). Workers start with ``celery -A config worker``.

Settings come from Django's, under the ``CELERY_`` prefix (``config/settings.py``). With
``CELERY_BROKER_URL`` unset, the embedded default, tasks run inline (eagerly) in the process that
enqueues them, after the transaction commits. Every task's class is ``ConduitTask`` (retry
defaults, dead letters); the signal handlers carry request ids and record metrics.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("conduit", task_cls="conduit.platform.tasks.enqueue:ConduitTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The platform's tasks live in conduit/platform/tasks/enqueue.py, not in a tasks.py module.
app.autodiscover_tasks(["conduit.platform.tasks"], related_name="enqueue")
app.autodiscover_tasks(["conduit.platform.tasks"], related_name="housekeeping")

import conduit.platform.tasks.signals  # noqa: E402, F401  (connects the handlers)
