"""The Security settings page: the signed-in user's own audit entries, newest first (ADR 0032)."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from conduit.audit import selectors as audit_selectors
from conduit.web.views.base import signed_in, signed_in_required


def _before(request: HttpRequest) -> int | None:
    """The ``?before=`` of an older page (an entry id); anything but a positive number is a 404."""
    raw = request.GET.get("before")
    if raw is None:
        return None
    if not raw.isdecimal() or not 0 < int(raw) < 2**63:
        raise Http404("no such page")
    return int(raw)


@signed_in_required
@require_safe
def settings_security(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    before = _before(request)
    page = audit_selectors.audit_events_of_user(user_id=user.pk, before=before)
    context = {
        "nav": "settings",
        "tab": "security",
        "page": page,
        "first": before is None,
        "retention_days": settings.AUDIT_RETENTION_DAYS,
    }
    return render(request, "web/security.html", context)
