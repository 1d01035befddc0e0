"""Error views for the whole site: JSON under /api/, the site's own pages elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from conduit.api import errors as api_errors
from conduit.platform.ratelimit import RateLimited
from conduit.web import views as web_views


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_errors.not_found(request, exception)
    return web_views.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_errors.bad_request(request, exception)
    context = {"status": 400, "message": "That request could not be understood."}
    return render(request, "web/error.html", context, status=400)


def too_many_requests(request: HttpRequest, refused: RateLimited) -> HttpResponse:
    """429 with ``Retry-After``: a rate limit refused the request (ADR 0024)."""
    if request.path.startswith("/api/"):
        response: HttpResponse = api_errors.too_many_requests(refused)
    else:
        message = f"Too many requests. Try again in {refused.retry_after} seconds."
        response = render(
            request, "web/error.html", {"status": 429, "message": message}, status=429
        )
    response["Retry-After"] = str(refused.retry_after)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_errors.server_error(request)
    return web_views.server_error(request)
