from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core.api import ScopedSlugRelatedField
from epigrid.transport.models import Box, BoxEvent, BoxTube, Lab
from epigrid.transport.services import reconciliation


class LabSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    staff = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Lab
        fields = ["id", "name", "code", "address", "area", "is_active", "staff"]


class BoxTubeSerializer(serializers.ModelSerializer):
    added_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    checked_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = BoxTube
        fields = ["barcode", "state", "added_at", "added_by", "checked_at", "checked_by"]


class BoxEventSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="Who signed it.")
    point = serializers.StringRelatedField()
    lab = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = BoxEvent
        fields = ["kind", "at", "user", "point", "lab", "barcode", "note"]


class BoxSerializer(serializers.ModelSerializer):
    point = serializers.StringRelatedField()
    lab = serializers.SlugRelatedField(slug_field="code", read_only=True)
    picked_up_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    received_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    late = serializers.SerializerMethodField(
        help_text="Received after the deadline, or the deadline has passed."
    )

    class Meta:
        model = Box
        fields = [
            "id",
            "barcode",
            "campaign",
            "point",
            "lab",
            "status",
            "opened_at",
            "sealed_at",
            "tube_count",
            "picked_up_at",
            "picked_up_by",
            "arrived_at",
            "received_at",
            "received_by",
            "missing_count",
            "extra_count",
            "receipt_note",
            "first_sample_at",
            "due_at",
            "late",
        ]

    def get_late(self, obj) -> bool:
        return obj.is_late()


class BoxDetailSerializer(BoxSerializer):
    tubes = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(BoxSerializer.Meta):
        fields = [*BoxSerializer.Meta.fields, "tubes", "events"]

    @extend_schema_field(BoxTubeSerializer(many=True))
    def get_tubes(self, obj):
        rows = obj.tubes.select_related("added_by", "checked_by").order_by("barcode")
        return BoxTubeSerializer(rows, many=True).data

    @extend_schema_field(BoxEventSerializer(many=True))
    def get_events(self, obj):
        rows = obj.events.select_related("user", "point", "lab")
        return BoxEventSerializer(rows, many=True).data


class OpenBoxSerializer(serializers.Serializer):
    barcode = serializers.CharField(max_length=64, help_text="The box's own barcode.")
    point = serializers.IntegerField(help_text="Id of the sampling point where the box is packed.")
    lab = serializers.CharField(help_text="Code of the lab the box goes to.")


class TubeScanSerializer(serializers.Serializer):
    tube = serializers.CharField(max_length=64, help_text="Tube barcode.")


class SealSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Tubes counted in the box; refused if it differs from the scans.",
    )


class ReceiveSerializer(serializers.Serializer):
    tubes = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=10000,
        help_text="Barcodes of the tubes found in the box (in addition to those scanned before).",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text="Needed with missing or extra tubes."
    )


class RerouteSerializer(serializers.Serializer):
    lab = serializers.CharField(help_text="Code of the lab the box goes to now.")
    note = serializers.CharField(max_length=200)


class ReconciliationSerializer(serializers.Serializer):
    expected = serializers.ListField(child=serializers.CharField())
    found = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    extra = serializers.ListField(child=serializers.CharField())


class ReceiptAnswerSerializer(BoxDetailSerializer):
    reconciliation = serializers.SerializerMethodField()

    class Meta(BoxDetailSerializer.Meta):
        fields = [*BoxDetailSerializer.Meta.fields, "reconciliation"]

    @extend_schema_field(ReconciliationSerializer)
    def get_reconciliation(self, obj):
        return reconciliation(obj)
