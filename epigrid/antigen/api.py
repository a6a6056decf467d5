"""Antigen self-tests over the API: rounds and their completion by area, kit distributions
(idempotent per household and round), reports read and received in batches (idempotent per person
and round), nucleic-acid follow-ups moved through their workflow. Writes go through antigen.services."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from epigrid.antigen import services
from epigrid.antigen.filtersets import (
    AntigenFollowUpFilterSet,
    AntigenReportFilterSet,
    AntigenRoundFilterSet,
    KitDistributionFilterSet,
)
from epigrid.antigen.models import AntigenFollowUp, AntigenReport, AntigenRound, KitDistribution
from epigrid.antigen.serializers import (
    AntigenFollowUpSerializer,
    AntigenReportSerializer,
    AntigenRoundSerializer,
    CompletionSerializer,
    FollowUpMoveSerializer,
    KitDistributionSerializer,
    ReportBatchAnswerSerializer,
    ReportBatchSerializer,
)
from epigrid.antigen.views import resolve_node
from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet
from epigrid.core.scoping import ScopeViolation

_PUBLIC = ("code", "name", "level", *services.FIGURES, "missing", "completion", "reach")


def _refused(exc):
    return serializers.ValidationError(serializers.as_serializer_error(exc))


def _public(row):
    return {k: row.get(k) for k in _PUBLIC}


class AntigenRoundViewSet(ScopedModelViewSet):
    """Antigen self-test rounds (抗原自测轮次): kits per person or household, results due by."""

    queryset = AntigenRound.objects.all()
    serializer_class = AntigenRoundSerializer
    filterset_class = AntigenRoundFilterSet
    select_related = ("area",)
    prefetch_related = ("areas",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "area", str, description="Area code; by default the round's area or the user's part of it."
            )
        ],
        responses={
            200: CompletionSerializer,
            404: OpenApiResponse(description="Area not found or not yours."),
        },
    )
    @action(detail=True, methods=["get"])
    def completion(self, request, pk=None):
        """Kits handed out and persons reported for the area and each child area: households,
        households reached, kits, persons served, reported, negative, positive, invalid, completion %."""
        rnd = self.get_object()
        node = resolve_node(request.user, rnd, request.query_params.get("area"))
        head, rows = services.completion(rnd, node)
        return Response({**_public(head), "children": [_public(r) for r in rows]})


class KitDistributionViewSet(ScopedModelViewSet):
    """Kits handed to households (发放). POSTing the same household and round again corrects its
    count (200) instead of adding a second row."""

    queryset = KitDistribution.objects.all()
    serializer_class = KitDistributionSerializer
    filterset_class = KitDistributionFilterSet
    select_related = ("area", "handed_out_by")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _hand_out(self, rnd, household, data):
        try:
            with transaction.atomic():
                return services.hand_out(
                    self.request.user, rnd, household, data["kits"], note=data.get("note", "")
                )
        except ScopeViolation as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _refused(exc) from None

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        obj, outcome = self._hand_out(data["round"], data["household"], data)
        if obj is None:
            return Response({"detail": "0 kits: nothing recorded."}, status=status.HTTP_200_OK)
        code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
        return Response(self.get_serializer(obj).data, status=code)

    def perform_update(self, serializer):
        obj = serializer.instance
        data = {
            "kits": serializer.validated_data.get("kits", obj.kits),
            "note": serializer.validated_data.get("note", ""),
        }
        serializer.instance, _outcome = self._hand_out(obj.round, obj.household, data)


class AntigenReportViewSet(ScopedReadOnlyModelViewSet):
    """Antigen self-test results (阴性/阳性/无效), one per person and round; names in full to the
    roles that see the registry, document numbers masked."""

    queryset = AntigenReport.objects.all()
    serializer_class = AntigenReportSerializer
    filterset_class = AntigenReportFilterSet
    select_related = ("person", "area")

    @extend_schema(
        request=ReportBatchSerializer,
        responses={200: ReportBatchAnswerSerializer, 400: OpenApiResponse(description="Not a batch.")},
    )
    @action(detail=False, methods=["post"], object_action="add")
    def batch(self, request):
        """Reports of a grid's self-tests: one outcome per item, in order — created, updated,
        unchanged (the same result again: nothing changed) or refused with the reason. Idempotent
        per person and round, so a client resends a batch after a network failure safely. A
        positive result opens the nucleic-acid follow-up and the key-person entry with it."""
        items = request.data.get("reports") if isinstance(request.data, dict) else None
        try:
            outcomes = services.batch_report(request.user, items)
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return Response({"outcomes": outcomes})


class AntigenFollowUpViewSet(ScopedReadOnlyModelViewSet):
    """Nucleic-acid tests to arrange after a positive self-test: open → sampled → done, or cancelled."""

    queryset = AntigenFollowUp.objects.all()
    serializer_class = AntigenFollowUpSerializer
    filterset_class = AntigenFollowUpFilterSet
    select_related = ("person", "area")

    def _move(self, request, target):
        follow = self.get_object()
        serializer = FollowUpMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            follow = services.set_follow_up(
                request.user, follow, target, serializer.validated_data.get("note", "")
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return Response(AntigenFollowUpSerializer(follow).data)

    @extend_schema(request=FollowUpMoveSerializer, responses={200: AntigenFollowUpSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def sampled(self, request, pk=None):
        """The single tube was taken."""
        return self._move(request, AntigenFollowUp.Status.SAMPLED)

    @extend_schema(request=FollowUpMoveSerializer, responses={200: AntigenFollowUpSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def done(self, request, pk=None):
        """The test is done (its result follows the testing module's way)."""
        return self._move(request, AntigenFollowUp.Status.DONE)

    @extend_schema(request=FollowUpMoveSerializer, responses={200: AntigenFollowUpSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def cancel(self, request, pk=None):
        """No longer needed, with a note saying why."""
        return self._move(request, AntigenFollowUp.Status.CANCELLED)
