"""Signed unsubscribe links: they work without signing in, from any mail client.

The token carries the user's id and what to stop, signed with ``SECRET_KEY`` under a salt used
for nothing else and timestamped; it is accepted for ``UNSUBSCRIBE_LINK_MAX_AGE`` (a year: old
emails stay actionable). Holding the link lets you switch emails *off* for that user, nothing more.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from conduit.platform.exceptions import InvalidInput

_SALT = "conduit.notifications.unsubscribe"
UNSUBSCRIBE_LINK_MAX_AGE = 365 * 24 * 3600


def unsubscribe_token(user_id: int) -> str:
    return signing.dumps({"u": user_id, "k": "new_articles"}, salt=_SALT)


def unsubscribe_url(user_id: int) -> str:
    path = reverse("notifications:unsubscribe", args=[unsubscribe_token(user_id)])
    return f"{settings.SITE_URL}{path}"


def user_id_from_token(token: str) -> int:
    try:
        data = signing.loads(token, salt=_SALT, max_age=UNSUBSCRIBE_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidInput.field("link", "has expired; use the link in a newer email") from None
    except signing.BadSignature:
        raise InvalidInput.field("link", "is not valid") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise InvalidInput.field("link", "is not valid")
    return int(data["u"])
