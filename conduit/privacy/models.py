from django.conf import settings
from django.db import models


class ExportRequest(models.Model):
    """A person's request for a copy of their data (GDPR art. 15/20) and where its zip is.

    The zip lives in the private ``exports`` storage (never under the public media URL) until
    ``expires_at``; then the cleanup task deletes it and marks the request expired.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        READY = "ready"
        FAILED = "failed"
        EXPIRED = "expired"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_requests"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"], name="export_user_newest_idx"),
            models.Index(fields=["status", "expires_at"], name="export_status_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of user {self.user_id} ({self.status})"
