from django.conf import settings
from django.db import models
from django.utils import timezone


class EmailPreference(models.Model):
    """A user's choice about emails; no row means the defaults (new-article emails on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True
    )
    new_articles = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: new_articles={self.new_articles}"


class ArticleEmail(models.Model):
    """The delivery record of one new-article email: at most one per (article, recipient).

    A chunk task inserts the rows of its recipients (conflicts ignored), then sends only rows
    without ``sent_at`` and sets it once the SMTP server has accepted the message, so a retried
    or redelivered task does not send again what it recorded as sent (ADR 0015).
    """

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, db_index=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "recipient"], name="article_email_once_per_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"article {self.article_id} -> {self.recipient_id}"
