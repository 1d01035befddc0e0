"""The site's error pages: 404, 500 and a failed CSRF check."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"status": 404, "message": "We couldn't find that page."}
    return render(request, "web/error.html", context, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request context (no user, no session): this may be a database outage.
    return HttpResponse(
        render_to_string("web/500.html"), status=500, content_type="text/html; charset=utf-8"
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    context = {
        "status": 403,
        "message": "This form expired or came from another site. Go back, reload the page and "
        "try again.",
    }
    return render(request, "web/error.html", context, status=403)
