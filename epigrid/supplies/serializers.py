"""Serializers of the supplies API. Officials appear by user name, areas by code; there is no
resident's personal data in supplies."""

from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core.api import ModelCleanMixin, ScopedSlugRelatedField
from epigrid.supplies.models import (
    Allocation,
    Donation,
    DonationLine,
    Item,
    Movement,
    Purchase,
    PurchaseFunding,
    PurchaseLine,
    Requisition,
    RequisitionLine,
    StockLevel,
    Store,
)


class SupplyItemSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")

    class Meta:
        model = Item
        fields = ["id", "code", "name", "spec", "category", "unit", "area", "is_active"]


class SupplyStoreSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    keepers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Store
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "area",
            "place_type",
            "place_id",
            "place_label",
            "keepers",
            "is_active",
        ]


class StockLevelSerializer(serializers.ModelSerializer):
    store = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    days_of_cover = serializers.DecimalField(max_digits=10, decimal_places=1, read_only=True, allow_null=True)
    below_min = serializers.BooleanField(read_only=True)
    to_order = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "store",
            "item",
            "on_hand",
            "reserved",
            "daily_use",
            "min_days",
            "max_days",
            "days_of_cover",
            "below_min",
            "to_order",
            "counted_at",
        ]
        read_only_fields = fields


class StockLevelsSerializer(serializers.Serializer):
    daily_use = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    min_days = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=0, required=False)
    max_days = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=0, required=False)


class StockMovementSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    store = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    counterpart = serializers.SlugRelatedField(slug_field="code", read_only=True)
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Movement
        fields = [
            "id",
            "at",
            "kind",
            "area",
            "store",
            "item",
            "quantity",
            "balance_after",
            "value",
            "counterpart",
            "requisition",
            "donation_line",
            "allocation",
            "purchase",
            "purchase_line",
            "by",
            "reason",
        ]
        read_only_fields = fields


class StockMoveSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["receipt", "issue", "count", "transfer"])
    store = ScopedSlugRelatedField(slug_field="code", queryset=Store.objects.all())
    item = ScopedSlugRelatedField(slug_field="code", queryset=Item.objects.all())
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    target = ScopedSlugRelatedField(
        slug_field="code", queryset=Store.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class RequisitionLineSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RequisitionLine
        fields = [
            "id",
            "item",
            "requested",
            "on_hand_then",
            "cover_then",
            "approved",
            "delivered",
            "received",
            "discrepancy_reason",
        ]
        read_only_fields = fields


class RequisitionSerializer(serializers.ModelSerializer):
    store = serializers.SlugRelatedField(slug_field="code", read_only=True)
    supplier = serializers.SlugRelatedField(slug_field="code", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True)
    delivered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    received_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lines = RequisitionLineSerializer(many=True, read_only=True)

    class Meta:
        model = Requisition
        fields = [
            "id",
            "store",
            "status",
            "priority",
            "purpose",
            "needed_by",
            "requested_by",
            "requested_at",
            "approver",
            "approved_at",
            "decision_note",
            "supplier",
            "delivered_by",
            "delivered_at",
            "carrier",
            "received_by",
            "received_at",
            "has_discrepancy",
            "lines",
        ]
        read_only_fields = fields


class RequisitionRequestLineSerializer(serializers.Serializer):
    item = ScopedSlugRelatedField(slug_field="code", queryset=Item.objects.all())
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class RequisitionRequestSerializer(serializers.Serializer):
    store = ScopedSlugRelatedField(slug_field="code", queryset=Store.objects.all())
    lines = RequisitionRequestLineSerializer(many=True)
    purpose = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    needed_by = serializers.DateField(required=False, allow_null=True, default=None)
    priority = serializers.ChoiceField(
        choices=Requisition.Priority.choices, default=Requisition.Priority.NORMAL
    )


class RequisitionLineQuantitySerializer(serializers.Serializer):
    line = serializers.IntegerField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class RequisitionApproveSerializer(serializers.Serializer):
    supplier = ScopedSlugRelatedField(slug_field="code", queryset=Store.objects.all())
    lines = RequisitionLineQuantitySerializer(many=True, required=False, default=list)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class RequisitionDeliverSerializer(serializers.Serializer):
    lines = RequisitionLineQuantitySerializer(many=True, required=False, default=list)
    carrier = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class RequisitionReceiveSerializer(serializers.Serializer):
    lines = RequisitionLineQuantitySerializer(many=True, required=False, default=list)


class SupplyReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class DonationLineSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = DonationLine
        fields = ["id", "kind", "item", "quantity", "value", "allocated", "spent"]
        read_only_fields = fields


class DonationSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    store = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lines = DonationLineSerializer(many=True, read_only=True)

    class Meta:
        model = Donation
        fields = [
            "id",
            "number",
            "donor_name",
            "donor_kind",
            "anonymous",
            "received_on",
            "area",
            "recipient_unit",
            "store",
            "directed",
            "directed_to",
            "note",
            "lines",
        ]
        read_only_fields = fields


class NewDonationLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DonationLine.Kind.choices)
    item = ScopedSlugRelatedField(
        slug_field="code", queryset=Item.objects.all(), required=False, allow_null=True
    )
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    value = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )

    def validate(self, attrs):
        if (attrs["kind"] == DonationLine.Kind.GOODS) != (attrs.get("item") is not None):
            raise serializers.ValidationError("Goods name their item; money has none.")
        return attrs


class RegisterDonationSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=32)
    donor_name = serializers.CharField(max_length=100)
    donor_kind = serializers.ChoiceField(
        choices=Donation.DonorKind.choices, default=Donation.DonorKind.ENTERPRISE
    )
    anonymous = serializers.BooleanField(default=False)
    received_on = serializers.DateField()
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all())
    recipient_unit = serializers.CharField(max_length=100)
    store = ScopedSlugRelatedField(
        slug_field="code", queryset=Store.objects.all(), required=False, allow_null=True
    )
    directed = serializers.BooleanField(default=False)
    directed_to = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    lines = NewDonationLineSerializer(many=True)


class DonationAllocationSerializer(serializers.ModelSerializer):
    donation = serializers.CharField(source="line.donation.number", read_only=True)
    recipient_store = serializers.SlugRelatedField(slug_field="code", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Allocation
        fields = [
            "id",
            "donation",
            "line",
            "quantity",
            "value",
            "recipient_name",
            "recipient_store",
            "approved_by",
            "reason",
            "at",
        ]
        read_only_fields = fields


class DonationAllocateSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    recipient_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    recipient_store = ScopedSlugRelatedField(
        slug_field="code", queryset=Store.objects.all(), required=False, allow_null=True, default=None
    )
    reason = serializers.CharField(max_length=300)


class PurchaseGoodsSerializer(serializers.Serializer):
    item = serializers.CharField(source="item.code")
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2)
    received = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class BoughtSerializer(serializers.Serializer):
    """What a money line paid for: its share of one purchase and that purchase's goods and store."""

    purchase = serializers.IntegerField(source="purchase.pk")
    status = serializers.CharField(source="purchase.status")
    supplier = serializers.CharField(source="purchase.supplier")
    purchased_on = serializers.DateField(source="purchase.purchased_on")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(source="purchase.total", max_digits=14, decimal_places=2)
    store = serializers.CharField(source="purchase.store.code")
    recipient_name = serializers.CharField(source="purchase.recipient_name")
    goods = PurchaseGoodsSerializer(source="purchase.lines.all", many=True)


class AllocationTableRowSerializer(serializers.Serializer):
    donation = serializers.CharField()
    donor = serializers.CharField()
    directed_to = serializers.CharField()
    line = serializers.IntegerField()
    kind = serializers.CharField()
    item = serializers.CharField(allow_null=True)
    unit = serializers.CharField()
    received = serializers.DecimalField(max_digits=14, decimal_places=2)
    allocated = serializers.DecimalField(max_digits=14, decimal_places=2)
    spent = serializers.DecimalField(max_digits=14, decimal_places=2)
    in_stock = serializers.DecimalField(max_digits=14, decimal_places=2)
    allocations = DonationAllocationSerializer(many=True)
    purchases = BoughtSerializer(many=True)


def table_rows(rows):
    return [
        {
            "donation": row["donation"].number,
            "donor": row["donation"].public_donor,
            "directed_to": row["donation"].directed_to,
            "line": row["line"].pk,
            "kind": row["line"].kind,
            "item": row["line"].item.code if row["line"].item_id else None,
            "unit": row["line"].unit,
            "received": row["received"],
            "allocated": row["allocated"],
            "spent": row["spent"],
            "in_stock": row["in_stock"],
            "allocations": row["allocations"],
            "purchases": row["purchases"],
        }
        for row in rows
    ]


class PurchaseLineSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = PurchaseLine
        fields = ["id", "item", "quantity", "unit_price", "amount", "received", "discrepancy_reason"]
        read_only_fields = fields


class PurchaseFundingSerializer(serializers.ModelSerializer):
    donation = serializers.CharField(source="line.donation.number", read_only=True)

    class Meta:
        model = PurchaseFunding
        fields = ["donation", "line", "amount"]
        read_only_fields = fields


class PurchaseSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    store = serializers.SlugRelatedField(slug_field="code", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True)
    received_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lines = PurchaseLineSerializer(many=True, read_only=True)
    funding = PurchaseFundingSerializer(many=True, read_only=True)

    class Meta:
        model = Purchase
        fields = [
            "id",
            "area",
            "supplier",
            "invoice",
            "purchased_on",
            "reason",
            "recipient_name",
            "store",
            "pooled",
            "total",
            "status",
            "requested_by",
            "requested_at",
            "approver",
            "approved_at",
            "decision_note",
            "received_by",
            "received_at",
            "has_discrepancy",
            "lines",
            "funding",
        ]
        read_only_fields = fields


class NewPurchaseLineSerializer(serializers.Serializer):
    item = ScopedSlugRelatedField(slug_field="code", queryset=Item.objects.all())
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class MoneyLineField(serializers.PrimaryKeyRelatedField):
    """A donation's money line by id, among the donations the user sees."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return DonationLine.objects.none()
        return DonationLine.objects.restrict(request.user, perm="supplies.view_donation").filter(
            kind=DonationLine.Kind.MONEY
        )


class NewPurchaseFundingSerializer(serializers.Serializer):
    # The declared queryset tells the schema the key's type; get_queryset narrows it per request.
    line = MoneyLineField(queryset=DonationLine.objects.all())
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class ProposePurchaseSerializer(serializers.Serializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all())
    supplier = serializers.CharField(max_length=100)
    invoice = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    purchased_on = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=300)
    store = ScopedSlugRelatedField(slug_field="code", queryset=Store.objects.all())
    recipient_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    pooled = serializers.BooleanField(default=False)
    lines = NewPurchaseLineSerializer(many=True)
    funding = NewPurchaseFundingSerializer(many=True, required=False, default=list)


class PurchaseApproveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class PurchaseReceiveSerializer(serializers.Serializer):
    lines = RequisitionLineQuantitySerializer(many=True, required=False, default=list)
