"""New-article emails (the ``email`` queue), fanned out in chunks (ADR 0015), and the notice of
an account's email change to its old address.

Publishing enqueues one ``new_article_fan_out`` on commit: the request does no per-follower
work. That task pages through the author's followers by id (the ``(followee, follower)``
index) and enqueues one ``new_article_emails_send`` per chunk of ``NOTIFICATIONS_CHUNK_SIZE``;
per chunk it also publishes each follower's live "new in your feed" event, in one batch
(ADR 0030: one channel per reader, so a stream subscribes to one channel, not to every author
the reader follows).
Both are idempotent: a chunk inserts its delivery records with ON CONFLICT DO NOTHING and sends
only the unsent ones, so a fan-out or chunk that runs twice sends nothing twice.
"""

from collections.abc import Mapping
from typing import Any

import structlog
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from conduit.articles.models import Article
from conduit.notifications.emails import (
    NewArticle,
    Recipient,
    email_changed_email,
    new_article_email,
)
from conduit.notifications.models import ArticleEmail, EmailPreference
from conduit.platform.db.retention import cutoff, delete_in_batches
from conduit.platform.events.publish import publish_many
from conduit.platform.tasks.enqueue import TRANSIENT_ERRORS
from conduit.profiles.models import Follow
from conduit.users.models import User

logger = structlog.get_logger(__name__)


@shared_task(
    name="conduit.notifications.new_article_fan_out",
    autoretry_for=TRANSIENT_ERRORS,
    soft_time_limit=120,
    time_limit=180,
)
def new_article_fan_out(article_id: int) -> int:
    """Enqueue one send task per chunk of the author's followers; returns the chunk count."""
    article = (
        Article.objects.filter(pk=article_id)
        .values("author_id", "slug", "title", "author__username")
        .first()
    )
    if article is None:
        return 0  # deleted before its emails went out: nothing to announce
    author_id = article["author_id"]
    size = settings.NOTIFICATIONS_CHUNK_SIZE
    after, chunks = 0, 0
    while True:
        follower_ids = list(
            Follow.objects.filter(followee_id=author_id, follower_id__gt=after)
            .order_by("follower_id")
            .values_list("follower_id", flat=True)[:size]
        )
        if not follower_ids:
            break
        # Each follower's "new in your feed" counter, live (ADR 0030): one batch per chunk.
        publish_many([(feed_channel(fid), "article", _feed_event(article_id, article))
                      for fid in follower_ids])  # fmt: skip
        new_article_emails_send.delay(article_id, follower_ids)
        chunks += 1
        after = follower_ids[-1]
        if len(follower_ids) < size:
            break
    logger.info("new article fan-out", article_id=article_id, chunks=chunks)
    return chunks


def feed_channel(user_id: int) -> str:
    """The events channel of a user's feed: streamed only to that user's session."""
    return f"feed:{user_id}"


def _feed_event(article_id: int, row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": article_id, "slug": row["slug"], "title": row["title"],
            "author": row["author__username"]}  # fmt: skip


@shared_task(
    name="conduit.notifications.new_article_emails_send",
    # A soft time limit mid-chunk keeps what was sent; the retry continues with the rest.
    autoretry_for=(*TRANSIENT_ERRORS, SoftTimeLimitExceeded),
    soft_time_limit=120,
    time_limit=180,
)
def new_article_emails_send(article_id: int, recipient_ids: list[int]) -> int:
    """Email one chunk of followers about the article; returns how many were sent now."""
    row = (
        Article.objects.filter(pk=article_id)
        .values("id", "title", "description", "slug", "author__username")
        .first()
    )
    if row is None:
        return 0
    article = NewArticle(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        slug=row["slug"],
        author=row["author__username"],
    )
    opted_out = EmailPreference.objects.filter(user_id__in=recipient_ids, new_articles=False)
    recipients = [
        Recipient(**values)
        for values in User.objects.filter(pk__in=recipient_ids)
        .exclude(pk__in=opted_out.values("user_id"))
        .order_by("pk")
        .values("id", "username", "email")
    ]
    ArticleEmail.objects.bulk_create(
        [ArticleEmail(article_id=article_id, recipient_id=r.id) for r in recipients],
        ignore_conflicts=True,
    )
    unsent = set(
        ArticleEmail.objects.filter(
            article_id=article_id, recipient_id__in=[r.id for r in recipients], sent_at=None
        ).values_list("recipient_id", flat=True)
    )
    sent = 0
    with mailers.default as connection:  # one SMTP session for the chunk
        for recipient in recipients:
            if recipient.id in unsent and _send_once(article, recipient, connection):
                sent += 1
    logger.info(
        "new article emails sent", article_id=article_id, sent=sent, chunk=len(recipient_ids)
    )
    return sent


def _send_once(article: NewArticle, recipient: Recipient, connection: BaseEmailBackend) -> bool:
    """Send unless the record says sent; the row lock (skipped if taken) keeps a duplicate
    delivery of the same chunk, running at the same time, from sending it too."""
    with transaction.atomic():
        record = (
            ArticleEmail.objects.select_for_update(skip_locked=True)
            .filter(article_id=article.id, recipient_id=recipient.id, sent_at=None)
            .only("id")
            .first()
        )
        if record is None:
            return False
        new_article_email(article, recipient, connection=connection).send()
        # Crash window: the SMTP server has the message but this update is lost -> sent again.
        ArticleEmail.objects.filter(pk=record.pk).update(sent_at=timezone.now())
    return True


@shared_task(
    name="conduit.notifications.email_changed_notice",
    autoretry_for=TRANSIENT_ERRORS,
    soft_time_limit=60,
    time_limit=90,
)
def email_changed_notice(user_id: int, old_email: str) -> bool:
    """Tell the old address that the account's email changed (whoever changed it may not be the
    owner). Sent at most once per change, unless the retry follows a send the SMTP server took."""
    row = User.objects.filter(pk=user_id).values("username", "email").first()
    if row is None:
        return False  # erased meanwhile: nobody to warn about
    email_changed_email(
        username=row["username"], old_email=old_email, new_email=row["email"]
    ).send()
    logger.info("email change notice sent", user_id=user_id)
    return True


@shared_task(
    name="conduit.notifications.deliveries_remove_old", soft_time_limit=300, time_limit=360
)
def deliveries_remove_old() -> int:
    """Nightly (beat): delete new-article delivery records older than
    ``EMAIL_DELIVERY_RETENTION_DAYS`` (docs/retention.md). A record only guards against sending
    twice while its chunk task may still run or be replayed (dead letters are kept
    ``DEAD_LETTER_RETENTION_DAYS``, less than this), so after that it says nothing worth keeping
    about who read what."""
    old = ArticleEmail.objects.filter(created_at__lt=cutoff(settings.EMAIL_DELIVERY_RETENTION_DAYS))
    removed = delete_in_batches(old)
    if removed:
        logger.info("email delivery records removed", count=removed)
    return removed
