"""Every test here starts with empty file storages (exports are built and downloaded)."""

from typing import Any

import pytest

from conduit.audit.models import AuditEvent
from tests.storages import fresh_file_storages

__all__ = ["entries", "fresh_file_storages"]

AGENT = "AuditTest/1.0 (X11; Linux x86_64)"
ADDRESS = "203.0.113.77"
FROM_CLIENT: dict[str, Any] = {
    "REMOTE_ADDR": ADDRESS,
    "HTTP_USER_AGENT": AGENT,
    "HTTP_X_REQUEST_ID": "req-audit-1",
}


@pytest.fixture
def entries():
    """``entries(kind)``: the audit rows of that kind, oldest first (all rows without one)."""

    def read(kind: str | None = None) -> list[AuditEvent]:
        rows = AuditEvent.objects.order_by("id")
        return list(rows.filter(kind=kind) if kind else rows)

    return read
