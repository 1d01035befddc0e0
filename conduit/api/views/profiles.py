from typing import Any

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from conduit.api import docs
from conduit.api.presenters import profile_json
from conduit.api.views.base import AnonymousMicroCachedView, SignedInView
from conduit.profiles import selectors, services
from conduit.users.selectors import user_by_username


class ProfileView(AnonymousMicroCachedView):
    def first_read(self, request: HttpRequest, viewer_id: int, **kwargs: Any) -> list[str]:
        return selectors.profile_first_read(username=kwargs["username"], viewer_id=viewer_id)

    @extend_schema(
        operation_id="GetProfileByUsername",
        summary="Get a profile",
        tags=["Profile"],
        responses={200: docs.ProfileResponse, **docs.errors(401, 404)},
    )
    def get(self, request: Request, username: str) -> Response:
        profile = selectors.profile_get(username=username, viewer_id=self.viewer_id(request))
        return Response(profile_json(profile))


class FollowView(SignedInView):
    def first_read(self, request: HttpRequest, viewer_id: int, **kwargs: Any) -> list[str]:
        # The followee's profile by name, which the follow finds them by (``user_by_username``).
        return selectors.profile_first_read(username=kwargs["username"], viewer_id=None)

    @extend_schema(
        operation_id="FollowUserByUsername",
        summary="Follow a user",
        tags=["Profile"],
        request=None,
        responses={200: docs.ProfileResponse, **docs.errors(401, 404, 422)},
    )
    def post(self, request: Request, username: str) -> Response:
        viewer = self.signed_in(request)
        followee = user_by_username(username)
        return Response(profile_json(services.follow_add(follower=viewer, followee=followee)))

    @extend_schema(
        operation_id="UnfollowUserByUsername",
        summary="Unfollow a user",
        tags=["Profile"],
        responses={200: docs.ProfileResponse, **docs.errors(401, 404, 422)},
    )
    def delete(self, request: Request, username: str) -> Response:
        viewer = self.signed_in(request)
        followee = user_by_username(username)
        return Response(profile_json(services.follow_remove(follower=viewer, followee=followee)))
