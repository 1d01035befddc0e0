"""``Authorization: Token <jwt>`` for the API (the pages use session cookies instead), and
``Authorization: Bearer <token>`` with an OAuth access token (ADR 0031).

The JWT is issued, parsed and verified by ``conduit.platform.tokens``, once per request;
this module turns its verdict into DRF's authentication. An OAuth token is looked up in the
OAuth app's tables; the scopes it carries are checked per endpoint by ``OAuthScopes``.
"""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from conduit.oauth.selectors import Access, access_of
from conduit.platform import tokens
from conduit.users.models import User
from conduit.users.selectors import active_user


def token_for(user: User) -> str:
    return tokens.issue(user.pk, user.token_version)


def token_in_response(request: Request, user: User) -> str:
    """The token a user response carries: an OAuth app gets its own bearer token back, never
    a JWT (which would carry every scope); anyone else a fresh JWT."""
    return request.auth if isinstance(request.auth, OAuthToken) else token_for(user)


class JWTAuthentication(authentication.BaseAuthentication):
    """Accepts ``Token <jwt>`` (RealWorld's scheme) and ``Bearer <jwt>``.

    No header means anonymous; a header with a bad or expired token is a 401 even where
    signing in is optional, so a client learns its token is stale instead of silently seeing
    anonymous data.
    """

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        try:
            claims = tokens.claims_of(request)
        except tokens.TokenError as error:
            raise exceptions.AuthenticationFailed(error.reason) from None
        if claims is None:
            return None
        user = active_user(claims.user_id)
        if user is None:
            raise exceptions.AuthenticationFailed("is invalid")
        if user.token_version != claims.version:  # signed out everywhere, or a new password
            raise exceptions.AuthenticationFailed("has been revoked")
        return user, claims.token

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


class OAuthToken(str):
    """``request.auth`` of an OAuth request: the bearer token itself (what the API answers
    with where it answers with the caller's token), and the ``access`` it grants."""

    access: Access

    def __new__(cls, token: str, access: Access) -> "OAuthToken":
        instance = super().__new__(cls, token)
        instance.access = access
        return instance


class OAuthAuthentication(authentication.BaseAuthentication):
    """Accepts ``Bearer <token>`` where the token is no JWT: an OAuth access token. Unknown,
    expired or revoked (a token version the user no longer has: signed out everywhere, a new
    password) is a 401 in the API's error shape, as for a JWT."""

    def authenticate(self, request: Request) -> tuple[User, OAuthToken] | None:
        token = tokens.opaque_bearer(request)
        if token is None:
            return None
        access = access_of(token)
        if access is None:
            raise exceptions.AuthenticationFailed("is invalid")
        if access.expired():
            raise exceptions.AuthenticationFailed("has expired")
        user = active_user(access.user_id)
        if user is None:
            raise exceptions.AuthenticationFailed("is invalid")
        if access.version is None or access.version != user.token_version:
            raise exceptions.AuthenticationFailed("has been revoked")
        return user, OAuthToken(token, access)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


READ = frozenset({"read"})
WRITE = frozenset({"write"})
PROFILE = frozenset({"profile"})
PROFILE_WRITE = frozenset({"profile", "write"})
DEFAULT_SCOPES = {"GET": READ, "HEAD": READ, "OPTIONS": READ}


class InsufficientScope(exceptions.PermissionDenied):
    """403 ``{"errors": {"token": [...]}}`` with RFC 6750's ``insufficient_scope`` challenge."""

    def __init__(self, message: str, scopes: frozenset[str]) -> None:
        super().__init__(message)
        self.token_message = message  # conduit.api.errors: {"errors": {"token": [message]}}
        wanted = " ".join(sorted(scopes))
        self.auth_header = f'Bearer realm="api", error="insufficient_scope", scope="{wanted}"'


class OAuthScopes(BasePermission):
    """An OAuth token may do what its scopes allow. A view's ``oauth_scopes`` maps a method to
    the scopes it needs (a method missing from the map is closed to OAuth tokens: erasure,
    export, sign-out everywhere are the user's own); without one, reads need ``read`` and
    writes need ``write`` (docs/api.md lists the map). JWTs and sessions are not scoped."""

    def has_permission(self, request: Request, view: Any) -> bool:
        auth = request.auth
        if not isinstance(auth, OAuthToken):
            return True
        needed_by_method: dict[str, frozenset[str]] | None = getattr(view, "oauth_scopes", None)
        method = request.method or "GET"
        if needed_by_method is None:
            needed: frozenset[str] | None = READ if method in SAFE_METHODS else WRITE
        else:
            needed = needed_by_method.get(method)
        if needed is None:
            raise InsufficientScope("from an OAuth app may not do this", frozenset())
        missing = needed - auth.access.scopes
        if missing:
            raise InsufficientScope(f"lacks the scope {' '.join(sorted(missing))}", needed)
        return True


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


class OAuthAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "conduit.api.authentication.OAuthAuthentication"
    name = "OAuth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": "`Bearer <token>` from the authorization-code flow (docs/api.md).",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{settings.SITE_URL}/oauth/authorize/",
                    "tokenUrl": f"{settings.SITE_URL}/oauth/token/",
                    "refreshUrl": f"{settings.SITE_URL}/oauth/token/",
                    "scopes": settings.OAUTH_SCOPES,
                }
            },
        }
