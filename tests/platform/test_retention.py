"""Retention of everything but the audit log (docs/retention.md): each nightly task deletes
only what is past its env-configured age, and keeps the rest."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from conduit.notifications.models import ArticleEmail
from conduit.notifications.tasks import deliveries_remove_old
from conduit.platform.models import DeadLetter, OutboxTask
from conduit.platform.tasks.enqueue import sessions_clear
from conduit.platform.tasks.housekeeping import outbox_expire, task_records_remove_old
from conduit.privacy.models import ExportRequest
from conduit.privacy.tasks import exports_remove_expired
from tests.factories import UserFactory, make_article

pytestmark = pytest.mark.django_db


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_sessions_live_session_cookie_age_and_expired_ones_are_cleared(settings):
    assert settings.SESSION_COOKIE_AGE == 14 * 24 * 3600  # the documented default
    live = SessionStore()
    live.create()
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(expire_date=ago(1))
    sessions_clear.apply().get()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_outbox_tasks_past_their_retention_become_dead_letters(settings):
    settings.OUTBOX_RETENTION_DAYS = 7
    old = OutboxTask.objects.create(
        task_name="conduit.x", args=[1], kwargs={"a": 2}, error="broker down", created_at=ago(8)
    )
    recent = OutboxTask.objects.create(task_name="conduit.y", error="broker down")
    result = task_records_remove_old.apply().get()
    assert result == {"outbox_dead_lettered": 1, "dead_letters_removed": 0}
    assert list(OutboxTask.objects.values_list("pk", flat=True)) == [recent.pk]
    [letter] = DeadLetter.objects.all()
    assert (letter.task_name, letter.args, letter.kwargs) == (old.task_name, [1], {"a": 2})
    assert letter.error.startswith("outbox: not published in 7 days; last error: broker down")


def test_outbox_expiry_goes_in_batches():
    OutboxTask.objects.bulk_create(
        OutboxTask(task_name=f"t{i}", error="e", created_at=ago(10)) for i in range(5)
    )
    assert outbox_expire(days=7, batch_size=2) == 5
    assert DeadLetter.objects.count() == 5
    assert not OutboxTask.objects.exists()


def test_dead_letters_past_their_retention_are_deleted(settings):
    settings.DEAD_LETTER_RETENTION_DAYS = 30
    DeadLetter.objects.create(task_name="old", task_id="1", error="e", created_at=ago(31))
    kept = DeadLetter.objects.create(task_name="new", task_id="2", error="e", created_at=ago(29))
    result = task_records_remove_old.apply().get()
    assert result == {"outbox_dead_lettered": 0, "dead_letters_removed": 1}
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [kept.pk]


def test_email_delivery_records_past_their_retention_are_deleted(settings):
    settings.EMAIL_DELIVERY_RETENTION_DAYS = 90
    author, reader, other = UserFactory(), UserFactory(), UserFactory()
    article = make_article(author)
    ArticleEmail.objects.create(article=article, recipient=reader, created_at=ago(91))
    kept = ArticleEmail.objects.create(article=article, recipient=other, created_at=ago(89))
    assert deliveries_remove_old.apply().get() == 1
    assert list(ArticleEmail.objects.values_list("pk", flat=True)) == [kept.pk]


def test_old_expired_and_failed_export_rows_are_deleted(settings):
    settings.EXPORT_RECORD_RETENTION_DAYS = 30
    user = UserFactory()
    Status = ExportRequest.Status

    def export(status: str, days: float) -> ExportRequest:
        row = ExportRequest.objects.create(user=user, status=status)
        ExportRequest.objects.filter(pk=row.pk).update(created_at=ago(days))
        return row

    export(Status.EXPIRED, 31)
    export(Status.FAILED, 40)
    kept = [export(Status.EXPIRED, 29), export(Status.FAILED, 1)]
    exports_remove_expired.apply().get()
    assert set(ExportRequest.objects.values_list("pk", flat=True)) == {e.pk for e in kept}


def test_every_retention_task_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "conduit.platform.sessions_clear",
        "conduit.privacy.exports_remove_expired",
        "conduit.platform.task_records_remove_old",
        "conduit.notifications.deliveries_remove_old",
        "conduit.audit.audit_remove_old",
    } <= tasks
