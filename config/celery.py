"""The Celery application (ADR 0015). Workers start with ``celery -A config worker``.

Settings come from Django's, under the ``CELERY_`` prefix (``config/settings.py``). With
``CELERY_BROKER_URL`` unset, the embedded default, tasks run inline (eagerly) in the process that
enqueues them, after the transaction commits.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("conduit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
