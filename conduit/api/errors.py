"""Every API error in one shape: ``{"errors": {<key>: [<message>, ...]}}``, field-keyed only.

RealWorld front ends print each entry as "<key> <message>", so a key and its message read as one
sentence ("title can't be blank", "article not found", "token is missing"), and every message
shows once. There is no ``body`` summary list: it repeated each message, and it collided with an
article's or comment's own ``body`` field (ADR 0006). RealWorld's test suites check these keys.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from conduit.platform.exceptions import (
    AlreadyExists,
    DomainError,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotFound,
)
from conduit.platform.ratelimit import RateLimited

logger = logging.getLogger(__name__)

# DRF's field messages, in RealWorld's words.
_DRF_MESSAGES = {
    "required": "can't be blank",
    "null": "can't be blank",
    "blank": "can't be blank",
    "not_a_list": "must be a list of strings",
    "not_a_dict": "must be an object",
}


# A list item's problem, said of the list (the API's only list input is tagList, of strings).
_ITEM_MESSAGE = "may contain only strings"


def error_payload(errors: Mapping[str, list[str]]) -> dict[str, Any]:
    """The error body: each key with its messages, nothing else."""
    return {"errors": {field: list(messages) for field, messages in errors.items()}}


def error_response(errors: Mapping[str, list[str]], status_code: int) -> Response:
    return Response(error_payload(errors), status=status_code)


def _flatten_drf(detail: Any, field: str = "request", item: bool = False) -> dict[str, list[str]]:
    """DRF's nested ValidationError detail as ``{field: [messages]}``; the wrapper object
    (``user``, ``article``...) is dropped so that the field names are the client's own. A body
    that is not an object at all is ``request``'s problem (never ``body``: that is a field)."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            # Errors of list items come keyed by index ({0: [...]}): they belong to the list.
            is_item = isinstance(key, int) or str(key).isdigit()
            name = field if is_item or key in ("non_field_errors", "__all__") else str(key)
            _merge(out, _flatten_drf(value, name, item or is_item))
    elif isinstance(detail, list):
        for entry in detail:
            _merge(out, _flatten_drf(entry, field, item))
    else:
        code = getattr(detail, "code", None)
        if code == "invalid" and str(detail).startswith("Invalid data. Expected a dictionary"):
            message = "must be an object"
        elif item:
            message = _ITEM_MESSAGE
        else:
            message = _DRF_MESSAGES.get(str(code), str(detail))
        out[field] = [message]
    return out


def _merge(into: dict[str, list[str]], errors: dict[str, list[str]]) -> None:
    # Each message once per field: two bad list items are one "tagList may contain only strings".
    for field, messages in errors.items():
        known = into.setdefault(field, [])
        known.extend(m for m in messages if m not in known)


def _accepted_types(context: Mapping[str, Any]) -> str:
    view = context.get("view")
    types = [parser.media_type for parser in view.get_parsers()] if view is not None else []
    return " or ".join(types) or "another type"


def _status_and_errors(
    exc: Exception, context: Mapping[str, Any]
) -> tuple[int, dict[str, list[str]]] | None:
    match exc:
        case AlreadyExists():
            return status.HTTP_409_CONFLICT, exc.errors
        case InvalidInput():
            return status.HTTP_422_UNPROCESSABLE_ENTITY, exc.errors
        case RateLimited():
            return status.HTTP_429_TOO_MANY_REQUESTS, too_many_errors(exc)
        case InvalidCredentials():
            return status.HTTP_401_UNAUTHORIZED, {"credentials": ["invalid"]}
        case NotFound():
            return status.HTTP_404_NOT_FOUND, {exc.what: ["not found"]}
        case Forbidden():
            return status.HTTP_403_FORBIDDEN, {exc.what: ["forbidden"]}
        case exceptions.NotAuthenticated():
            return status.HTTP_401_UNAUTHORIZED, {"token": ["is missing"]}
        case exceptions.AuthenticationFailed():
            return status.HTTP_401_UNAUTHORIZED, {"token": [str(exc.detail)]}
        case RequestDataTooBig():
            return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, {"request": ["is too large"]}
        case exceptions.ParseError():
            return status.HTTP_422_UNPROCESSABLE_ENTITY, {"request": ["is not valid JSON"]}
        case exceptions.ValidationError():
            return status.HTTP_422_UNPROCESSABLE_ENTITY, _flatten_drf(exc.detail)
        case exceptions.NotFound() | Http404():
            return status.HTTP_404_NOT_FOUND, {"resource": ["not found"]}
        case exceptions.PermissionDenied() if hasattr(exc, "token_message"):  # OAuth scopes
            return status.HTTP_403_FORBIDDEN, {"token": [exc.token_message]}
        case exceptions.PermissionDenied() | PermissionDenied():
            return status.HTTP_403_FORBIDDEN, {"request": ["forbidden"]}
        case exceptions.MethodNotAllowed():  # the Allow header says which are
            return exc.status_code, {"method": ["is not allowed here"]}
        case exceptions.UnsupportedMediaType():
            return exc.status_code, {"content type": [f"must be {_accepted_types(context)}"]}
        case exceptions.NotAcceptable():
            return exc.status_code, {"Accept header": ["cannot be satisfied"]}
        case exceptions.Throttled():
            return exc.status_code, {"request": ["was throttled; try again later"]}
        case exceptions.APIException():
            return exc.status_code, {"request": [str(exc.detail)]}
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: domain and DRF errors become RealWorld error bodies.
    Anything else propagates to Django (a logged 500, rendered by ``server_error``)."""
    mapped = _status_and_errors(exc, context)
    if mapped is None:
        if isinstance(exc, DomainError):
            logger.warning("unmapped domain error %r", exc)
        return None
    status_code, errors = mapped
    set_rollback()
    response = error_response(errors, status_code)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(exc.wait)  # type: ignore[attr-defined]
    return response


def _json(errors: Mapping[str, list[str]], status_code: int) -> JsonResponse:
    return JsonResponse(
        error_payload(errors), status=status_code, content_type="application/json; charset=utf-8"
    )


def too_many_errors(refused: RateLimited) -> dict[str, list[str]]:
    return {"requests": [f"are too many; retry after {refused.retry_after} seconds"]}


def too_many_requests(refused: RateLimited) -> JsonResponse:
    return _json(too_many_errors(refused), 429)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """404 for any URL Conduit does not serve, in the API's error shape."""
    return _json({"resource": ["not found"]}, 404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json({"request": ["is malformed"]}, 400)


def server_error(request: HttpRequest) -> JsonResponse:
    return _json({"server": ["had an unexpected error"]}, 500)
