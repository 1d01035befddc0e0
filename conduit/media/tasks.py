"""Background work for pictures (the ``media`` queue): thumbnails, and removing files that no
row references any more. Both are idempotent: run twice, they leave the same state."""

import io
import logging
from datetime import timedelta

from celery import shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from conduit.media import images
from conduit.media.models import Avatar
from conduit.media.paths import AVATAR_PREFIX, avatar_url
from conduit.platform.tasks.enqueue import TRANSIENT_ERRORS
from conduit.users.models import User
from conduit.users.services import user_update

logger = logging.getLogger(__name__)

# Storage and database hiccups are worth another try; a bad picture is not (it was checked).
# An upload saves its file before its row commits: younger files may still be getting one.
ORPHAN_GRACE = timedelta(hours=1)


def _delete(names: list[str]) -> None:
    storage = storages["default"]
    for name in names:
        storage.delete(name)


@shared_task(
    name="conduit.media.avatar_make_thumbnails",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def avatar_make_thumbnails(avatar_id: int, token: str) -> None:
    """Make the 64 and 256 px thumbnails (WebP and JPEG) of one upload, then point the profile
    at the 256 px JPEG. Does nothing if the avatar was replaced or removed meanwhile."""
    avatar = Avatar.objects.filter(pk=avatar_id, token=token).first()
    if avatar is None or avatar.thumbnails:
        return
    storage = storages["default"]
    with storage.open(avatar.original, "rb") as original:
        made = images.thumbnails(io.BytesIO(original.read()))
    prefix = avatar.original.rsplit("/", 1)[0]
    names = {
        key: storage.save(f"{prefix}/{key}", ContentFile(content)) for key, content in made.items()
    }
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(pk=avatar_id, token=token).first()
        if avatar is None or avatar.thumbnails:
            # Replaced while we worked: these files belong to no row.
            transaction.on_commit(lambda: _delete(list(names.values())))
            return
        shown = avatar_url(avatar)
        avatar.thumbnails = names
        avatar.save(update_fields=["thumbnails"])
        user = User.objects.get(pk=avatar.user_id)
        # Only if the profile still shows this upload (not a URL set since).
        if user.image == shown:
            user_update(user=user, image=avatar_url(avatar), fields={"image"})


@shared_task(
    name="conduit.media.media_remove_orphans",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def media_remove_orphans() -> int:
    """Delete picture files no ``Avatar`` row references (a failed upload, a crash between a
    replacement's commit and its file deletion, an erased account). Returns how many."""
    storage = storages["default"]
    if not storage.exists(AVATAR_PREFIX):
        return 0
    referenced = set(Avatar.objects.values_list("user_id", "token"))
    cutoff = timezone.now() - ORPHAN_GRACE
    removed = 0
    user_dirs, _ = storage.listdir(AVATAR_PREFIX)
    for user_dir in user_dirs:
        token_dirs, _ = storage.listdir(f"{AVATAR_PREFIX}/{user_dir}")
        for token in token_dirs:
            key = (int(user_dir), token) if user_dir.isdigit() else None
            if key in referenced:
                continue
            folder = f"{AVATAR_PREFIX}/{user_dir}/{token}"
            _, files = storage.listdir(folder)
            for file in files:
                name = f"{folder}/{file}"
                if storage.get_modified_time(name) < cutoff:
                    storage.delete(name)
                    removed += 1
    if removed:
        logger.info("removed orphaned media files", extra={"count": removed})
    return removed
