"""Reads of the audit log."""

from dataclasses import dataclass

from conduit.audit.models import AuditEvent

PAGE_SIZE = 20
_SHOWN = ("created_at", "kind", "ip_network", "user_agent")


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    older: int | None  # the ``before`` of the next (older) page, None on the last one


def audit_events_of_user(*, user_id: int, before: int | None = None) -> EventPage:
    """The events about ``user_id``'s account, newest first, ``PAGE_SIZE`` at a time: keyset
    pages (``before``: the id the page starts below), one indexed query, no count."""
    rows = AuditEvent.objects.filter(target_user_id=user_id)
    if before is not None:
        rows = rows.filter(id__lt=before)
    events = list(rows.order_by("-id").only(*_SHOWN)[: PAGE_SIZE + 1])
    older = events[PAGE_SIZE - 1].pk if len(events) > PAGE_SIZE else None
    return EventPage(events=events[:PAGE_SIZE], older=older)
