"""``Authorization: Token <jwt>`` for the API (the pages use session cookies instead).

The token is issued, parsed and verified by ``conduit.platform.tokens``, once per request;
this module turns its verdict into DRF's authentication.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from conduit.platform import tokens
from conduit.users.models import User
from conduit.users.selectors import active_user


def token_for(user: User) -> str:
    return tokens.issue(user.pk, user.token_version)


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
