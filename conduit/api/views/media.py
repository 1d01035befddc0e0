from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from conduit.api import docs
from conduit.api.authentication import PROFILE_WRITE, token_in_response
from conduit.api.errors import error_response
from conduit.api.presenters import user_json
from conduit.api.views.base import SignedInView
from conduit.media import limits, services
from conduit.platform.exceptions import InvalidInput
from conduit.users.selectors import user_account

_UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {
        "image": {
            "type": "string",
            "format": "binary",
            "description": "A JPEG, PNG, WebP or GIF (first frame); see AVATAR_MAX_BYTES and "
            "AVATAR_MAX_PIXELS.",
        }
    },
    "required": ["image"],
}


class AvatarView(SignedInView):
    oauth_scopes = {"PUT": PROFILE_WRITE, "DELETE": PROFILE_WRITE}
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="UploadCurrentUserImage",
        summary="Upload a profile picture",
        description=(
            "Multipart upload of the `image` file. The profile's `image` becomes the picture's "
            "URL at once (the cleaned original), then the 256 px thumbnail's once a task made it."
        ),
        tags=["User and Authentication"],
        request=OpenApiRequest({"multipart/form-data": _UPLOAD_SCHEMA}),
        responses={200: docs.UserResponse, **docs.errors(401, 413, 415, 422)},
    )
    def put(self, request: Request) -> Response:
        if limits.upload_too_large(request.META.get("CONTENT_LENGTH")):
            # Refused before reading the body: a huge upload costs neither disk nor memory.
            return error_response({"image": [limits.too_large_message()]}, 413)
        try:
            upload = request.FILES.get("image")
        except ParseError:
            raise InvalidInput.field("image", "must be a multipart/form-data file field") from None
        if upload is None:
            raise InvalidInput.field("image", "can't be blank")
        user = user_account(self.signed_in(request))  # the signed-in user holds less
        services.avatar_upload(user=user, data=upload, size=upload.size or 0)
        return Response(user_json(user, token_in_response(request, user)))

    @extend_schema(
        operation_id="DeleteCurrentUserImage",
        summary="Remove the uploaded profile picture",
        tags=["User and Authentication"],
        request=None,
        responses={200: docs.UserResponse, **docs.errors(401)},
    )
    def delete(self, request: Request) -> Response:
        user = user_account(self.signed_in(request))  # the signed-in user holds less
        services.avatar_remove(user=user)
        return Response(user_json(user, token_in_response(request, user)))
