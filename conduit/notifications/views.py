"""The unsubscribe page: the signed link is the credential, no sign-in needed.

GET only shows a confirmation (link scanners and prefetchers follow GETs; they must not
unsubscribe anyone); POST unsubscribes. Mail clients' one-click unsubscribe (RFC 8058) POSTs
``List-Unsubscribe=One-Click`` to the same URL without a CSRF token, so the view is exempt: the
signed token, not a cookie, authorises the change.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from conduit.notifications.links import user_id_from_token
from conduit.notifications.services import email_preference_unsubscribe
from conduit.platform.exceptions import InvalidInput

_TEMPLATE = "notifications/unsubscribe.html"


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user_id = user_id_from_token(token)
    except InvalidInput as exc:
        messages = [f"This link {m}." for m in exc.errors.get("link", [])]
        return render(request, _TEMPLATE, {"errors": messages}, status=400)
    if request.method != "POST":
        return render(request, _TEMPLATE, {})
    if email_preference_unsubscribe(user_id=user_id) is None:
        return render(
            request, _TEMPLATE, {"errors": ["This account no longer exists."]}, status=410
        )
    return render(request, _TEMPLATE, {"done": True})
