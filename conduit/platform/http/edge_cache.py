"""What a shared cache in front of the app (nginx's edge micro-cache, ADR 0028) may keep: the
``Cache-Control`` and ``Vary`` of the views that answer anonymous readers the same way.

An anonymous ``GET`` answered 200 with no cookie set is ``public, max-age=1,
stale-while-revalidate=1`` when ``CACHE_ANONYMOUS_SECONDS`` (the staleness bound of an
anonymous read) is 1 s, else nothing: fresh for a second, then served for at most one more
second while one request fetches the next answer. An answer to a signed-in reader is
``private, no-store``. Anything else (an error, a redirect)
says nothing, and nginx keeps nothing without a ``Cache-Control`` (the template sets no
``proxy_cache_valid``). nginx's own bypass rules (``Authorization``, the session and messages
cookies, any method but ``GET``) are the same as ``anonymous`` below, so a mistake in either
still leaves the other.
"""

import functools
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

PUBLIC = "public, max-age=1, stale-while-revalidate=1"
PRIVATE = "private, no-store"


def anonymous(request: HttpRequest) -> bool:
    """Whether ``request`` reads as nobody: no token, no session or messages cookie (the two
    cookies a page reads), and no signed-in user on a page."""
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
        return False
    user = getattr(request, "user", None)  # the pages' (PageAuthenticationMiddleware)
    return user is None or not user.is_authenticated


def mark(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """``response`` with the ``Cache-Control`` and ``Vary`` a shared cache needs (module doc)."""
    patch_vary_headers(response, ("Authorization",))
    if response.has_header("Cache-Control"):
        return response  # the view said it already
    if not anonymous(request):
        response["Cache-Control"] = PRIVATE
    elif (
        request.method == "GET"
        and response.status_code == 200
        and not response.cookies
        and settings.CACHE_ANONYMOUS_SECONDS >= 1
    ):
        response["Cache-Control"] = PUBLIC
    return response


def public_when_anonymous[View: Callable[..., HttpResponseBase]](view: View) -> View:
    """``view`` with its answers marked for a shared cache (``mark``): the API's anonymous
    reads and the pages an anonymous reader sees the same as any other."""

    @functools.wraps(view)  # keeps DRF's csrf_exempt and cls, which the schema reads
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return mark(request, view(request, *args, **kwargs))

    return cast("View", wrapper)
