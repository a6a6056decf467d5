"""Mass testing over the API: rounds and their coverage, points and desks, tubes, samples and the
batch ingest the desks sync through. Every write goes through testing.services."""

import contextlib
import threading

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from epigrid.core import admission, identity
from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet
from epigrid.core.scoping import ScopeViolation, check_in_scope
from epigrid.people import codes
from epigrid.testing import services
from epigrid.testing.coverage_views import resolve_node
from epigrid.testing.filtersets import CampaignFilterSet, SamplingPointFilterSet, TubeFilterSet
from epigrid.testing.models import Campaign, Find, Sample, SamplingPoint, Tube
from epigrid.testing.serializers import (
    BatchAnswerSerializer,
    BatchSerializer,
    CampaignSerializer,
    CoverageSerializer,
    FindSerializer,
    GroupAnswerSerializer,
    MoveSampleSerializer,
    SampleSerializer,
    SamplingPointSerializer,
    TubeActionSerializer,
    TubeDetailSerializer,
    TubeSerializer,
)

# A desk sends each scan as it is made (one, or the few queued while it waited); a phone back
# online sends its whole queue. Big batches take one of a few slots per process, so a desk's
# live scan never waits behind a crowd of syncs (the server's threads outnumber the slots).
LIVE_SCANS = 5
_BULK_SLOTS = threading.BoundedSemaphore(settings.EPIGRID_INGEST_BULK_SLOTS)


def _refused(exc):
    return serializers.ValidationError(serializers.as_serializer_error(exc))


class CampaignViewSet(ScopedModelViewSet):
    """Testing rounds (轮次). A new round copies the points and desks of the organiser's last one."""

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet
    select_related = ("area",)
    prefetch_related = ("areas",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            with transaction.atomic():
                serializer.instance = services.create_campaign(self.request.user, **data)
                check_in_scope(self.request.user, serializer.instance, "add")
        except ScopeViolation as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _refused(exc) from None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "area",
                str,
                description="Area code; by default the round's area, or the user's own part of it.",
            )
        ],
        responses={200: CoverageSerializer, 404: OpenApiResponse(description="Area not found or not yours.")},
    )
    @action(detail=True, methods=["get"])
    def coverage(self, request, pk=None):
        """Coverage live from the registry and the samples: for the area and each child area,
        expected (residents minus exemptions), sampled, exempt, missed and coverage %."""
        campaign = self.get_object()
        # The page's rule: an area inside the user's coverage scope and related to the round.
        node = resolve_node(request.user, campaign, request.query_params.get("area"))
        head, rows = services.coverage(campaign, node)
        return Response({**_public(head), "children": [_public(r) for r in rows]})

    @extend_schema(responses={200: GroupAnswerSerializer, 404: OpenApiResponse(description="No such group.")})
    @action(detail=True, methods=["get"], url_path=r"groups/(?P<code>[^/]+)")
    def group(self, request, pk=None, code=None):
        """A pre-formed group's members for the desk: each member's personal code (sent as the
        scan's `qr`, one scan and client id per member) with a masked name to confirm."""
        campaign = self.get_object()
        try:
            persons = services.group_members(campaign, code, user=request.user)
        except DjangoValidationError as exc:
            raise NotFound(exc.messages[0]) from None
        members = [
            {"qr": codes.make_code(p), "name": identity.mask_name(p.name), "birth_year": p.birth_year}
            for p in persons
        ]
        return Response({"code": identity.normalise_text(code), "members": members})


def _public(row):
    return {
        k: row[k]
        for k in ("code", "name", "level", "residents", "expected", "sampled", "exempt", "missed", "coverage")
    }


class SamplingPointViewSet(ScopedReadOnlyModelViewSet):
    """Sampling points (采样点) with their desks; a sampler sees only the points they staff."""

    queryset = SamplingPoint.objects.all()
    serializer_class = SamplingPointSerializer
    filterset_class = SamplingPointFilterSet
    select_related = ("area",)
    prefetch_related = ("desks", "staff")


class TubeViewSet(ScopedReadOnlyModelViewSet):
    """Tubes with their samples; closing early, reopening and sealing by hand."""

    queryset = Tube.objects.all()
    serializer_class = TubeSerializer
    filterset_class = TubeFilterSet
    select_related = ("point", "desk")
    lookup_field = "barcode"

    def get_serializer_class(self):
        return TubeDetailSerializer if self.detail else TubeSerializer

    def _move(self, request, target):
        tube = self.get_object()
        serializer = TubeActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            tube = services.set_tube_status(
                request.user, tube, target, serializer.validated_data.get("note", "")
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return Response(TubeDetailSerializer(tube).data)

    @extend_schema(request=TubeActionSerializer, responses={200: TubeDetailSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def close(self, request, barcode=None):
        """Close the tube before it is full."""
        return self._move(request, Tube.Status.CLOSED)

    @extend_schema(request=TubeActionSerializer, responses={200: TubeDetailSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def reopen(self, request, barcode=None):
        """Reopen a tube closed early by mistake (not a full or sealed one)."""
        return self._move(request, Tube.Status.OPEN)

    @extend_schema(request=TubeActionSerializer, responses={200: TubeDetailSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def seal(self, request, barcode=None):
        """Seal the tube for transport."""
        return self._move(request, Tube.Status.SEALED)


class SampleViewSet(ScopedReadOnlyModelViewSet):
    """Samples: read, moved between tubes with a reason, and received in batches from the desks."""

    queryset = Sample.objects.all()
    serializer_class = SampleSerializer
    select_related = ("person", "find")

    @extend_schema(
        request=BatchSerializer,
        responses={
            200: BatchAnswerSerializer,
            400: OpenApiResponse(description="Not a batch (not a list of scans, or too many)."),
        },
    )
    @action(detail=False, methods=["post"], object_action="add")
    def batch(self, request):
        """Scans from a desk, as queued on the phone: one outcome per scan, in order —
        accepted, duplicate (this client_id arrived before: nothing changed) or refused with the
        reason. Idempotent per client_id, so a desk resends its whole queue after a network
        failure without losing or doubling a sample."""
        scans = request.data.get("scans") if isinstance(request.data, dict) else None
        try:
            bulk = isinstance(scans, list) and len(scans) > LIVE_SCANS
            # Waiting for the slot gives the request's place to others (core.admission).
            with admission.waiting_for(_BULK_SLOTS) if bulk else contextlib.nullcontext():
                outcomes = services.ingest(request.user, scans)
        except services.BatchError as exc:
            raise _refused(exc) from None
        return Response({"outcomes": outcomes})

    @extend_schema(request=MoveSampleSerializer, responses={200: SampleSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def move(self, request, pk=None):
        """Move the sample into another open tube of the round, with a reason (audited)."""
        sample = self.get_object()
        serializer = MoveSampleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tube = (
            Tube.objects.restrict(request.user, "view")
            .filter(barcode=serializer.validated_data["tube"])
            .first()
        )
        if tube is None:
            raise serializers.ValidationError({"tube": [_("No such tube at your points.")]})
        try:
            moved = services.move_sample(request.user, sample, tube, serializer.validated_data["reason"])
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return Response(SampleSerializer(moved).data, status=status.HTTP_200_OK)


class FindViewSet(ScopedReadOnlyModelViewSet):
    """Persons sampled who are not in the registry, for their grid to register or reject."""

    queryset = Find.objects.all()
    serializer_class = FindSerializer
    select_related = ("area",)
