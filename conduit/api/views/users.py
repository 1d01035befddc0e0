from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from conduit.api import docs, inputs
from conduit.api.authentication import (
    PROFILE,
    PROFILE_WRITE,
    InsufficientScope,
    OAuthToken,
    token_for,
    token_in_response,
)
from conduit.api.presenters import user_json
from conduit.api.views.base import ConduitView, SignedInView
from conduit.platform.http.client_ip import client_ip
from conduit.privacy.services import account_erase
from conduit.users import services
from conduit.users.selectors import user_account


class RegistrationView(ConduitView):
    permission_classes = []

    @extend_schema(
        operation_id="CreateUser",
        summary="Register a new user",
        tags=["User and Authentication"],
        request=inputs.NewUserRequest,
        responses={201: docs.UserResponse, **docs.errors(409, 422)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = inputs.parse(inputs.NewUserRequest, request.data)
        user = services.user_register(
            username=data.get("username"), email=data.get("email"), password=data.get("password")
        )
        return Response(user_json(user, token_for(user)), status=status.HTTP_201_CREATED)


class LoginView(ConduitView):
    permission_classes = []

    @extend_schema(
        operation_id="Login",
        summary="Existing user login",
        tags=["User and Authentication"],
        request=inputs.LoginUserRequest,
        responses={200: docs.UserResponse, **docs.errors(401, 422)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = inputs.parse(inputs.LoginUserRequest, request.data)
        user = services.user_authenticate(
            email=data.get("email"), password=data.get("password"), source=client_ip(request)
        )
        return Response(user_json(user, token_for(user)))


class CurrentUserView(SignedInView):
    oauth_scopes = {"GET": PROFILE, "HEAD": PROFILE, "PUT": PROFILE_WRITE}  # no erasure

    @extend_schema(
        operation_id="GetCurrentUser",
        summary="Get current user",
        tags=["User and Authentication"],
        responses={200: docs.UserResponse, **docs.errors(401)},
    )
    def get(self, request: Request) -> Response:
        user = user_account(self.signed_in(request))  # the signed-in user holds less
        token = request.auth if isinstance(request.auth, str) else token_for(user)
        return Response(user_json(user, token))

    @extend_schema(
        operation_id="UpdateCurrentUser",
        summary="Update current user",
        tags=["User and Authentication"],
        request=inputs.UpdateUserRequest,
        responses={200: docs.UserResponse, **docs.errors(401, 409, 422)},
    )
    def put(self, request: Request) -> Response:
        data = inputs.parse(inputs.UpdateUserRequest, request.data)
        if isinstance(request.auth, OAuthToken):
            self.refuse_credential_change(request, data)
        user = services.user_update(user=self.signed_in(request), fields=set(data), **data)
        return Response(user_json(user, token_in_response(request, user)))

    def refuse_credential_change(self, request: Request, data: dict[str, Any]) -> None:
        # An app may edit the profile, never take the account over: the password and the
        # email (which resets the password) stay the user's own.
        email = data.get("email")
        if "password" in data or (
            email is not None and email != user_account(self.signed_in(request)).email
        ):
            raise InsufficientScope(
                "from an OAuth app may not change the email or password", PROFILE_WRITE
            )

    @extend_schema(
        operation_id="DeleteCurrentUser",
        summary="Erase your account and everything you made (GDPR art. 17)",
        description=(
            "Needs the current password. Deletes your articles (with their comments and "
            "favorites), comments, favorites, follows, pictures and exports; then your tokens "
            "stop working. See ADR 0020."
        ),
        tags=["User and Authentication"],
        request=inputs.EraseUserRequest,
        responses={204: None, **docs.errors(401, 422)},
    )
    def delete(self, request: Request) -> Response:
        data = inputs.parse(inputs.EraseUserRequest, request.data)
        account_erase(user=self.signed_in(request), password=data.get("password"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutEverywhereView(SignedInView):
    oauth_scopes: dict[str, frozenset[str]] = {}  # the user's own, not an app's

    @extend_schema(
        operation_id="SignOutEverywhere",
        summary="Revoke every token of the current user (beyond the RealWorld spec)",
        description=(
            "Every token issued to the user so far, this request's included, gets 401 from now "
            "on, and the user's page sessions end. Sign in again for a new token. A password "
            "change does the same, and its response carries the new token (docs/api.md)."
        ),
        tags=["User and Authentication"],
        request=None,
        responses={204: None, **docs.errors(401)},
    )
    def post(self, request: Request) -> Response:
        services.user_sign_out_everywhere(user=self.signed_in(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
