"""Jobs over the API: a user's own jobs with progress and result, starting an import (a preview
first, then confirm) or an export. The same services as the pages (jobs.imports, jobs.exports,
jobs.services) and the same rules; the work runs in the background worker, so starting one
answers 202 with the job to poll."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from epigrid.core.reasons import clean_reason
from epigrid.core.scoping import perm_name
from epigrid.jobs import services
from epigrid.jobs.exports import EXPORTS, may_export_unmasked, start_export
from epigrid.jobs.imports import LEDGERS, confirm_preview, importable_areas, start_import
from epigrid.jobs.imports import NotAPreview as NotAPreviewError
from epigrid.jobs.imports import PreviewNotFinished as PreviewNotFinishedError
from epigrid.jobs.models import Job
from epigrid.jobs.serializers import ExportRequestSerializer, ImportRequestSerializer, JobSerializer


class IsAuthenticatedUser(permissions.IsAuthenticated):
    """Any signed-in user: jobs are filtered to their owner, and starting one checks the
    ledger's or list's own permission in the view."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        # Let the change log see token-authenticated users (see core.middleware).
        request._request._epigrid_api_user = request.user
        return True


class NotAPreview(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Only an import preview can be confirmed."
    default_code = "not_a_preview"


class PreviewNotFinished(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The preview has not finished successfully."
    default_code = "preview_not_finished"


def _accepted(job, context):
    """202 with the job (re-read: with inline tasks it may have run already) and its URL."""
    job.refresh_from_db()
    url = reverse("job-detail", args=[job.pk], request=context.get("request"))
    return Response(
        JobSerializer(job, context=context).data, status=status.HTTP_202_ACCEPTED, headers={"Location": url}
    )


_REFUSALS = {
    403: OpenApiResponse(description="The user may not do this (no right to the ledger or to full data)."),
    404: OpenApiResponse(description="Unknown ledger, list or job, or someone else's job."),
}


@extend_schema_view(
    list=extend_schema(description="The requesting user's own jobs (imports, exports), newest first."),
    retrieve=extend_schema(
        description="One of the user's jobs: poll it until its status is no longer queued or running.",
        responses={200: JobSerializer, 404: _REFUSALS[404]},
    ),
)
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The requesting user's own jobs; others' answer 404."""

    queryset = Job.objects.all()
    serializer_class = JobSerializer
    permission_classes = [IsAuthenticatedUser]
    filterset_fields = ["status", "kind"]

    def get_queryset(self):
        user = self.request.user
        # Like the pages: a superuser may open anyone's job, but lists only their own.
        if self.detail and user.is_superuser:
            return Job.objects.all()
        return Job.objects.filter(user=user)

    def list(self, request, *args, **kwargs):
        services.recover_stale()  # as the job list page: jobs of a dead worker are failed
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: JobSerializer, 404: _REFUSALS[404]})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel: a queued job stops at once, a running one at its next progress report;
        a finished job is left as it is."""
        job = self.get_object()
        services.cancel(job)
        job.refresh_from_db()
        return Response(self.get_serializer(job).data)

    @extend_schema(
        request=None,
        responses={
            202: JobSerializer,
            200: OpenApiResponse(
                JobSerializer, description="Already confirmed: the import job started then."
            ),
            400: OpenApiResponse(description="The job is not an import preview."),
            **_REFUSALS,
            409: OpenApiResponse(description="The preview is still running, failed or was cancelled."),
        },
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Import the rows of a finished preview (the same stored file, area and mapping).
        Confirming the same preview again answers with the import already started."""
        preview = self.get_object()
        try:
            job, created = confirm_preview(request.user, preview)
        except NotAPreviewError as exc:
            raise NotAPreview(str(exc)) from None
        except PreviewNotFinishedError as exc:
            raise PreviewNotFinished(str(exc)) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        if not created:
            return Response(self.get_serializer(job).data)
        return _accepted(job, self.get_serializer_context())

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The output file (xlsx) as an attachment."
            ),
            404: OpenApiResponse(description="No such job of the user's, or the job has no output file."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The job's output file: the error report of an import, the xlsx of an export."""
        job = self.get_object()
        if not job.output_file:
            raise NotFound(_("This job has no output file."))
        return FileResponse(
            job.output_file.open("rb"), as_attachment=True, filename=job.output_file.name.rsplit("/", 1)[-1]
        )


class ImportViewSet(viewsets.GenericViewSet):
    """Upload a ledger file for import. Routed as imports/{ledger}/."""

    queryset = Job.objects.none()  # starts jobs; reads nothing
    serializer_class = ImportRequestSerializer
    permission_classes = [IsAuthenticatedUser]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "ledger", str, OpenApiParameter.PATH, description="The ledger, e.g. residents (居民台账)."
            )
        ],
        responses={
            202: JobSerializer,
            400: OpenApiResponse(
                description="Invalid upload, mapping, or an area outside the user's import scope."
            ),
            **_REFUSALS,
        },
    )
    def create(self, request, ledger=None):
        """Check (dry_run, the default) or import a ledger file into one area. The job's result
        has the counts and row errors; confirm a preview with /jobs/{id}/confirm/."""
        if ledger not in LEDGERS:
            raise NotFound(_("Unknown ledger %(ledger)s.") % {"ledger": ledger})
        resource_class = LEDGERS[ledger][0]
        areas = importable_areas(request.user, ledger)
        if not areas.exists():
            raise PermissionDenied(_("You may not import this ledger."))
        context = {**self.get_serializer_context(), "areas": areas, "resource_class": resource_class}
        serializer = self.get_serializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = start_import(
            request.user,
            ledger,
            data["area"],
            upload=data["file"],
            dry_run=data["dry_run"],
            mapping=data.get("mapping") or None,
        )
        return _accepted(job, self.get_serializer_context())


class ExportViewSet(viewsets.GenericViewSet):
    """Export a list with its filters to xlsx. Routed as exports/{name}/."""

    queryset = Job.objects.none()  # starts jobs; reads nothing
    serializer_class = ExportRequestSerializer
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "name", str, OpenApiParameter.PATH, description="The list: persons, households or audit."
            )
        ],
        responses={
            202: JobSerializer,
            400: OpenApiResponse(description="Full data asked for without a reason."),
            **_REFUSALS,
        },
    )
    def create(self, request, name=None):
        """Export the list (masked unless `unmasked` with a reason); the job's download is the xlsx.
        Every export is in the audit log."""
        if name not in EXPORTS:
            raise NotFound(_("Unknown list %(name)s.") % {"name": name})
        if not request.user.has_scoped_perm(perm_name(EXPORTS[name].model, "view")):
            raise PermissionDenied(_("You may not see this list."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["unmasked"] and not may_export_unmasked(request.user, name):
            raise PermissionDenied(_("You may not export full personal data of this list."))
        reason = data["reason"]
        if data["unmasked"]:
            try:
                reason = clean_reason(reason)
            except DjangoValidationError:
                raise ValidationError(
                    {"reason": [_("Give the reason for exporting full personal data.")]}
                ) from None
        job = start_export(request.user, name, data["query"], unmasked=data["unmasked"], reason=reason)
        return _accepted(job, self.get_serializer_context())
