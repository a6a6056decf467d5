"""Checkpoints over the API: checkpoints and shifts (kept by the command centre and streets), vehicle
checks, passages (read; `batch/` records the gate's queue, idempotent by client id), `assess/` on a
checkpoint (what the system knows of a scanned person, with the suggestion), `stats/` per
checkpoint and day, and `receive/` on a passage handed to a community. Persons by id and name only."""

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_date
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from epigrid.checkpoints import services, stats
from epigrid.checkpoints.filtersets import (
    CheckpointFilterSet,
    PassageFilterSet,
    ShiftFilterSet,
    VehicleFilterSet,
)
from epigrid.checkpoints.models import Checkpoint, Passage, Shift, VehicleCheck
from epigrid.checkpoints.serializers import (
    AssessmentSerializer,
    AssessQuerySerializer,
    CheckpointSerializer,
    PassageBatchSerializer,
    PassageOutcomeSerializer,
    PassageSerializer,
    ShiftSerializer,
    StatsRowSerializer,
    VehicleCheckSerializer,
)
from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service


class CheckpointViewSet(ScopedModelViewSet):
    queryset = Checkpoint.objects.all()
    serializer_class = CheckpointSerializer
    filterset_class = CheckpointFilterSet
    select_related = ("area",)
    prefetch_related = ("staff",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(parameters=[AssessQuerySerializer], responses={200: AssessmentSerializer})
    @action(detail=True, methods=["get"], object_action="view")
    def assess(self, request, pk=None):
        """What the system knows of a scanned person at this checkpoint, and the suggested decision."""
        checkpoint = self.get_object()
        if not services.postable_checkpoints(request.user, [checkpoint.pk]):
            raise PermissionDenied()
        query = AssessQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        person = call_service(services.find_person, request.user, data["q"])
        found = services.assess(
            person,
            checkpoint,
            data["direction"],
            origin_risk=data["origin_risk"],
            health_code=data["health_code"],
            temperature=data.get("temperature"),
        )
        return Response(
            {
                "person": services.person_summary(person, found),
                "registered": person is not None,
                "suggested": found.suggested,
                "findings": found.findings,
            }
        )


class ShiftViewSet(ScopedModelViewSet):
    queryset = Shift.objects.all()
    serializer_class = ShiftSerializer
    filterset_class = ShiftFilterSet
    prefetch_related = ("staff",)
    http_method_names = ["get", "post", "patch", "head", "options"]


class VehicleCheckViewSet(ScopedReadOnlyModelViewSet):
    queryset = VehicleCheck.objects.all()
    serializer_class = VehicleCheckSerializer
    filterset_class = VehicleFilterSet


class PassageViewSet(ScopedReadOnlyModelViewSet):
    queryset = Passage.objects.all()
    serializer_class = PassageSerializer
    filterset_class = PassageFilterSet
    select_related = ("person", "destination", "handed_to", "vehicle")

    @extend_schema(request=PassageBatchSerializer, responses={200: PassageOutcomeSerializer(many=True)})
    @action(detail=False, methods=["post"], object_action="add")
    def batch(self, request):
        """Record the gate's queue: one outcome per scan, in order; a client id seen before is a
        duplicate and changes nothing."""
        body = PassageBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(call_service(services.record, request.user, body.validated_data["scans"]))

    @extend_schema(request=None, responses={200: PassageSerializer})
    @action(detail=False, methods=["post"], url_path=r"(?P<passage_id>\d+)/receive", object_action="view")
    def receive(self, request, passage_id=None):
        """The destination community has the arrival in hand (again: no change)."""
        passage = (
            Passage.objects.filter(pk=passage_id, handed_to__isnull=False).select_related("handed_to").first()
        )
        if passage is None or not services.may_receive(request.user, passage):
            raise NotFound()
        passage = call_service(services.receive, request.user, passage)
        return Response(PassageSerializer(passage).data)

    @extend_schema(responses={200: StatsRowSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def stats(self, request):
        """Per checkpoint and day (the list's filters apply): vehicles, persons, refusals, sent to
        testing or isolation, handed to communities, arrivals by origin risk."""
        passages = self.filter_queryset(self.get_queryset())
        vehicles = VehicleCheck.objects.restrict(request.user, "view").filter(
            checkpoint__in=passages.values("checkpoint_id")
        )
        day = parse_date(request.query_params.get("day") or "")
        if day:
            vehicles = vehicles.filter(at__date=day)
            start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        else:
            start = timezone.now() - datetime.timedelta(days=7)
        end = (start + datetime.timedelta(days=1)) if day else timezone.now() + datetime.timedelta(minutes=1)
        scans = stats.pass_scans(Checkpoint.objects.restrict(request.user, "view"), start, end)
        return Response(StatsRowSerializer(stats.daily(passages, vehicles, scans), many=True).data)
