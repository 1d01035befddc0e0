"""Writes for avatars: upload (checked, cleaned, stored) and removal.

The picture's URL goes into ``User.image`` through ``user_update``, so whatever that service does
when a profile changes (cache invalidation included) happens for uploads too.
"""

import secrets
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction

from conduit.media import images
from conduit.media.models import Avatar
from conduit.media.paths import AVATAR_PREFIX, avatar_url
from conduit.media.tasks import avatar_make_thumbnails
from conduit.platform.tasks.enqueue import enqueue_on_commit
from conduit.users.models import User
from conduit.users.services import user_update


def _delete_files_on_commit(names: list[str]) -> None:
    # After commit: a rolled-back replacement must not lose the files still referenced.
    def delete() -> None:
        storage = storages["default"]
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)


def avatar_upload(*, user: User, data: IO[bytes], size: int) -> Avatar:
    """Check and store ``data`` as ``user``'s picture, replacing any previous one; the
    thumbnails follow from a task."""

    clean = images.image_clean(
        data, size=size, max_bytes=settings.AVATAR_MAX_BYTES, max_pixels=settings.AVATAR_MAX_PIXELS
    )
    token = secrets.token_hex(8)
    # Saved before the transaction: a failure after this leaves an unreferenced file, which
    # media_remove_orphans deletes; the reverse order could leave a row without its file.
    name = storages["default"].save(
        f"{AVATAR_PREFIX}/{user.pk}/{token}/original.{clean.extension}", ContentFile(clean.content)
    )
    with transaction.atomic():
        previous = Avatar.objects.select_for_update().filter(user=user).first()
        old_names = previous.storage_names() if previous else []
        avatar, _ = Avatar.objects.update_or_create(
            user=user,
            defaults={
                "token": token,
                "original": name,
                "thumbnails": {},
                "width": clean.width,
                "height": clean.height,
            },
        )
        user_update(user=user, image=avatar_url(avatar), fields={"image"})
        _delete_files_on_commit(old_names)
        enqueue_on_commit(avatar_make_thumbnails, avatar.pk, token)
    return avatar


def avatar_remove(*, user: User) -> None:
    """Forget ``user``'s uploaded picture (the profile falls back to the placeholder)."""
    with transaction.atomic():
        avatar = Avatar.objects.select_for_update().filter(user=user).first()
        if avatar is None:
            return
        _delete_files_on_commit(avatar.storage_names())
        avatar.delete()
        user_update(user=user, image=None, fields={"image"})
