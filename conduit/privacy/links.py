"""Signed, expiring download links for exports.

The link is a capability: whoever holds it may download, without an Authorization header, so a
person can click it in a page or an email. It carries the export's id and file name, signed with
``SECRET_KEY`` (salted for this purpose only) and timestamped. A link works for
``EXPORT_LINK_SECONDS`` (15 minutes by default): the settings page and ``GET /api/user/export``
make a fresh one each time, for as long as the file is kept (``EXPORT_TTL``, 7 days), so a link
that leaks (a log, a shared screen, browser history) is soon worth nothing. A rebuilt export gets a
new file name, so an old link never reaches a newer zip.
"""

from django.conf import settings
from django.core import signing
from django.utils import timezone

from conduit.platform.exceptions import DomainError
from conduit.privacy.models import ExportRequest

_SALT = "conduit.privacy.export-download"


class LinkInvalid(DomainError):
    """Forged or mangled: the signature does not match (403)."""


class LinkExpired(DomainError):
    """Genuine but too old, or its export is gone (410)."""


def export_download_token(export: ExportRequest) -> str:
    return signing.dumps({"e": export.pk, "f": export.file_name}, salt=_SALT, compress=True)


def export_from_token(token: str) -> ExportRequest:
    """The ready export the link points at; LinkInvalid or LinkExpired otherwise."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.EXPORT_LINK_SECONDS)
    except signing.SignatureExpired:
        raise LinkExpired("has expired; get a new one from your settings") from None
    except signing.BadSignature:
        raise LinkInvalid("is not valid") from None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int):
        raise LinkInvalid("is not valid")
    export = ExportRequest.objects.filter(pk=data["e"], file_name=str(data.get("f"))).first()
    if (
        export is None
        or export.status != ExportRequest.Status.READY
        or export.expires_at is None
        or export.expires_at <= timezone.now()
    ):
        raise LinkExpired("is no longer available; request a new export")
    return export
