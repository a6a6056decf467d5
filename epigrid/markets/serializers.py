"""Serializers of the shops-and-markets API. Phones and document numbers are always masked in
answers: the full number goes through the outlet page's reveal (with a reason, audited)."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core import identity
from epigrid.core.api import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
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
from epigrid.people.models import DocumentType


def _area_field():
    return ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")


class CommoditySerializer(serializers.ModelSerializer):
    class Meta:
        model = Commodity
        fields = ["code", "name", "name_en", "unit", "spike_percent", "short_stock_days", "order", "active"]


class OutletSerializer(serializers.ModelSerializer):
    area = _area_field()
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, write_only=True)
    masked_phone = serializers.CharField(read_only=True)

    class Meta:
        model = Outlet
        fields = [
            "id",
            "name",
            "kind",
            "area",
            "address",
            "operator",
            "contact",
            "phone",
            "masked_phone",
            "monitored",
            "is_open",
            "notes",
        ]
        read_only_fields = ["is_open"]
        validators = []  # search before create is the service's

    def validate_phone(self, value):
        try:
            return identity.normalise_phone(value) if value else ""
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class BaselineSerializer(serializers.ModelSerializer):
    area = _area_field()
    commodity = serializers.SlugRelatedField(slug_field="code", queryset=Commodity.objects.all())
    price = serializers.DecimalField(
        max_digits=9, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )

    class Meta:
        model = Baseline
        fields = ["id", "commodity", "area", "price", "period_from", "period_to", "note"]
        validators = []


class PriceAlertSerializer(serializers.ModelSerializer):
    outlet_name = serializers.CharField(source="outlet.name", read_only=True)
    commodity = serializers.CharField(source="commodity.code", read_only=True)

    class Meta:
        model = PriceAlert
        fields = [
            "id",
            "outlet",
            "outlet_name",
            "commodity",
            "day",
            "kind",
            "value",
            "reference",
            "change_pct",
            "status",
            "handled_at",
            "action_taken",
        ]
        read_only_fields = fields


class HandleSerializer(serializers.Serializer):
    action_taken = serializers.CharField(max_length=300)


class ShopStaffSerializer(serializers.ModelSerializer):
    outlet = ScopedPrimaryKeyRelatedField(queryset=Outlet.objects.all())
    name = serializers.CharField(source="person.name", read_only=True)
    masked_doc_number = serializers.CharField(source="person.masked_doc_number", read_only=True)
    masked_phone = serializers.CharField(source="person.masked_phone", read_only=True)
    doc_type = serializers.ChoiceField(choices=DocumentType.choices, write_only=True, required=False)
    doc_number = serializers.CharField(max_length=40, write_only=True, required=False)

    class Meta:
        model = ShopStaff
        fields = [
            "id",
            "outlet",
            "name",
            "masked_doc_number",
            "masked_phone",
            "doc_type",
            "doc_number",
            "position",
            "health",
            "last_contact_on",
            "active",
            "notes",
        ]
        validators = []


class InspectionSerializer(serializers.ModelSerializer):
    outlet = ScopedPrimaryKeyRelatedField(queryset=Outlet.objects.all())
    reinspect_due = serializers.DateField(write_only=True, required=False, allow_null=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "outlet",
            "inspected_on",
            "inspector",
            "distancing_ok",
            "masks_ok",
            "disinfection_ok",
            "result",
            "findings",
            "reinspect_due",
        ]
        read_only_fields = ["inspector"]


class ClosureSerializer(serializers.ModelSerializer):
    outlet = ScopedPrimaryKeyRelatedField(queryset=Outlet.objects.all())

    class Meta:
        model = Closure
        fields = [
            "id",
            "outlet",
            "status",
            "reason",
            "closed_on",
            "reinspect_due",
            "reinspected_on",
            "reinspection_findings",
            "decision_reason",
            "reinspections",
            "reopened_on",
        ]
        read_only_fields = [
            "status",
            "reinspected_on",
            "reinspection_findings",
            "decision_reason",
            "reinspections",
            "reopened_on",
        ]


class ReinspectSerializer(serializers.Serializer):
    findings = serializers.CharField(max_length=500)
    reopen = serializers.BooleanField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    on = serializers.DateField(required=False)
    next_due = serializers.DateField(required=False, allow_null=True)


class WildlifeCheckSerializer(serializers.ModelSerializer):
    area = _area_field()

    class Meta:
        model = WildlifeCheck
        fields = ["id", "area", "site", "species", "count", "check_date", "checker", "notes"]
        validators = []


class TrendQuerySerializer(serializers.Serializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Commodity.objects.all())
    area = serializers.CharField(required=False)
    days = serializers.IntegerField(min_value=7, max_value=60, required=False, default=14)
