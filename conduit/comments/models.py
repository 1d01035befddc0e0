from django.conf import settings
from django.db import models
from django.utils import timezone

from conduit.articles.models import Article

COMMENT_MAX_LENGTH = 10_000


class Comment(models.Model):
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="comments", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["article", "-id"], name="comment_article_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.article_id}"
