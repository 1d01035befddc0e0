"""Reads for exports."""

from conduit.privacy.models import ExportRequest


def export_latest(*, user_id: int) -> ExportRequest | None:
    """The user's most recent export request, whatever its status (one indexed query)."""
    return ExportRequest.objects.filter(user_id=user_id).order_by("-id").first()
