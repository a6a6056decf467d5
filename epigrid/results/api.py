"""Lab results over the API: the batch a LIS posts, the scoped list with corrections, turnaround,
a tube's persons and a person's latest result. Every write goes through results.services."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from epigrid.core import identity
from epigrid.core.api import ScopedReadOnlyModelViewSet
from epigrid.people.models import Person
from epigrid.results import services
from epigrid.results.filtersets import TubeResultFilterSet
from epigrid.results.imports import lab_choices
from epigrid.results.models import Source, TubeResult
from epigrid.results.serializers import (
    CorrectSerializer,
    PersonLatestResultSerializer,
    ResultBatchAnswerSerializer,
    ResultBatchSerializer,
    TubePersonsSerializer,
    TubeResultDetailSerializer,
    TubeResultSerializer,
    TurnaroundRowSerializer,
)
from epigrid.testing.models import Tube


def _refused(exc):
    return serializers.ValidationError(serializers.as_serializer_error(exc))


class TubeResultViewSet(ScopedReadOnlyModelViewSet):
    """Lab results (检测结果), one per tube: a lab's staff see their lab's, the command centre, streets
    and communities those of their points."""

    queryset = TubeResult.objects.all()
    serializer_class = TubeResultSerializer
    filterset_class = TubeResultFilterSet
    select_related = ("tube", "lab", "point")

    def get_serializer_class(self):
        return TubeResultDetailSerializer if self.detail else TubeResultSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.prefetch_related("corrections__corrected_by") if self.detail else qs

    @extend_schema(
        request=ResultBatchSerializer,
        responses={
            200: ResultBatchAnswerSerializer,
            400: OpenApiResponse(description="Not a batch (no lab, not a list of results, or too many)."),
            404: OpenApiResponse(description="No such lab among those the user records for."),
        },
    )
    @action(detail=False, methods=["post"], object_action="add")
    def batch(self, request):
        """Results from a lab's LIS: one outcome per row, in order — created, updated (a pending
        result made final), corrected (a contradiction with its reason), unchanged (this tube
        already has this result: nothing changed) or refused with the reason (unknown tube, tube
        not delivered to the lab, unreadable value, a contradiction without a reason). Idempotent
        per tube and result: a LIS resends a whole batch after a failure without doubling anything."""
        data = request.data if isinstance(request.data, dict) else {}
        code = identity.normalise_text(str(data.get("lab") or ""))
        if not code:
            raise serializers.ValidationError({"lab": [_("Give the lab's code.")]})
        lab = lab_choices(request.user, services.PERM_ADD).filter(code=code).first()
        if lab is None:
            raise NotFound(_("No lab %(code)s that you record results for.") % {"code": code})
        try:
            outcomes = services.record_results(request.user, lab, data.get("results"), Source.API)
        except services.BatchError as exc:
            raise _refused(exc) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return Response({"outcomes": outcomes})

    @extend_schema(request=CorrectSerializer, responses={200: TubeResultDetailSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def correct(self, request, pk=None):
        """Correct the result with a reason (audited; listed with the result)."""
        tube_result = self.get_object()
        serializer = CorrectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            services.correct_result(
                request.user,
                tube_result,
                data["result"],
                data["reason"],
                data.get("ct_orf1ab"),
                data.get("ct_n"),
                source=Source.API,
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return Response(TubeResultDetailSerializer(self.get_object()).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "by", str, enum=list(services.TURNAROUND_GROUPS), description="Group by (default campaign)."
            )
        ],
        responses={200: TurnaroundRowSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def turnaround(self, request):
        """Turnaround from sampling (the tube's first sample) to the report, against the round's
        target: per round, point or lab, counts on time and late, median and 90th percentile in
        hours. Takes the list's filters (campaign, lab, area, ...)."""
        by = request.query_params.get("by", "campaign")
        if by not in services.TURNAROUND_GROUPS:
            raise serializers.ValidationError({"by": [_("Group by campaign, point or lab.")]})
        results = self.filter_queryset(self.get_queryset())
        return Response(services.turnaround(results, by))


class TubePersonsView(APIView):
    """GET /api/v1/tubes/{barcode}/persons/"""

    # The default ScopedPermission: signed in and allowed to view persons somewhere; which
    # persons is the restricted queryset's.
    queryset = Person.objects.all()

    @extend_schema(
        responses={
            200: TubePersonsSerializer,
            404: OpenApiResponse(description="No tube with this barcode holds a person you can see."),
        },
        operation_id="tubes_persons",
    )
    def get(self, request, barcode):
        """The persons of a tube (its active samples) that the user may see, with household,
        building, grid, the grid's workers and masked phone and document — for a pooled positive,
        everyone to find, hold in place and retest."""
        tube = get_object_or_404(
            Tube.objects.select_related("lab_result"), barcode=identity.normalise_text(barcode)
        )
        persons = services.tube_persons(tube, Person.objects.restrict(request.user, "view"))
        if not persons:
            raise NotFound(_("No person you can see is in this tube."))
        result = getattr(tube, "lab_result", None)
        return Response(
            {"tube": tube.barcode, "result": result.result if result else None, "persons": persons}
        )


class PersonLatestResultView(APIView):
    """GET /api/v1/persons/{id}/latest-result/"""

    # The default ScopedPermission: signed in and allowed to view persons somewhere; which
    # persons is the restricted queryset's.
    queryset = Person.objects.all()

    @extend_schema(
        responses={
            200: PersonLatestResultSerializer,
            404: OpenApiResponse(description="Not a person you can see."),
        },
        operation_id="persons_latest_result",
    )
    def get(self, request, pk):
        """The person's latest lab result through their samples' tubes, and whether it is valid now:
        a negative holds until sampling + the active protocol's hours (48 h by default, 72 h where
        the protocol says so). A pooled positive means pending retest, never negative. `latest` is
        null when no tube of theirs has a result yet."""
        person = get_object_or_404(Person.objects.restrict(request.user, "view"), pk=pk)
        return Response(
            {
                "person": person.pk,
                "name": identity.mask_name(person.name),
                "latest": services.latest_result(person),
            }
        )
