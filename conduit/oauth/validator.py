"""django-oauth-toolkit's validator with Conduit's rules on top (ADR 0031).

* A token is issued only to an active user, and records the user's token version
  (``services.tokens_issued``); a refresh token whose version is no longer the user's is refused,
  so signing out everywhere or a new password ends a third-party app's access as it ends the
  user's JWTs.
* Everything else (PKCE, rotation with reuse protection, hashed storage) is the toolkit's, set
  in ``OAUTH2_PROVIDER``.
"""

from typing import Any

from oauth2_provider.models import AbstractAccessToken, AbstractRefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request

from conduit.oauth import selectors, services

_ISSUED_ACCESS = "_conduit_issued_access_token"
_ISSUED_REFRESH = "_conduit_issued_refresh_token"
_VERSION = "_conduit_token_version"


class Validator(OAuth2Validator):
    def validate_code(
        self, client_id: str, code: str, client: Any, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        if not request.user.is_active:
            return False
        setattr(request, _VERSION, request.user.token_version)
        return True

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        version = selectors.refresh_token_version(request.refresh_token_instance)
        user = request.user
        if not user.is_active or version is None or version != user.token_version:
            return False
        setattr(request, _VERSION, version)
        return True

    def _create_access_token(
        self, expires: Any, request: Request, token: Any, source_refresh_token: Any = None
    ) -> AbstractAccessToken:
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        setattr(request, _ISSUED_ACCESS, access_token)
        return access_token

    def _create_refresh_token(
        self, request: Request, refresh_token_code: str, access_token: Any, previous: Any
    ) -> AbstractRefreshToken:
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous
        )
        setattr(request, _ISSUED_REFRESH, refresh_token)
        return refresh_token

    def _save_bearer_token(self, token: Any, request: Request, *args: Any, **kwargs: Any) -> None:
        # Inside the toolkit's transaction (save_bearer_token): the versions commit with the
        # tokens, or neither does.
        super()._save_bearer_token(token, request, *args, **kwargs)
        services.tokens_issued(
            user=request.user,
            application=request.client,
            version=getattr(request, _VERSION),
            access_token=getattr(request, _ISSUED_ACCESS, None),
            refresh_token=getattr(request, _ISSUED_REFRESH, None),
            grant_type=request.grant_type,
        )
