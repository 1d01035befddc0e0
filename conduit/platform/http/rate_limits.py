"""The rate limits every request meets (ADR 0024), before its view runs.

* anonymous reads (a GET or HEAD with no token and no session cookie): per client address, in
  this process (``reads_per_ip``);
* writes (any other method): per signed-in user, else per address (``writes_per_user``);
* the routes named in ``RATE_LIMITED_ROUTES`` (sign-in, registration): per address too.

The per-account limits (failed sign-ins, password changes) are the users app's, where the
account is known. A refusal is answered by ``RATE_LIMIT_RESPONSE`` (each channel's 429 with
``Retry-After``).
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

from conduit.platform import ratelimit, tokens
from conduit.platform.http.client_ip import client_ip

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _signed_in_id(request: HttpRequest) -> int | None:
    user_id = tokens.user_id_of(request)
    if user_id is not None:
        return user_id
    user = getattr(request, "user", None)  # a page's session user
    return user.pk if user is not None and user.is_authenticated else None


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.respond: Callable[[HttpRequest, ratelimit.RateLimited], HttpResponseBase] = (
            import_string(settings.RATE_LIMIT_RESPONSE)
        )

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        if not ratelimit.enabled():
            return None
        try:
            if request.method in _READS:
                anonymous = "HTTP_AUTHORIZATION" not in request.META and (
                    settings.SESSION_COOKIE_NAME not in request.COOKIES
                )
                if anonymous:
                    ratelimit.hit_local("reads_per_ip", client_ip(request))
                return None
            address = client_ip(request)
            match = request.resolver_match
            route_limit = settings.RATE_LIMITED_ROUTES.get(match.view_name if match else "")
            if route_limit:
                ratelimit.hit(route_limit, address)
            user_id = _signed_in_id(request)
            ratelimit.hit("writes_per_user", user_id if user_id is not None else f"ip:{address}")
        except ratelimit.RateLimited as refused:
            return self.respond(request, refused)
        return None
