from django.conf import settings
from django.db import models


class Avatar(models.Model):
    """A user's uploaded picture: the cleaned original and, once the task made them, its
    thumbnails. Files live in the ``default`` storage under ``avatars/<user id>/<token>/``; a new
    upload gets a new token, so URLs never serve a stale cached picture and an upload racing the
    thumbnail task of the previous one cannot be mixed up with it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="avatar"
    )
    token = models.CharField(max_length=32)
    original = models.CharField(max_length=255)  # storage name of the cleaned original
    # "256.jpeg" -> storage name, filled by conduit.media.tasks.avatar_make_thumbnails.
    thumbnails = models.JSONField(default=dict)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"avatar of user {self.user_id}"

    def storage_names(self) -> list[str]:
        return [self.original, *self.thumbnails.values()]
