from typing import Any

from django.core.files.storage import storages
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from conduit.api import docs
from conduit.api.errors import error_response
from conduit.api.views.base import ConduitView, SignedInView
from conduit.platform.exceptions import NotFound
from conduit.platform.timefmt import iso_ms
from conduit.privacy import links, selectors, services
from conduit.privacy.models import ExportRequest


class Export(docs.Base):
    status = serializers.ChoiceField(choices=ExportRequest.Status.values)
    createdAt = serializers.DateTimeField()
    finishedAt = serializers.DateTimeField(allow_null=True)
    expiresAt = serializers.DateTimeField(allow_null=True)
    downloadUrl = serializers.CharField(
        allow_null=True, help_text="Set when ready: a signed link that works without a token."
    )


class ExportResponse(docs.Base):
    export = Export()


def export_json(request: Request, export: ExportRequest) -> dict[str, Any]:
    url = None
    if export.status == ExportRequest.Status.READY:
        token = links.export_download_token(export)
        url = request.build_absolute_uri(reverse("api-export-download", args=[token]))
    return {
        "export": {
            "status": export.status,
            "createdAt": iso_ms(export.created_at),
            "finishedAt": iso_ms(export.finished_at) if export.finished_at else None,
            "expiresAt": iso_ms(export.expires_at) if export.expires_at else None,
            "downloadUrl": url,
        }
    }


class ExportView(SignedInView):
    @extend_schema(
        operation_id="GetCurrentUserExport",
        summary="Status of the latest personal-data export",
        tags=["Privacy"],
        responses={200: ExportResponse, **docs.errors(401, 404)},
    )
    def get(self, request: Request) -> Response:
        export = selectors.export_latest(user_id=self.signed_in(request).pk)
        if export is None:
            raise NotFound("export")
        return Response(export_json(request, export))

    @extend_schema(
        operation_id="RequestCurrentUserExport",
        summary="Request an export of all your data (a zip of JSON files and pictures)",
        description="While an export is pending or running, that one is returned.",
        tags=["Privacy"],
        request=None,
        responses={202: ExportResponse, **docs.errors(401)},
    )
    def post(self, request: Request) -> Response:
        export = services.export_request(user=self.signed_in(request))
        export.refresh_from_db()  # inline tasks (no broker) may have built it already
        return Response(export_json(request, export), status=status.HTTP_202_ACCEPTED)


class ExportDownloadView(ConduitView):
    # The signed link is the credential: no Authorization header needed (or checked).
    authentication_classes = []
    permission_classes = []

    @extend_schema(
        operation_id="DownloadExport",
        summary="Download an export's zip with its signed link",
        tags=["Privacy"],
        responses={
            (200, "application/zip"): OpenApiResponse(description="The zip."),
            **docs.errors(403, 410),
        },
        auth=[],
    )
    def get(self, request: Request, token: str) -> Response | FileResponse:
        try:
            export = links.export_from_token(token)
        except links.LinkInvalid as exc:
            return error_response({"link": [str(exc)]}, status.HTTP_403_FORBIDDEN)
        except links.LinkExpired as exc:
            return error_response({"link": [str(exc)]}, status.HTTP_410_GONE)
        file = storages["exports"].open(export.file_name, "rb")
        services.export_downloaded(export=export)
        response = FileResponse(
            file, as_attachment=True, filename=f"conduit-export-{export.pk}.zip"
        )
        response["Cache-Control"] = "private, no-store"
        return response
