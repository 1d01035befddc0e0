"""Settings of the Celery workers that ``tests/tasks`` starts: production settings, the test
database, and the test-only tasks of ``tests.tasks.probe_tasks`` (imported by the worker only
through this module; no production code path knows about them).

The worker is a separate process: it reads the environment the fixture gives it
(``CELERY_BROKER_URL``, ``EMAIL_URL``, ...) exactly as a deployed worker does.
"""

import os

from config.settings import *  # noqa: F403

# pytest-django runs the tests in a database of its own (``test_<name>``); the worker must
# read and write the rows the test committed there.
DATABASES["default"]["NAME"] = os.environ["CONDUIT_TEST_DATABASE_NAME"]  # noqa: F405
CELERY_IMPORTS = ["tests.tasks.probe_tasks"]
