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

from conduit.platform.db.read_your_writes import is_successful_write

PUBLIC = "public, max-age=1, stale-while-revalidate=1"
PRIVATE = "private, no-store"
# Read-your-writes past the shared caches: a client whose write succeeded carries this cookie
# for as long as an anonymous read may be stale behind the edge (1 s fresh + 1 s stale at nginx,
# + 1 s in another app process's micro-cache), and while it does its reads skip both caches.
FRESH_COOKIE = "conduit_fresh"
FRESH_SECONDS = 3


def anonymous(request: HttpRequest) -> bool:
    """Whether ``request`` reads as nobody: no token, no session or messages cookie (the two
    cookies a page reads), and no signed-in user on a page."""
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    cookies = request.COOKIES
    if {settings.SESSION_COOKIE_NAME, CookieStorage.cookie_name, FRESH_COOKIE} & cookies.keys():
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


class WriterFreshCookieMiddleware:
    """After a successful write (an unsafe method, a status below 400), the answer sets
    ``FRESH_COOKIE`` for ``FRESH_SECONDS``: the writer's next reads, anonymous ones included
    (RealWorld's suites read anonymously right after a signed-in write), bypass nginx's edge
    cache (its bypass map names the cookie) and the app's micro-cache, so the writer sees its
    write at once, and everyone else within the bound. As Varnish set-ups pass a client for a
    moment after its POST. Clients without cookies (a cross-origin fetch) read with their token,
    which bypasses the caches anyway."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if is_successful_write(request, response):
            response.set_cookie(
                FRESH_COOKIE, "1", max_age=FRESH_SECONDS, secure=request.is_secure(),
                httponly=True, samesite="Lax",
            )  # fmt: skip
        return response
