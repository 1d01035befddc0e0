"""``Authorization: Token <jwt>`` for the API (the pages use session cookies instead).

Tokens are HS256 JWTs signed with ``SECRET_KEY``, carrying the user's id (not the username, so
a token stays valid across a username change) and an expiry of ``JWT_TTL``.
"""

import time
from datetime import UTC, datetime
from typing import Any

import jwt
from django.conf import settings
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import HTTP_HEADER_ENCODING, authentication, exceptions
from rest_framework.request import Request

from conduit.users.cached import active_user
from conduit.users.models import User

_SCHEMES = {b"token", b"bearer"}
_ISSUER = "conduit"


def token_for(user: User) -> str:
    now = datetime.now(UTC)
    payload = {"sub": str(user.pk), "iat": now, "exp": now + settings.JWT_TTL, "iss": _ISSUER}
    return jwt.encode(payload, settings.SECRET_KEY, algorithm=settings.JWT_ALGORITHM)


# Tokens whose signature and claims this process has verified: token -> (user id, expiry). A
# signed-in client sends the same token on every request, and verifying it (HMAC, base64, JSON,
# claims) was a tenth of a warm signed-in list's CPU. The expiry is still checked on every
# request; the key holds the secret and algorithm, so a new SECRET_KEY verifies afresh. Bounded:
# emptied when full.
_VERIFIED: dict[tuple[str, str, str], tuple[int, float]] = {}
_VERIFIED_MAX = 10_000


def user_id_from_token(token: str) -> int:
    key = (token, settings.SECRET_KEY, settings.JWT_ALGORITHM)
    verified = _VERIFIED.get(key)
    if verified is not None:
        user_id, expires = verified
        if time.time() < expires:
            return user_id
        raise exceptions.AuthenticationFailed("has expired")
    user_id, expires = _verify(token)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (user_id, expires)
    return user_id


def _verify(token: str) -> tuple[int, float]:
    try:
        payload = jwt.decode(
            token,
            settings.SECRET_KEY,
            algorithms=[settings.JWT_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise exceptions.AuthenticationFailed("has expired") from None
    except jwt.InvalidTokenError:
        raise exceptions.AuthenticationFailed("is invalid") from None
    try:
        return int(payload["sub"]), float(payload["exp"])
    except (TypeError, ValueError):
        raise exceptions.AuthenticationFailed("is invalid") from None


def token_in_header(request: HttpRequest | Request) -> str | None:
    """The token of an ``Authorization: Token <jwt>`` (or ``Bearer``) header; None without one;
    ``AuthenticationFailed`` when the header names the scheme but is malformed. Read from
    ``META`` as DRF's ``get_authorization_header`` does, so it also serves before DRF wraps the
    request."""
    header = request.META.get("HTTP_AUTHORIZATION", b"")
    if isinstance(header, str):
        header = header.encode(HTTP_HEADER_ENCODING)
    parts = header.split()
    if not parts or parts[0].lower() not in _SCHEMES:
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("is invalid")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed("is invalid") from None


def token_user_id(request: HttpRequest) -> int | None:
    """The user id named by a valid token in the request's header, else None. Not checked
    against the database: for reading the viewer's cache entries ahead, never for access."""
    try:
        token = token_in_header(request)
        return user_id_from_token(token) if token is not None else None
    except exceptions.AuthenticationFailed:
        return None


class JWTAuthentication(authentication.BaseAuthentication):
    """Accepts ``Token <jwt>`` (RealWorld's scheme) and ``Bearer <jwt>``.

    No header means anonymous; a header with a bad or expired token is a 401 even where
    signing in is optional, so a client learns its token is stale instead of silently seeing
    anonymous data.
    """

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        token = token_in_header(request)
        if token is None:
            return None
        user = active_user(user_id_from_token(token))
        if user is None:
            raise exceptions.AuthenticationFailed("is invalid")
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "conduit.api.authentication.JWTAuthentication"
    name = "Token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <jwt>`, with the token from registration or sign-in.",
        }
