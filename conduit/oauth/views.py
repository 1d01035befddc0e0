"""Token introspection (RFC 7662) for confidential clients (ADR 0031).

The toolkit's own view answers any client about any token, and a public client "authenticates"
with its id alone. Here the caller must be a confidential client with its secret (HTTP Basic,
or ``client_id`` and ``client_secret`` in the form body), and learns only about its own tokens:
another app's token, an expired or revoked one, or one whose user signed out everywhere is
``{"active": false}``.
"""

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote_plus

from django.contrib.auth.hashers import check_password
from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import OAuthServerMetadataView

from conduit.oauth import selectors
from conduit.users.selectors import active_user

SECRET_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, colon, secret = decoded.partition(":")
        return (unquote_plus(client_id), unquote_plus(secret)) if colon else None
    client_id, secret = request.POST.get("client_id", ""), request.POST.get("client_secret", "")
    return (client_id, secret) if client_id and secret else None


def authenticated_client(request: HttpRequest) -> Any | None:
    """The confidential application whose id and secret the request carries, else None."""
    credentials = _credentials(request)
    if credentials is None:
        return None
    application = selectors.application_by_client_id(credentials[0])
    if application is None or application.client_type != application.CLIENT_CONFIDENTIAL:
        return None
    return application if check_password(credentials[1], application.client_secret) else None


def introspection(token: str, client: Any) -> dict[str, Any]:
    access = selectors.access_of(token)
    if access is None or access.application_id != client.pk or access.expired():
        return {"active": False}
    user = active_user(access.user_id)
    if user is None or access.version != user.token_version:
        return {"active": False}
    return {
        "active": True,
        "scope": " ".join(sorted(access.scopes)),
        "client_id": client.client_id,
        "username": user.username,
        "sub": str(user.pk),
        "token_type": "Bearer",
        "exp": int(access.expires.timestamp()),
    }


@method_decorator(csrf_exempt, name="dispatch")  # a client's call, authenticated by its secret
class IntrospectView(View):
    http_method_names = ["post"]  # never GET: a token in a URL ends up in logs

    def post(self, request: HttpRequest) -> JsonResponse:
        client = authenticated_client(request)
        if client is None:
            refused = JsonResponse({"error": "invalid_client"}, status=401)
            refused["WWW-Authenticate"] = 'Basic realm="oauth"'
            return refused
        token = request.POST.get("token", "")
        if not token:
            return JsonResponse(
                {"error": "invalid_request", "error_description": "token is missing"}, status=400
            )
        response = JsonResponse(introspection(token, client))
        response["Cache-Control"] = "no-store"
        return response


class MetadataView(OAuthServerMetadataView):
    """RFC 8414 metadata from the toolkit (issuer and URLs from ``SITE_URL``), with the
    introspection endpoint's own client authentication: a secret, never ``none``."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        if "introspection_endpoint" in data:
            data["introspection_endpoint_auth_methods_supported"] = SECRET_AUTH_METHODS
        answer = JsonResponse(data)
        answer["Access-Control-Allow-Origin"] = "*"
        return answer
