"""Every API error in RealWorld's shape: ``{"errors": {"body": [...], <field>: [...]}}``.

``body`` is always present (``GenericErrorModel``); the field-keyed messages beside it let a
client put each message next to its input, and are what RealWorld's test suites check.
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

logger = logging.getLogger(__name__)

# DRF's field messages, in RealWorld's words.
_DRF_MESSAGES = {
    "required": "can't be blank",
    "null": "can't be blank",
    "blank": "can't be blank",
    "not_a_list": "must be a list of strings",
    "not_a_dict": "must be an object",
}


def error_payload(errors: Mapping[str, list[str]]) -> dict[str, Any]:
    """RealWorld's error body. A message about the field literally called ``body`` (an
    article's or comment's) stays first in ``body``; the others follow as full sentences."""
    body = list(errors.get("body", []))
    for field, messages in errors.items():
        if field != "body":
            body.extend(f"{field} {message}" for message in messages)
    return {"errors": {**errors, "body": body}}


def error_response(errors: Mapping[str, list[str]], status_code: int) -> Response:
    return Response(error_payload(errors), status=status_code)


def _flatten_drf(detail: Any, field: str = "body") -> dict[str, list[str]]:
    """DRF's nested ValidationError detail as ``{field: [messages]}``; the wrapper object
    (``user``, ``article``...) is dropped so that the field names are the client's own."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            # Errors of list items come keyed by index ({0: [...]}): they belong to the list.
            is_item = isinstance(key, int) or str(key).isdigit()
            name = field if is_item or key in ("non_field_errors", "__all__") else str(key)
            for sub_field, messages in _flatten_drf(value, name).items():
                out.setdefault(sub_field, []).extend(messages)
    elif isinstance(detail, list):
        for item in detail:
            for sub_field, messages in _flatten_drf(item, field).items():
                out.setdefault(sub_field, []).extend(messages)
    else:
        code = getattr(detail, "code", None)
        if code == "invalid" and str(detail).startswith("Invalid data. Expected a dictionary"):
            out[field] = ["must be an object"]
        else:
            out[field] = [_DRF_MESSAGES.get(str(code), str(detail))]
    return out


def _status_and_errors(exc: Exception) -> tuple[int, dict[str, list[str]]] | None:
    match exc:
        case AlreadyExists():
            return status.HTTP_409_CONFLICT, exc.errors
        case InvalidInput():
            return status.HTTP_422_UNPROCESSABLE_ENTITY, exc.errors
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
        case exceptions.PermissionDenied() | PermissionDenied():
            return status.HTTP_403_FORBIDDEN, {"request": ["forbidden"]}
        case exceptions.APIException():
            return exc.status_code, {"request": [str(exc.detail)]}
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: domain and DRF errors become RealWorld error bodies.
    Anything else propagates to Django (a logged 500, rendered by ``server_error``)."""
    mapped = _status_and_errors(exc)
    if mapped is None:
        if isinstance(exc, DomainError):
            logger.warning("unmapped domain error %r", exc)
        return None
    status_code, errors = mapped
    set_rollback()
    response = error_response(errors, status_code)
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


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """404 for any URL Conduit does not serve, in the API's error shape."""
    return _json({"resource": ["not found"]}, 404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json({"request": ["is malformed"]}, 400)


def server_error(request: HttpRequest) -> JsonResponse:
    return _json({"server": ["had an unexpected error"]}, 500)
