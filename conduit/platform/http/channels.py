"""The two channels' paths, and the middleware only the pages need.

The API (``/api/``) authenticates every request by its token and keeps no session: Django's
sessions, its lazily loaded ``request.user`` and the messages framework are work the pages need
and the API does not (about 0.03 ms of CPU on each API request, docs/performance.md). The
classes below are Django's own, skipped for API paths; everything else (CSRF's view check,
security headers, CORS) still runs for both.
"""

from collections.abc import Awaitable
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.utils.deprecation import MiddlewareMixin

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class _PagesOnly(MiddlewareMixin):
    """Put before a ``MiddlewareMixin`` middleware: API requests pass straight through it."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)


class PageSessionMiddleware(_PagesOnly, SessionMiddleware):
    pass


class PageAuthenticationMiddleware(_PagesOnly, AuthenticationMiddleware):
    pass


class PageMessageMiddleware(_PagesOnly, MessageMiddleware):
    pass


class HtmlContentSecurityPolicyMiddleware(ContentSecurityPolicyMiddleware):
    """Django's Content-Security-Policy (``SECURE_CSP``) on the HTML a browser renders: the pages
    and the API's docs page. A JSON answer is never run as a page, so it goes without the header
    (and without building it, on every API request). No nonce is made per request: the policy
    names none (no inline script or style is allowed at all)."""

    def __call__(self, request: HttpRequest) -> Any:
        response: Any = self.get_response(request)  # under WSGI: the response itself
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return self.process_response(request, response)
