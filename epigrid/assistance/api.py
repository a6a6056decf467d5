"""Assistance requests over the API: requests (POST receives one with its persons; persons/ adds
rows) and their persons with the answers (found/, not-here/, assign/). Every write goes through
assistance.services: a refusal is a 400 with the service's message, outside the right a 403,
outside the user's scope a 404. The same answer again answers 200 and changes nothing."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from epigrid.assistance import services
from epigrid.assistance.filtersets import AssistPersonFilterSet, AssistRequestFilterSet
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.assistance.serializers import (
    AssignSerializer,
    AssistPersonSerializer,
    AssistRequestSerializer,
    FoundSerializer,
    NotHereSerializer,
    PersonRowSerializer,
)
from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service


class AssistRequestViewSet(ScopedModelViewSet):
    """Assistance requests 协查 with their deadline (24 h in province, 48 h out) and progress."""

    queryset = AssistRequest.objects.all()
    serializer_class = AssistRequestSerializer
    filterset_class = AssistRequestFilterSet
    select_related = ("area",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return services.with_progress(super().get_queryset())

    def _answer(self, request_obj, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=request_obj.pk)
        return Response(
            AssistRequestSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    def create(self, request, *args, **kwargs):
        data = AssistRequestSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        persons = values.pop("persons", [])
        created = call_service(services.receive, request.user, persons=persons, **values)
        return self._answer(created, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        data = AssistRequestSerializer(
            obj, data=request.data, partial=True, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("persons", None)
        call_service(services.update_request, request.user, obj, **values)
        return self._answer(obj)

    @extend_schema(request=PersonRowSerializer(many=True), responses={200: AssistPersonSerializer(many=True)})
    @action(detail=True, methods=["post"], object_action="view")
    def persons(self, request, pk=None):
        """Add persons to the list; a document already on it is that row, unchanged."""
        obj = self.get_object()
        rows = PersonRowSerializer(data=request.data, many=True)
        rows.is_valid(raise_exception=True)
        created, unchanged = call_service(services.add_persons, request.user, obj, rows.validated_data)
        return Response(
            AssistPersonSerializer(created + unchanged, many=True).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AssistPersonViewSet(ScopedReadOnlyModelViewSet):
    """The persons of the requests, each answered found / no such person / has left."""

    queryset = AssistPerson.objects.all()
    serializer_class = AssistPersonSerializer
    filterset_class = AssistPersonFilterSet
    select_related = ("request", "area", "answered_by")

    def _answer(self, row):
        row = AssistPerson.objects.select_related("request", "area", "answered_by").get(pk=row.pk)
        return Response(AssistPersonSerializer(row).data)

    @extend_schema(request=FoundSerializer, responses={200: AssistPersonSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def found(self, request, pk=None):
        """Found and verified: registered if new, put under the protocol's measure, 协查 cleared."""
        row = self.get_object()
        data = FoundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return self._answer(
            call_service(services.answer_found, request.user, row, area=values["area"], note=values["note"])
        )

    @extend_schema(request=NotHereSerializer, responses={200: AssistPersonSerializer})
    @action(detail=True, methods=["post"], url_path="not-here", object_action="change")
    def not_here(self, request, pk=None):
        """查无此人 (no_such_person) or 已离开 (left), with a note for the requester."""
        row = self.get_object()
        data = NotHereSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return self._answer(
            call_service(services.answer_not_here, request.user, row, values["status"], values["note"])
        )

    @extend_schema(request=AssignSerializer, responses={200: AssistPersonSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def assign(self, request, pk=None):
        """Send a pending row to the community or grid where the person is believed to be."""
        row = self.get_object()
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(call_service(services.assign, request.user, row, data.validated_data["area"]))
