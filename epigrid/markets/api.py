"""Shops and markets over the API: outlets (search before create), the catalogue (read), baselines
(a typed price or the mean of a reference period), price alerts (read; `handle/`), `trend/`, the
shop staff ledger (POST finds the person by document), inspections (POST may close the outlet),
closures (`reinspect/`), the wildlife ledger. Every rule is the service's: a refusal is a 400 with
its message, no right a 403, out of scope 404."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from epigrid.areas.models import Area
from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service
from epigrid.markets import services
from epigrid.markets.filtersets import (
    BaselineFilterSet,
    ClosureFilterSet,
    InspectionFilterSet,
    OutletFilterSet,
    PriceAlertFilterSet,
    ShopStaffFilterSet,
    WildlifeCheckFilterSet,
)
from epigrid.markets.models import (
    Baseline,
    Closure,
    Commodity,
    Inspection,
    Outlet,
    PriceAlert,
    ShopStaff,
    WildlifeCheck,
)
from epigrid.markets.serializers import (
    BaselineSerializer,
    ClosureSerializer,
    CommoditySerializer,
    HandleSerializer,
    InspectionSerializer,
    OutletSerializer,
    PriceAlertSerializer,
    ReinspectSerializer,
    ShopStaffSerializer,
    TrendQuerySerializer,
    WildlifeCheckSerializer,
)


class CommodityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The catalogue of the daily report's items with their alert thresholds (the same everywhere)."""

    queryset = Commodity.objects.filter(active=True)
    serializer_class = CommoditySerializer
    lookup_field = "code"


class OutletViewSet(ScopedModelViewSet):
    """Monitored outlets; phones masked. POST: the same name in the same area answers that outlet (200)."""

    queryset = Outlet.objects.all()
    serializer_class = OutletSerializer
    filterset_class = OutletFilterSet
    select_related = ("area",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        outlet, created = call_service(services.save_outlet, request.user, **data.validated_data)
        return Response(
            OutletSerializer(outlet, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def partial_update(self, request, *args, **kwargs):
        outlet = self.get_object()
        data = self.get_serializer(outlet, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        outlet, _created = call_service(services.save_outlet, request.user, outlet, **data.validated_data)
        return Response(OutletSerializer(outlet, context=self.get_serializer_context()).data)


class BaselineViewSet(ScopedModelViewSet):
    """Baseline prices per item and area. POST sets (or replaces) the item's baseline in the area."""

    queryset = Baseline.objects.all()
    serializer_class = BaselineSerializer
    filterset_class = BaselineFilterSet
    select_related = ("area", "commodity")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        row = call_service(
            services.set_baseline,
            request.user,
            v["commodity"],
            v["area"],
            price=v.get("price"),
            period_from=v.get("period_from"),
            period_to=v.get("period_to"),
            note=v.get("note", ""),
        )
        return Response(
            BaselineSerializer(row, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request, *args, **kwargs):
        row = self.get_object()
        data = self.get_serializer(row, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = {
            "price": row.price,
            "period_from": row.period_from,
            "period_to": row.period_to,
            "note": row.note,
            **data.validated_data,
        }
        row = call_service(
            services.set_baseline,
            request.user,
            row.commodity,
            row.area,
            price=v["price"],
            period_from=v["period_from"],
            period_to=v["period_to"],
            note=v["note"],
        )
        return Response(BaselineSerializer(row, context=self.get_serializer_context()).data)


class PriceAlertViewSet(ScopedReadOnlyModelViewSet):
    """Alerts the daily reports raised: spikes against yesterday or the baseline, short stock."""

    queryset = PriceAlert.objects.all()
    serializer_class = PriceAlertSerializer
    filterset_class = PriceAlertFilterSet
    select_related = ("outlet", "commodity")

    @extend_schema(request=HandleSerializer, responses={200: PriceAlertSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def handle(self, request, pk=None):
        alert = self.get_object()
        data = HandleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = call_service(services.handle_alert, request.user, alert, data.validated_data["action_taken"])
        return Response(PriceAlertSerializer(alert).data)

    @extend_schema(parameters=[TrendQuerySerializer])
    @action(detail=False, methods=["get"], object_action="view")
    def trend(self, request):
        """Per day: mean, lowest and highest price of an item over the outlets in scope (in `area`)."""
        query = TrendQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        outlets = Outlet.objects.restrict(request.user, "view")
        if query.validated_data.get("area"):
            area = get_object_or_404(
                Area.objects.restrict(request.user, "view"), code=query.validated_data["area"]
            )
            outlets = outlets.filter(area__path__startswith=area.path)
        points = services.price_trend(
            outlets, query.validated_data["item"], days=query.validated_data["days"]
        )
        return Response(
            [
                {"day": d, "mean": str(m), "low": str(lo), "high": str(hi), "outlets": n}
                for d, m, lo, hi, n in points
            ]
        )


class ShopStaffViewSet(ScopedModelViewSet):
    """The shop staff ledger: persons of the registry at an outlet, documents and phones masked."""

    queryset = ShopStaff.objects.all()
    serializer_class = ShopStaffSerializer
    filterset_class = ShopStaffFilterSet
    select_related = ("outlet", "person")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        outlet = v.pop("outlet")
        doc_type, doc_number = v.pop("doc_type", "111"), v.pop("doc_number", "")
        row, created = call_service(services.add_staff, request.user, outlet, doc_type, doc_number, **v)
        return Response(
            ShopStaffSerializer(row, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def perform_update(self, serializer):
        for name in ("outlet", "doc_type", "doc_number"):
            serializer.validated_data.pop(name, None)
        super().perform_update(serializer)


class InspectionViewSet(ScopedModelViewSet):
    """Inspections; POST records one (result "closed" closes the outlet until re-inspected)."""

    queryset = Inspection.objects.all()
    serializer_class = InspectionSerializer
    filterset_class = InspectionFilterSet
    select_related = ("outlet",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        row = call_service(
            services.record_inspection, request.user, v.pop("outlet"), v.pop("result", "compliant"), **v
        )
        return Response(InspectionSerializer(row).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        for name in ("outlet", "result", "reinspect_due"):
            serializer.validated_data.pop(name, None)
        super().perform_update(serializer)


class ClosureViewSet(ScopedReadOnlyModelViewSet):
    """Closures of live-poultry points; POST closes an outlet, `reinspect/` reopens or keeps it closed."""

    queryset = Closure.objects.all()
    serializer_class = ClosureSerializer
    filterset_class = ClosureFilterSet
    select_related = ("outlet",)
    http_method_names = ["get", "post", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = ClosureSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        v = data.validated_data
        row = call_service(
            services.close_outlet,
            request.user,
            v["outlet"],
            v["reason"],
            closed_on=v.get("closed_on"),
            reinspect_due=v.get("reinspect_due"),
        )
        return Response(ClosureSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReinspectSerializer, responses={200: ClosureSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def reinspect(self, request, pk=None):
        closure = self.get_object()
        data = ReinspectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        closure = call_service(services.reinspect, request.user, closure, **data.validated_data)
        return Response(ClosureSerializer(closure).data)


class WildlifeCheckViewSet(ScopedModelViewSet):
    """The wildlife ledger: site, species, count, check date, checker."""

    queryset = WildlifeCheck.objects.all()
    serializer_class = WildlifeCheckSerializer
    filterset_class = WildlifeCheckFilterSet
    select_related = ("area",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        row, created = call_service(services.record_wildlife, request.user, **data.validated_data)
        return Response(
            WildlifeCheckSerializer(row, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
