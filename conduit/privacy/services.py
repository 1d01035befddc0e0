"""Writes for a person's rights over their data: export (GDPR art. 15/20) and erasure (art. 17).

Erasure removes everything the person made or did, through the same services as the API, so
every maintained counter (articles, favorites, followers, tags, the site's article count) moves
exactly as if they had undone each action themselves; then the user row goes, which ends their
sessions and makes their tokens fail. ADR 0020 says what is deleted and why nothing is kept.
"""

from django.db import transaction
from django.db.models import Q

from conduit.articles.favorites import favorite_remove
from conduit.articles.models import Article
from conduit.articles.services import article_delete
from conduit.audit.models import AuditEvent
from conduit.audit.services import audit_pseudonymise_user, audit_record
from conduit.comments.models import Comment
from conduit.media.models import Avatar
from conduit.platform.exceptions import InvalidInput
from conduit.platform.tasks.enqueue import enqueue_named_on_commit, enqueue_on_commit
from conduit.privacy.models import ExportRequest
from conduit.profiles.models import Follow
from conduit.profiles.services import follow_remove
from conduit.users.invalidation import user_deleted
from conduit.users.models import User

_IN_PROGRESS = (ExportRequest.Status.PENDING, ExportRequest.Status.RUNNING)

TIMELINE_ERASED = "conduit.timelines.user_erased"


def export_request(*, user: User) -> ExportRequest:
    """Ask for a new export of ``user``'s data; while one is pending or running, that one is
    returned instead of queueing another (a double click costs one build)."""
    from conduit.privacy.tasks import export_build  # tasks import the models this module uses

    with transaction.atomic():
        # The user row serialises concurrent requests of the same person.
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        current = (
            ExportRequest.objects.filter(user=user, status__in=_IN_PROGRESS).order_by("-id").first()
        )
        if current is not None:
            return current
        export = ExportRequest.objects.create(user=user)
        audit_record(
            kind=AuditEvent.Kind.EXPORT_REQUESTED,
            actor_id=user.pk,
            target_user_id=user.pk,
            target_object=f"export:{export.pk}",
        )
        enqueue_on_commit(export_build, export.pk)
    return export


def account_erase(*, user: User, password: str | None) -> None:
    """Erase ``user`` and everything they made, after checking their password (a stolen
    session or token alone cannot erase an account)."""
    from conduit.privacy.tasks import files_delete

    if not password or not user.check_password(password):
        raise InvalidInput.field("password", "is not your current password")
    with transaction.atomic():
        for article in Article.objects.filter(favorites__user=user).order_by("pk"):
            favorite_remove(user=user, slug=article.slug)
        for follow in Follow.objects.filter(Q(follower=user) | Q(followee=user)).select_related(
            "follower", "followee"
        ):
            follow_remove(follower=follow.follower, followee=follow.followee)
        # Other people's favorites of these articles go with them, their counters fixed.
        for article in Article.objects.filter(author=user).order_by("pk"):
            article_delete(article=article, user=user)
        Comment.objects.filter(author=user).delete()  # no counter counts comments
        avatar_files = [
            name for a in Avatar.objects.filter(user=user) for name in a.storage_names()
        ]
        export_files = list(
            ExportRequest.objects.filter(user=user)
            .exclude(file_name="")
            .values_list("file_name", flat=True)
        )
        # Their audit entries keep what happened, under a pseudonym (ADR 0032).
        audit_pseudonymise_user(user_id=user.pk, email_key=user.email_key)
        user_deleted(user)  # their tokens fail from the next request on
        # Their home timeline (the timelines app's task, by name: platform/tasks/enqueue.py).
        enqueue_named_on_commit(TIMELINE_ERASED, user.pk)
        user.delete()  # cascades to the avatar and export rows; ends sessions
        if avatar_files:
            enqueue_on_commit(files_delete, "default", avatar_files)
        if export_files:
            enqueue_on_commit(files_delete, "exports", export_files)


def export_downloaded(*, export: ExportRequest) -> None:
    """Record that the zip of ``export`` was fetched with its signed link (no one signed in:
    the link is the credential)."""
    audit_record(
        kind=AuditEvent.Kind.EXPORT_DOWNLOADED,
        target_user_id=export.user_id,
        target_object=f"export:{export.pk}",
    )
