"""Enterprises over the API: the register (CRUD, `employees/` adds a registered person by document,
`ppe/` counts stock), employees (masked; `card/` answers the card, `temperature/` records a gate
reading as measured by the caller), applications (POST starts a draft; `submit/`, `approve/`,
`check/`, `permit/`, `refuse/`), temperatures and PPE to read. Every rule is the service's: a
refusal is a 400 with its message, no right a 403, out of scope 404."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service
from epigrid.enterprises import services
from epigrid.enterprises.filtersets import (
    ApplicationFilterSet,
    EmployeeFilterSet,
    EnterpriseFilterSet,
    PPEStockFilterSet,
    TemperatureFilterSet,
    with_stage,
)
from epigrid.enterprises.models import Application, Employee, Enterprise, PPEStock, TemperatureReading
from epigrid.enterprises.serializers import (
    EnterpriseAddEmployeeSerializer,
    EnterpriseApplicationSerializer,
    EnterpriseCardSerializer,
    EnterpriseEmployeeSerializer,
    EnterpriseNoteSerializer,
    EnterprisePermitSerializer,
    EnterprisePPESerializer,
    EnterpriseReasonSerializer,
    EnterpriseSerializer,
    EnterpriseTemperatureSerializer,
)


def _data(view, serializer_class):
    data = serializer_class(data=view.request.data, context=view.get_serializer_context())
    data.is_valid(raise_exception=True)
    return data.validated_data


class EnterpriseViewSet(ScopedModelViewSet):
    """Enterprises and construction sites 企业/工地: the register by credit code; contact phone masked."""

    queryset = Enterprise.objects.all()
    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilterSet
    select_related = ("area", "phase")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return with_stage(super().get_queryset())

    def perform_update(self, serializer):
        kept = set(services.REGISTER_FIELDS) & set(self.request.data)
        if kept and not self.request.user.has_scoped_perm("enterprises.add_enterprise"):
            raise PermissionDenied(
                _("Only the community changes %(fields)s.") % {"fields": ", ".join(sorted(kept))}
            )
        super().perform_update(serializer)

    @extend_schema(request=EnterpriseAddEmployeeSerializer, responses={200: EnterpriseEmployeeSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def employees(self, request, pk=None):
        enterprise = self.get_object()
        values = _data(self, EnterpriseAddEmployeeSerializer)
        employee, created = call_service(
            services.add_employee,
            request.user,
            enterprise,
            values["doc_type"],
            values["doc_number"],
            values["department"],
        )
        return Response(
            EnterpriseEmployeeSerializer(employee).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=EnterprisePPESerializer, responses={200: EnterprisePPESerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def ppe(self, request, pk=None):
        enterprise = self.get_object()
        data = EnterprisePPESerializer(data={**request.data, "enterprise": enterprise.pk})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        row = call_service(
            services.set_ppe,
            request.user,
            enterprise,
            values["item"],
            values["stock"],
            values["daily_use"],
            values.get("unit"),
        )
        return Response(EnterprisePPESerializer(row).data)


class EmployeeViewSet(ScopedReadOnlyModelViewSet):
    """Employees on the rosters 员工名录: links to registry persons, shown masked."""

    queryset = Employee.objects.all()
    serializer_class = EnterpriseEmployeeSerializer
    filterset_class = EmployeeFilterSet
    select_related = ("person__area",)

    @extend_schema(request=EnterpriseCardSerializer, responses={200: None})
    @action(detail=True, methods=["post"], object_action="view")
    def card(self, request, pk=None):
        employee = self.get_object()
        card = call_service(
            services.fill_card, request.user, employee, _data(self, EnterpriseCardSerializer)["answers"]
        )
        return Response(
            {"protocol": card.protocol.code, "answers": card.answers, "filled_at": card.filled_at}
        )

    @extend_schema(request=EnterpriseTemperatureSerializer, responses={201: EnterpriseTemperatureSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def temperature(self, request, pk=None):
        employee = self.get_object()
        reading = call_service(
            services.record_temperature, request.user, employee, request.data.get("temperature", "")
        )
        return Response(EnterpriseTemperatureSerializer(reading).data, status=status.HTTP_201_CREATED)


class TemperatureViewSet(ScopedReadOnlyModelViewSet):
    """Gate temperatures 测温记录, each with who measured it; ≥ 37.3 ℃ flagged."""

    queryset = TemperatureReading.objects.all()
    serializer_class = EnterpriseTemperatureSerializer
    filterset_class = TemperatureFilterSet
    select_related = ("measured_by",)


class PPEStockViewSet(ScopedReadOnlyModelViewSet):
    """PPE stock 防疫物资 with days of cover."""

    queryset = PPEStock.objects.all()
    serializer_class = EnterprisePPESerializer
    filterset_class = PPEStockFilterSet
    select_related = ("enterprise",)


class ApplicationViewSet(ScopedReadOnlyModelViewSet):
    """Return-to-work applications 复工申请: draft → submitted → conditionally approved → on-site
    check passed → permit issued, or refused with a reason."""

    queryset = Application.objects.all()
    serializer_class = EnterpriseApplicationSerializer
    filterset_class = ApplicationFilterSet
    select_related = ("enterprise",)

    def _answer(self, application):
        return Response(EnterpriseApplicationSerializer(Application.objects.get(pk=application.pk)).data)

    @extend_schema(request=EnterpriseApplicationSerializer, responses={201: EnterpriseApplicationSerializer})
    def create(self, request, *args, **kwargs):
        data = EnterpriseApplicationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        enterprise = get_object_or_404(
            Enterprise.objects.restrict(request.user), pk=values.pop("enterprise").pk
        )
        application = call_service(services.start_application, request.user, enterprise, **values)
        return Response(EnterpriseApplicationSerializer(application).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: EnterpriseApplicationSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def submit(self, request, pk=None):
        return self._answer(call_service(services.submit, request.user, self.get_object()))

    @extend_schema(request=EnterpriseNoteSerializer, responses={200: EnterpriseApplicationSerializer})
    @action(detail=True, methods=["post"], object_action="review")
    def approve(self, request, pk=None):
        application = self.get_object()
        note = _data(self, EnterpriseNoteSerializer)["note"]
        return self._answer(call_service(services.approve, request.user, application, note))

    @extend_schema(request=EnterpriseNoteSerializer, responses={200: EnterpriseApplicationSerializer})
    @action(detail=True, methods=["post"], object_action="review")
    def check(self, request, pk=None):
        application = self.get_object()
        note = _data(self, EnterpriseNoteSerializer)["note"]
        return self._answer(call_service(services.pass_check, request.user, application, note))

    @extend_schema(request=EnterprisePermitSerializer, responses={200: EnterpriseApplicationSerializer})
    @action(detail=True, methods=["post"], object_action="review")
    def permit(self, request, pk=None):
        application = self.get_object()
        day = _data(self, EnterprisePermitSerializer)["permitted_from"]
        return self._answer(call_service(services.issue_permit, request.user, application, day))

    @extend_schema(request=EnterpriseReasonSerializer, responses={200: EnterpriseApplicationSerializer})
    @action(detail=True, methods=["post"], object_action="review")
    def refuse(self, request, pk=None):
        application = self.get_object()
        reason = _data(self, EnterpriseReasonSerializer)["reason"]
        return self._answer(call_service(services.refuse, request.user, application, reason))
