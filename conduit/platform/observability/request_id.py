"""Request ids, request-scoped log context and one access log line per request.

``RequestIdMiddleware`` sits near the top of ``MIDDLEWARE``. For each request it:

* takes ``X-Request-ID`` from the request when it is a sane token (1-128 characters of
  ``[A-Za-z0-9._-]``, so a proxy's id is kept end to end and nothing odd reaches the logs), or
  makes a new one (uuid4 hex); it is ``request.request_id`` and the response's ``X-Request-ID``;
* binds ``request_id`` and ``method`` (and, once the URL is resolved, ``route``) into structlog's
  context variables, so every log line written while handling the request carries them;
* logs one ``request`` line on ``conduit.access``: method, path, route, status, duration_ms,
  request_id and user_id;
* makes the request ``current_request()`` while it is handled, so that code far from the view
  (the audit log's writes, ADR 0032) can name the request, its address and its user agent
  without every service taking them as arguments.

It never causes a database query: the user id is read only when something else already loaded
the user (the session and the token are lazy), so the exact query counts of the suite hold.
"""

import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import sentry_sdk
import structlog
from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_sane = re.compile(r"[A-Za-z0-9._-]{1,128}").fullmatch

access_log = structlog.get_logger("conduit.access")
_current: ContextVar[HttpRequest | None] = ContextVar("conduit_current_request", default=None)


def current_request() -> HttpRequest | None:
    """The request this thread (or task) is handling, None outside a request."""
    return _current.get()


def request_id_from(value: str | None) -> str:
    """The client's id when it is a sane token, else a new one."""
    if value and _sane(value):
        return value
    return uuid.uuid4().hex


def route_of(request: HttpRequest) -> str | None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    return match.view_name or match.route or None


def loaded_user_id(request: HttpRequest) -> Any:
    """The signed-in user's id if the user was already loaded by someone else, else None."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    if isinstance(user, SimpleLazyObject):
        wrapped = user._wrapped
        if wrapped is empty:
            return None
        user = wrapped
    if getattr(user, "is_authenticated", False):
        return user.pk
    return None


def _clear_context(**kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()


# A worker thread's later lines (outside any request) must not carry the last request's id.
request_finished.connect(_clear_context, dispatch_uid="conduit.request_id.clear_context")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.sentry = bool(getattr(settings, "SENTRY_DSN", ""))

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        request_id = request_id_from(request.META.get(_META_KEY))
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, method=request.method)
        if self.sentry:  # an error report names the request id its log lines carry
            sentry_sdk.set_tag("request_id", request_id)
        current = _current.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(current)
        response[HEADER] = request_id
        access_log.info(
            "request",
            path=request.path,
            route=route_of(request),
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            user_id=loaded_user_id(request),
        )
        # The context stays bound until the response is finished: Django logs a 4xx/5xx
        # ("Not Found: ...") after the middleware chain returns, and that line carries the id too.
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> None:
        """The URL is resolved now: log lines from the view carry the route name too."""
        structlog.contextvars.bind_contextvars(route=route_of(request))
