"""Supplies over the API: the catalogue and stores (records), stock levels (+ `{id}/levels/`), the
ledger (GET; POST records a receipt, issue, count or transfer), requisitions (POST asks; `approve/`,
`reject/`, `deliver/`, `receive/`, `cancel/`), donations (POST registers; `{id}/allocate/`, `table/`),
allocations and purchases paid from donated money (POST proposes; `approve/`, `reject/`, `receive/`,
`cancel/`). Every move goes through supplies.services: a refusal is a 400 with the service's
message, no right a 403, out of scope a 404."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service
from epigrid.supplies import services
from epigrid.supplies.filtersets import (
    AllocationFilterSet,
    DonationFilterSet,
    DonationLineFilterSet,
    ItemFilterSet,
    MovementFilterSet,
    PurchaseFilterSet,
    RequisitionFilterSet,
    StockLevelFilterSet,
    StoreFilterSet,
)
from epigrid.supplies.models import (
    Allocation,
    Donation,
    DonationLine,
    Item,
    Movement,
    Purchase,
    Requisition,
    StockLevel,
    Store,
)
from epigrid.supplies.serializers import (
    AllocationTableRowSerializer,
    DonationAllocateSerializer,
    DonationAllocationSerializer,
    DonationSerializer,
    ProposePurchaseSerializer,
    PurchaseApproveSerializer,
    PurchaseReceiveSerializer,
    PurchaseSerializer,
    RegisterDonationSerializer,
    RequisitionApproveSerializer,
    RequisitionDeliverSerializer,
    RequisitionReceiveSerializer,
    RequisitionRequestSerializer,
    RequisitionSerializer,
    StockLevelSerializer,
    StockLevelsSerializer,
    StockMovementSerializer,
    StockMoveSerializer,
    SupplyItemSerializer,
    SupplyReasonSerializer,
    SupplyStoreSerializer,
    table_rows,
)


class _Data:
    def _data(self, serializer_class):
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return data.validated_data


class ItemViewSet(ScopedModelViewSet):
    """The catalogue: one item per specification (GB 19083 and KN95 are two)."""

    queryset = Item.objects.all()
    serializer_class = SupplyItemSerializer
    filterset_class = ItemFilterSet
    select_related = ("area",)
    http_method_names = ["get", "post", "patch", "head", "options"]


class StoreViewSet(ScopedModelViewSet):
    """Stores at posts: checkpoints, sampling points, isolation sites, communities, warehouses."""

    queryset = Store.objects.all()
    serializer_class = SupplyStoreSerializer
    filterset_class = StoreFilterSet
    select_related = ("area",)
    prefetch_related = ("keepers",)
    http_method_names = ["get", "post", "patch", "head", "options"]


class StockLevelViewSet(_Data, ScopedReadOnlyModelViewSet):
    """Stock per store and item with days of cover (on hand ÷ daily use) and the min/max in days."""

    queryset = StockLevel.objects.all()
    serializer_class = StockLevelSerializer
    filterset_class = StockLevelFilterSet
    select_related = ("store", "item")

    @extend_schema(request=StockLevelsSerializer, responses={200: StockLevelSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def levels(self, request, pk=None):
        level = self.get_object()
        values = self._data(StockLevelsSerializer)
        level = call_service(
            services.set_levels,
            request.user,
            level.store,
            level.item,
            values.get("daily_use"),
            values.get("min_days"),
            values.get("max_days"),
        )
        return Response(StockLevelSerializer(level).data)


class MovementViewSet(_Data, ScopedReadOnlyModelViewSet):
    """The one ledger: every receipt, issue, transfer, delivery, receipt, discrepancy, donation,
    allocation and count adjustment. POST records a receipt, issue, count or transfer."""

    queryset = Movement.objects.all()
    serializer_class = StockMovementSerializer
    filterset_class = MovementFilterSet
    select_related = ("area", "store", "item", "counterpart", "by")

    @extend_schema(request=StockMoveSerializer, responses={201: StockMovementSerializer, 200: None})
    def create(self, request, *args, **kwargs):
        v = self._data(StockMoveSerializer)
        user, store, item, quantity, reason = request.user, v["store"], v["item"], v["quantity"], v["reason"]
        if v["kind"] == "transfer" and v.get("target") is None:
            raise ValidationError({"target": "Name the store to transfer to."})
        calls = {
            "receipt": lambda: services.receive_stock(user, store, item, quantity, reason),
            "issue": lambda: services.issue(user, store, item, quantity, reason),
            "count": lambda: services.count(user, store, item, quantity, reason),
            "transfer": lambda: services.transfer(user, store, v["target"], item, quantity, reason),
        }
        movement = call_service(calls[v["kind"]])
        if movement is None:  # a count that agrees with the books
            return Response(status=status.HTTP_200_OK)
        return Response(StockMovementSerializer(movement).data, status=status.HTTP_201_CREATED)


def _by_line(values):
    return {row["line"]: row["quantity"] for row in values}


class RequisitionViewSet(_Data, ScopedReadOnlyModelViewSet):
    """申领: a post asks, the level above approves, a store delivers, the post receives."""

    queryset = Requisition.objects.all()
    serializer_class = RequisitionSerializer
    filterset_class = RequisitionFilterSet
    select_related = ("store", "supplier", "requested_by", "approver", "delivered_by", "received_by")
    prefetch_related = ("lines__item",)

    def _answer(self, req, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=req.pk)
        return Response(RequisitionSerializer(fresh).data, status=code)

    @extend_schema(request=RequisitionRequestSerializer, responses={201: RequisitionSerializer})
    def create(self, request, *args, **kwargs):
        v = self._data(RequisitionRequestSerializer)
        lines = [(line["item"], line["quantity"]) for line in v["lines"]]
        req = call_service(
            services.request, request.user, v["store"], lines, v["purpose"], v["needed_by"], v["priority"]
        )
        return self._answer(req, status.HTTP_201_CREATED)

    @extend_schema(request=RequisitionApproveSerializer, responses={200: RequisitionSerializer})
    @action(detail=True, methods=["post"], object_action="approve")
    def approve(self, request, pk=None):
        req = self.get_object()
        v = self._data(RequisitionApproveSerializer)
        return self._answer(
            call_service(services.approve, request.user, req, v["supplier"], _by_line(v["lines"]), v["note"])
        )

    @extend_schema(request=SupplyReasonSerializer, responses={200: RequisitionSerializer})
    @action(detail=True, methods=["post"], object_action="approve")
    def reject(self, request, pk=None):
        req = self.get_object()
        return self._answer(
            call_service(services.reject, request.user, req, self._data(SupplyReasonSerializer)["reason"])
        )

    @extend_schema(request=RequisitionDeliverSerializer, responses={200: RequisitionSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def deliver(self, request, pk=None):
        req = self.get_object()
        v = self._data(RequisitionDeliverSerializer)
        return self._answer(
            call_service(services.deliver, request.user, req, _by_line(v["lines"]), v["carrier"])
        )

    @extend_schema(request=RequisitionReceiveSerializer, responses={200: RequisitionSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def receive(self, request, pk=None):
        req = self.get_object()
        v = self._data(RequisitionReceiveSerializer)
        received = {row["line"]: (row["quantity"], row["reason"]) for row in v["lines"]}
        return self._answer(call_service(services.receive, request.user, req, received))

    @extend_schema(request=SupplyReasonSerializer, responses={200: RequisitionSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def cancel(self, request, pk=None):
        req = self.get_object()
        return self._answer(
            call_service(services.cancel, request.user, req, self._data(SupplyReasonSerializer)["reason"])
        )


class DonationViewSet(_Data, ScopedReadOnlyModelViewSet):
    """Donations of money and goods; `{id}/allocate/` with a reason; `table/` the public table."""

    queryset = Donation.objects.all()
    serializer_class = DonationSerializer
    filterset_class = DonationFilterSet
    select_related = ("area", "store")
    prefetch_related = ("lines__item",)

    @extend_schema(
        request=RegisterDonationSerializer, responses={201: DonationSerializer, 200: DonationSerializer}
    )
    def create(self, request, *args, **kwargs):
        v = self._data(RegisterDonationSerializer)
        lines = v.pop("lines")
        donation, created = call_service(services.register_donation, request.user, lines=lines, **v)
        fresh = self.get_queryset().get(pk=donation.pk)
        return Response(
            DonationSerializer(fresh).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(request=DonationAllocateSerializer, responses={201: DonationAllocationSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def allocate(self, request, pk=None):
        donation = self.get_object()
        v = self._data(DonationAllocateSerializer)
        line = get_object_or_404(DonationLine, pk=v["line"], donation=donation)
        allocation = call_service(
            services.allocate,
            request.user,
            line,
            v["quantity"],
            v["recipient_name"],
            v["reason"],
            v["recipient_store"],
        )
        return Response(DonationAllocationSerializer(allocation).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: AllocationTableRowSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def table(self, request):
        lines = DonationLine.objects.restrict(request.user, perm="supplies.view_donation")
        filterset = DonationLineFilterSet(request.GET, queryset=lines, request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return Response(
            AllocationTableRowSerializer(table_rows(services.allocation_table(filterset.qs)), many=True).data
        )


class AllocationViewSet(ScopedReadOnlyModelViewSet):
    """Allocations of donations: to whom, how much, why, approved by whom."""

    queryset = Allocation.objects.all()
    serializer_class = DonationAllocationSerializer
    filterset_class = AllocationFilterSet
    select_related = ("line__donation", "recipient_store", "approved_by")


class PurchaseViewSet(_Data, ScopedReadOnlyModelViewSet):
    """采购: goods bought with donated money. POST proposes (paid from named money lines, or
    `pooled` from the unit's undirected money); `approve/` pays, `reject/` and `cancel/` need a
    reason (cancelling a paid purchase returns its money), `receive/` brings the goods into the store."""

    queryset = Purchase.objects.all()
    serializer_class = PurchaseSerializer
    filterset_class = PurchaseFilterSet
    select_related = ("area", "store", "requested_by", "approver", "received_by")
    prefetch_related = ("lines__item", "funding__line__donation")

    def _answer(self, purchase, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=purchase.pk)
        return Response(PurchaseSerializer(fresh).data, status=code)

    @extend_schema(request=ProposePurchaseSerializer, responses={201: PurchaseSerializer})
    def create(self, request, *args, **kwargs):
        v = self._data(ProposePurchaseSerializer)
        lines = [(row["item"], row["quantity"], row["unit_price"]) for row in v.pop("lines")]
        funding = [(row["line"], row["amount"]) for row in v.pop("funding")]
        purchase = call_service(services.propose_purchase, request.user, lines=lines, funding=funding, **v)
        return self._answer(purchase, status.HTTP_201_CREATED)

    @extend_schema(request=PurchaseApproveSerializer, responses={200: PurchaseSerializer})
    @action(detail=True, methods=["post"], object_action="approve")
    def approve(self, request, pk=None):
        purchase = self.get_object()
        note = self._data(PurchaseApproveSerializer)["note"]
        return self._answer(call_service(services.approve_purchase, request.user, purchase, note))

    @extend_schema(request=SupplyReasonSerializer, responses={200: PurchaseSerializer})
    @action(detail=True, methods=["post"], object_action="approve")
    def reject(self, request, pk=None):
        purchase = self.get_object()
        reason = self._data(SupplyReasonSerializer)["reason"]
        return self._answer(call_service(services.reject_purchase, request.user, purchase, reason))

    @extend_schema(request=PurchaseReceiveSerializer, responses={200: PurchaseSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def receive(self, request, pk=None):
        purchase = self.get_object()
        v = self._data(PurchaseReceiveSerializer)
        received = {row["line"]: (row["quantity"], row["reason"]) for row in v["lines"]}
        return self._answer(call_service(services.receive_purchase, request.user, purchase, received))

    @extend_schema(request=SupplyReasonSerializer, responses={200: PurchaseSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def cancel(self, request, pk=None):
        purchase = self.get_object()
        reason = self._data(SupplyReasonSerializer)["reason"]
        return self._answer(call_service(services.cancel_purchase, request.user, purchase, reason))
