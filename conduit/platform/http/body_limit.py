"""The largest request body the app accepts, enforced by the app itself.

A proxy in front (nginx's ``client_max_body_size``) usually refuses big bodies first, but Conduit
also runs with no proxy (the embedded default) or behind one that does not (HAProxy). A request
whose ``Content-Length`` exceeds ``REQUEST_MAX_BYTES`` is answered 413 here, before anything
reads its body: the API in its error shape (docs/api.md), the pages in plain text (a URL that
resolves to no view is a 404 without reading the body either). Under WSGI a
body without ``Content-Length`` is read as empty, so the declared length is the whole story.
Bodies under the cap still meet Django's own limits when parsed (``DATA_UPLOAD_MAX_MEMORY_SIZE``
for non-file data, a 413 through the API's exception handler) and the avatar's (conduit.media).
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from conduit.platform.http.channels import API_PREFIX

TOO_LARGE = "is too large"


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


_OWN_CHECK = "checks_own_body_size"


def checks_own_body_size[V: Callable[..., Any]](view: V) -> V:
    """Mark a view that refuses big bodies unread itself, with a stricter limit and its own
    answer (the settings page's picture form shows a form error, not a bare 413)."""
    setattr(view, _OWN_CHECK, True)
    return view


class RequestBodyLimitMiddleware:
    """In ``process_view``, so a marked view can answer for itself; nothing earlier in the
    middleware chain reads the body (the CSRF check, in its own ``process_view``, comes later)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if getattr(view_func, _OWN_CHECK, False):
            return None
        if _declared_length(request) > settings.REQUEST_MAX_BYTES:
            return too_large(request)
        return None


def too_large(request: HttpRequest) -> HttpResponse:
    # No "Connection: close" here: WSGI forbids hop-by-hop headers; the server drains or closes.
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"errors": {"request": [TOO_LARGE]}}, status=413)
    return HttpResponse(
        f"The request {TOO_LARGE}.\n", status=413, content_type="text/plain; charset=utf-8"
    )
