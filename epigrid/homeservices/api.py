"""Resident services over the API: requests (POST submits: 201 created, 200 added or repeated, 200
with `warning` when an open request of the kind exists and `add_to_open` was not asked), one action
per move; the special-groups register; the day's proactive checks with `record/`. Every write goes
through homeservices.services."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service
from epigrid.homeservices import services
from epigrid.homeservices.filtersets import (
    ProactiveCheckFilterSet,
    ServiceRequestFilterSet,
    SpecialCareFilterSet,
)
from epigrid.homeservices.models import ProactiveCheck, ServiceRequest, SpecialCare
from epigrid.homeservices.serializers import (
    CheckOutcomeSerializer,
    DoneSerializer,
    ProactiveCheckSerializer,
    ServiceRequestAssignSerializer,
    ServiceRequestConfirmSerializer,
    ServiceRequestReasonSerializer,
    ServiceRequestSerializer,
    ServiceRequestSubmitSerializer,
    SpecialCareSerializer,
)

RELATED = ("area", "household__building", "person", "assignee", "confirmed_by")


class ServiceRequestViewSet(ScopedReadOnlyModelViewSet):
    """Service requests for sealed homes 居民服务: one open per household and kind."""

    queryset = ServiceRequest.objects.all()
    serializer_class = ServiceRequestSerializer
    filterset_class = ServiceRequestFilterSet
    select_related = RELATED
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _answer(self, req, code=status.HTTP_200_OK, **extra):
        fresh = ServiceRequest.objects.select_related(*RELATED).get(pk=req.pk)
        return Response({**ServiceRequestSerializer(fresh).data, **extra}, status=code)

    def _data(self, serializer_class):
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return data.validated_data

    @extend_schema(
        request=ServiceRequestSubmitSerializer, responses={201: ServiceRequestSerializer, 200: ServiceRequestSerializer}
    )
    def create(self, request, *args, **kwargs):
        values = self._data(ServiceRequestSubmitSerializer)
        result = call_service(
            services.submit,
            request.user,
            household=values["household"],
            person=values["person"],
            kind=values["kind"],
            urgency=values["urgency"],
            details=values["details"],
            description=values["description"],
            source=values["source"],
            client_id=values["client_id"],
            add_to_open=values["add_to_open"],
        )
        extra = {"outcome": result.outcome}
        if result.outcome == "open_exists":
            extra["warning"] = (
                "An open request of this kind exists for the household; send add_to_open to add to it."
            )
        code = status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK
        return self._answer(result.request, code, **extra)

    @extend_schema(request=ServiceRequestAssignSerializer, responses={200: ServiceRequestSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def assign(self, request, pk=None):
        req = self.get_object()
        if not services.may_assign(request.user, req):
            raise PermissionDenied()
        values = self._data(ServiceRequestAssignSerializer)
        return self._answer(call_service(services.assign, request.user, req, values["assignee"]))

    @extend_schema(request=None, responses={200: ServiceRequestSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def start(self, request, pk=None):
        return self._answer(call_service(services.start, request.user, self.get_object()))

    @extend_schema(request=DoneSerializer, responses={200: ServiceRequestSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def done(self, request, pk=None):
        req = self.get_object()
        values = self._data(DoneSerializer)
        return self._answer(
            call_service(services.complete, request.user, req, values["note"], values["photo"])
        )

    @extend_schema(request=ServiceRequestConfirmSerializer, responses={200: ServiceRequestSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def confirm(self, request, pk=None):
        req = self.get_object()
        values = self._data(ServiceRequestConfirmSerializer)
        return self._answer(call_service(services.confirm, request.user, req, values["how"], values["note"]))

    @extend_schema(request=ServiceRequestReasonSerializer, responses={200: ServiceRequestSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def reopen(self, request, pk=None):
        req = self.get_object()
        return self._answer(
            call_service(services.reopen, request.user, req, self._data(ServiceRequestReasonSerializer)["reason"])
        )

    @extend_schema(request=ServiceRequestReasonSerializer, responses={200: ServiceRequestSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def cancel(self, request, pk=None):
        req = self.get_object()
        return self._answer(
            call_service(services.cancel, request.user, req, self._data(ServiceRequestReasonSerializer)["reason"])
        )


class SpecialCareViewSet(ScopedModelViewSet):
    """The special-groups register 特殊人群: saved through services.register_care."""

    queryset = SpecialCare.objects.all()
    serializer_class = SpecialCareSerializer
    filterset_class = SpecialCareFilterSet
    select_related = ("area", "person")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _save_in_scope(self, serializer, action):
        values = dict(serializer.validated_data)
        person = values.pop("person", None) or serializer.instance.person
        group = values.pop("group", None) or serializer.instance.group
        serializer.instance = call_service(services.register_care, self.request.user, person, group, **values)


class ProactiveCheckViewSet(ScopedReadOnlyModelViewSet):
    """Visits and calls due to special groups while their home is sealed."""

    queryset = ProactiveCheck.objects.all()
    serializer_class = ProactiveCheckSerializer
    filterset_class = ProactiveCheckFilterSet
    select_related = ("area", "care", "done_by")

    @extend_schema(request=CheckOutcomeSerializer, responses={200: ProactiveCheckSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def record(self, request, pk=None):
        check = self.get_object()
        data = CheckOutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = call_service(
            services.record_check,
            request.user,
            check,
            data.validated_data["outcome"],
            data.validated_data["note"],
        )
        return Response(ProactiveCheckSerializer(check).data)
