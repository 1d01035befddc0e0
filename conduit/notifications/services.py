"""Writes for email preferences."""

from django.db import transaction
from django.utils import timezone

from conduit.notifications.models import EmailPreference
from conduit.users.models import User


def email_preference_unsubscribe(*, user_id: int) -> EmailPreference | None:
    """Stop new-article emails to the user (idempotent); None if the user no longer exists."""
    with transaction.atomic():
        if not User.objects.filter(pk=user_id).exists():
            return None
        preference, _ = EmailPreference.objects.update_or_create(
            user_id=user_id, defaults={"new_articles": False, "updated_at": timezone.now()}
        )
    return preference
