"""Background work for exports (the ``exports`` queue): building the zip, deleting expired ones
and deleting an erased account's files. Each is idempotent."""

import json
import logging
import secrets
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.utils import timezone

from conduit.articles.models import Article, Favorite, sorted_tags
from conduit.comments.models import Comment
from conduit.media.models import Avatar
from conduit.platform.db.retention import cutoff, delete_in_batches
from conduit.platform.tasks.enqueue import TRANSIENT_ERRORS
from conduit.platform.timefmt import iso_ms
from conduit.privacy.models import ExportRequest
from conduit.profiles.models import Follow
from conduit.users.models import User

logger = logging.getLogger(__name__)
Status = ExportRequest.Status
# A request pending or running this long lost its worker (and its retries): marked failed.
STUCK_AFTER = timedelta(days=1)

README = """\
Your Conduit data, as of {when} (UTC).

profile.json    your account and profile
articles.json   the articles you wrote, with their Markdown bodies
comments.json   the comments you wrote, and on which article
favorites.json  the articles you favorited
follows.json    who you follow and who follows you
avatar/         the picture you uploaded, if any, and its thumbnails
"""


def _profile(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "bio": user.bio,
        "image": user.image,
        "joinedAt": iso_ms(user.date_joined),
        "articlesCount": user.articles_count,
        "favoritesCount": user.favorites_count,
        "followersCount": user.followers_count,
        "followingCount": user.following_count,
    }


def _articles(user: User) -> Iterable[dict[str, Any]]:
    for article in Article.objects.filter(author=user).order_by("pk").iterator():
        yield {
            "slug": article.slug,
            "title": article.title,
            "description": article.description,
            "body": article.body,
            "tagList": sorted_tags(article.tag_list),
            "favoritesCount": article.favorites_count,
            "createdAt": iso_ms(article.created_at),
            "updatedAt": iso_ms(article.updated_at),
        }


def _comments(user: User) -> Iterable[dict[str, Any]]:
    rows = Comment.objects.filter(author=user).select_related("article").order_by("pk")
    for comment in rows.only("body", "created_at", "updated_at", "article__slug").iterator():
        yield {
            "id": comment.pk,
            "article": comment.article.slug,
            "body": comment.body,
            "createdAt": iso_ms(comment.created_at),
            "updatedAt": iso_ms(comment.updated_at),
        }


def _favorites(user: User) -> list[dict[str, Any]]:
    rows = Favorite.objects.filter(user=user).order_by("pk")
    return [
        {"article": slug, "title": title}
        for slug, title in rows.values_list("article__slug", "article__title")
    ]


def _follows(user: User) -> dict[str, list[str]]:
    return {
        "following": list(
            Follow.objects.filter(follower=user).values_list("followee__username", flat=True)
        ),
        "followers": list(
            Follow.objects.filter(followee=user).values_list("follower__username", flat=True)
        ),
    }


def _write_zip(archive: zipfile.ZipFile, user: User) -> None:
    def put(name: str, data: object) -> None:
        archive.writestr(name, json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    archive.writestr("README.txt", README.format(when=iso_ms(timezone.now())))
    put("profile.json", _profile(user))
    put("articles.json", list(_articles(user)))
    put("comments.json", list(_comments(user)))
    put("favorites.json", _favorites(user))
    put("follows.json", _follows(user))
    avatar = Avatar.objects.filter(user=user).first()
    if avatar is not None:
        media = storages["default"]
        for name in avatar.storage_names():
            with media.open(name, "rb") as picture:
                archive.writestr(f"avatar/{name.rsplit('/', 1)[-1]}", picture.read())


@shared_task(
    name="conduit.privacy.export_build",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def export_build(export_id: int) -> None:
    """Build the zip of one export request and mark it ready with its expiry. A request that is
    already ready, failed or expired is left alone (a redelivered task does nothing)."""
    claimed = ExportRequest.objects.filter(
        pk=export_id, status__in=[Status.PENDING, Status.RUNNING]
    ).update(status=Status.RUNNING)
    if not claimed:
        return
    export = ExportRequest.objects.select_related("user").get(pk=export_id)
    exports = storages["exports"]
    try:
        with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as buffer:
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                _write_zip(archive, export.user)
            buffer.seek(0)
            # A random part: the name is not guessable from the id, and a rebuild never
            # reuses the name an older link was signed for.
            wanted = f"{export.user_id}/conduit-export-{export.pk}-{secrets.token_hex(8)}.zip"
            name = exports.save(wanted, File(buffer))
    except TRANSIENT_ERRORS:
        # Retried by Celery: back to pending so the retry may claim it again.
        ExportRequest.objects.filter(pk=export_id).update(status=Status.PENDING)
        raise
    except Exception:  # a bug or the time limit: the person sees "failed" and may ask again
        ExportRequest.objects.filter(pk=export_id).update(status=Status.FAILED)
        raise
    now = timezone.now()
    ExportRequest.objects.filter(pk=export_id).update(
        status=Status.READY,
        file_name=name,
        finished_at=now,
        expires_at=now + timedelta(seconds=settings.EXPORT_TTL),
    )


@shared_task(
    name="conduit.privacy.exports_remove_expired",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def exports_remove_expired() -> int:
    """Delete the zips whose links have expired, and mark their requests expired; also fail
    requests stuck pending or running for a day (their worker died), and delete the rows of
    old expired or failed requests (docs/retention.md). Returns how many zips."""
    now = timezone.now()
    storage = storages["exports"]
    removed = 0
    due = ExportRequest.objects.filter(status=Status.READY, expires_at__lte=now)
    for pk, name in due.values_list("pk", "file_name").iterator():
        storage.delete(name)  # no error if it is already gone
        ExportRequest.objects.filter(pk=pk).update(status=Status.EXPIRED, file_name="")
        removed += 1
    ExportRequest.objects.filter(
        status__in=[Status.PENDING, Status.RUNNING],
        created_at__lte=now - STUCK_AFTER,
    ).update(status=Status.FAILED)
    # The rows of expired and failed requests, once EXPORT_RECORD_RETENTION_DAYS old: their
    # zips are gone; the audit log keeps that the export was asked for and downloaded.
    old = ExportRequest.objects.filter(
        status__in=[Status.EXPIRED, Status.FAILED],
        created_at__lt=cutoff(settings.EXPORT_RECORD_RETENTION_DAYS),
    )
    records = delete_in_batches(old)
    if removed or records:
        logger.info("removed expired exports", extra={"count": removed, "records": records})
    return removed


@shared_task(
    name="conduit.privacy.files_delete",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def files_delete(storage_alias: str, names: list[str]) -> None:
    """Delete files of an erased account (deleting a missing file is not an error)."""
    storage = storages[storage_alias]
    for name in names:
        storage.delete(name)
