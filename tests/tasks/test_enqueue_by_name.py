"""``enqueue_named_on_commit``: an app enqueues another app's task by its registered name, so
the articles app does not import the notifications app (the import-linter contracts). A fresh
web process has not imported the apps' task modules: the lookup must find them anyway, and a
wrong name must fail the write's request, not vanish after the commit."""

import os
import subprocess
import sys
import textwrap

import pytest
from celery.exceptions import NotRegistered

from conduit.articles.services import NEW_ARTICLE_FAN_OUT
from conduit.platform.tasks.enqueue import enqueue_named_on_commit

pytestmark = pytest.mark.django_db


def test_the_fan_out_is_found_by_name_in_a_fresh_process():
    code = textwrap.dedent(
        """
        import django
        django.setup()
        from unittest import mock
        from celery import current_app
        from conduit.articles.services import NEW_ARTICLE_FAN_OUT
        from conduit.platform.tasks import enqueue
        assert NEW_ARTICLE_FAN_OUT not in current_app.tasks
        seen = []
        with mock.patch.object(enqueue, "enqueue_on_commit", lambda t, *a: seen.append(t.name)):
            enqueue.enqueue_named_on_commit(NEW_ARTICLE_FAN_OUT, 1)
        print(seen)
        """
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    ).stdout
    assert out.strip() == f"[{NEW_ARTICLE_FAN_OUT!r}]"


def test_a_wrong_name_fails_before_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(NotRegistered):
        enqueue_named_on_commit("conduit.notifications.no_such_task", 1)
    assert callbacks == []
