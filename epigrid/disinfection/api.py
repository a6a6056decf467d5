"""Disinfection over the API: the ledgers (teams, sites, rules, vehicles) read and written as
the pages do; rounds (+ `generate/`, `{id}/coverage/?area=CODE`), tasks (+ `{id}/complete/`,
multipart with the photo), trips (POST records one, + `{id}/hand-over/`) and terminal disinfections
(+ `plan/`, `{id}/notify/`, `record/`, `post-notice/`, `cancel/`), every write through
disinfection.services: a refusal is a 400 with the service's message, outside the right a 403,
outside the user's scope a 404."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from epigrid.areas.models import Area
from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service
from epigrid.disinfection import services
from epigrid.disinfection.filtersets import (
    RoundFilterSet,
    RuleFilterSet,
    SiteFilterSet,
    TaskFilterSet,
    TeamFilterSet,
    TerminalFilterSet,
    TripFilterSet,
    VehicleFilterSet,
)
from epigrid.disinfection.models import Round, Rule, Site, Task, Team, Terminal, Trip, Vehicle
from epigrid.disinfection.serializers import (
    CompleteSerializer,
    DisinfectionHandOverSerializer,
    DisinfectionReasonSerializer,
    DisinfectionSiteSerializer,
    DisinfectionTeamSerializer,
    GenerateSerializer,
    RoundSerializer,
    RuleSerializer,
    TaskSerializer,
    TerminalPlanSerializer,
    TerminalRecordSerializer,
    TerminalScheduleSerializer,
    TerminalSerializer,
    TripCreateSerializer,
    TripSerializer,
    VehicleSerializer,
)


def _data(view, serializer_class):
    data = serializer_class(data=view.request.data, context=view.get_serializer_context())
    data.is_valid(raise_exception=True)
    return data.validated_data


class DisinfectionTeamViewSet(ScopedModelViewSet):
    """Disinfection teams 消杀队 with their leader."""

    queryset = Team.objects.all()
    serializer_class = DisinfectionTeamSerializer
    filterset_class = TeamFilterSet
    select_related = ("area", "leader")


class DisinfectionSiteViewSet(ScopedModelViewSet):
    """Disinfection sites 消杀点位 per area node, with type and size."""

    queryset = Site.objects.all()
    serializer_class = DisinfectionSiteSerializer
    filterset_class = SiteFilterSet
    select_related = ("area",)


class DisinfectionRuleViewSet(ScopedModelViewSet):
    """Rules: site type × zone level × times a day."""

    queryset = Rule.objects.all()
    serializer_class = RuleSerializer
    filterset_class = RuleFilterSet
    select_related = ("area",)


class DisinfectionVehicleViewSet(ScopedModelViewSet):
    """Spray, road-cleaning, medical-waste and garbage vehicles."""

    queryset = Vehicle.objects.all()
    serializer_class = VehicleSerializer
    filterset_class = VehicleFilterSet
    select_related = ("area",)


class DisinfectionRoundViewSet(ScopedReadOnlyModelViewSet):
    """Rounds generated from the rules; `generate/` runs the generation (idempotent)."""

    queryset = Round.objects.all()
    serializer_class = RoundSerializer
    filterset_class = RoundFilterSet
    select_related = ("area",)

    @extend_schema(request=GenerateSerializer, responses={200: RoundSerializer(many=True)})
    @action(detail=False, methods=["post"], object_action="add")
    def generate(self, request):
        values = _data(self, GenerateSerializer)
        rounds, created = call_service(services.generate_rounds, request.user, values["area"], values["date"])
        return Response({"created_tasks": created, "rounds": RoundSerializer(rounds, many=True).data})

    @extend_schema(
        parameters=[OpenApiParameter("area", str, description="an area code inside the round's area")]
    )
    @action(detail=True, methods=["get"])
    def coverage(self, request, pk=None):
        rnd = self.get_object()
        root = rnd.area
        if request.query_params.get("area"):
            root = get_object_or_404(
                Area.objects.filter(path__startswith=rnd.area.path), code=request.query_params["area"]
            )
        rows, total = services.coverage(request.user, [rnd.pk], root)

        def row(r):
            return {
                "area": r["area"].code,
                "name": r["area"].name,
                "due": r["due"],
                "done": r["done"],
                "pct": r["pct"],
            }

        return Response({"round": rnd.pk, "total": row(total), "areas": [row(r) for r in rows]})


class DisinfectionTaskViewSet(ScopedReadOnlyModelViewSet):
    """A site due in a round; `complete/` records it done with the photo (multipart)."""

    queryset = Task.objects.all()
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    select_related = ("area", "site", "operator")
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=CompleteSerializer, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def complete(self, request, pk=None):
        task = self.get_object()
        task = call_service(services.complete, request.user, task, **_data(self, CompleteSerializer))
        return Response(TaskSerializer(task).data)


class DisinfectionTripViewSet(ScopedReadOnlyModelViewSet):
    """Vehicle trips with tonnage; POST records one, `hand-over/` records the handover."""

    queryset = Trip.objects.all()
    serializer_class = TripSerializer
    filterset_class = TripFilterSet
    select_related = ("area", "handed_by")

    @extend_schema(request=TripCreateSerializer, responses={201: TripSerializer})
    def create(self, request, *args, **kwargs):
        values = _data(self, TripCreateSerializer)
        vehicle = values.pop("vehicle")
        trip = call_service(services.record_trip, request.user, vehicle, **values)
        return Response(TripSerializer(trip).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DisinfectionHandOverSerializer, responses={200: TripSerializer})
    @action(detail=True, methods=["post"], url_path="hand-over", object_action="change")
    def hand_over(self, request, pk=None):
        trip = self.get_object()
        return Response(
            TripSerializer(
                call_service(
                    services.hand_over, request.user, trip, **_data(self, DisinfectionHandOverSerializer)
                )
            ).data
        )


class DisinfectionTerminalViewSet(ScopedReadOnlyModelViewSet):
    """Terminal disinfection 终末消毒 of a case's addresses with the residents' notices."""

    queryset = Terminal.objects.all()
    serializer_class = TerminalSerializer
    filterset_class = TerminalFilterSet
    select_related = ("area", "notified_by", "operator", "posted_by")

    @extend_schema(request=TerminalPlanSerializer, responses={200: TerminalSerializer(many=True)})
    @action(detail=False, methods=["post"], object_action="add")
    def plan(self, request):
        values = _data(self, TerminalPlanSerializer)
        terminals, created = call_service(
            services.plan_terminal, request.user, values["case"], team=values.get("team")
        )
        return Response(
            {"created": len(created), "terminals": TerminalSerializer(terminals, many=True).data},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def _step(self, fn, **kwargs):
        return Response(
            TerminalSerializer(call_service(fn, self.request.user, self.get_object(), **kwargs)).data
        )

    @extend_schema(request=TerminalScheduleSerializer, responses={200: TerminalSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def schedule(self, request, pk=None):
        return self._step(services.schedule_terminal, **_data(self, TerminalScheduleSerializer))

    @extend_schema(request=None, responses={200: TerminalSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def notify(self, request, pk=None):
        return self._step(services.notify)

    @extend_schema(request=TerminalRecordSerializer, responses={200: TerminalSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def record(self, request, pk=None):
        return self._step(services.record_terminal, **_data(self, TerminalRecordSerializer))

    @extend_schema(request=None, responses={200: TerminalSerializer})
    @action(detail=True, methods=["post"], url_path="post-notice", object_action="change")
    def post_notice(self, request, pk=None):
        return self._step(services.post_notice)

    @extend_schema(request=DisinfectionReasonSerializer, responses={200: TerminalSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def cancel(self, request, pk=None):
        return self._step(services.cancel_terminal, note=_data(self, DisinfectionReasonSerializer)["note"])
