from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core.api import ModelCleanMixin, ScopedSlugRelatedField
from epigrid.testing.models import Campaign, Desk, Find, Sample, SamplingPoint, Tube


class CampaignSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    areas = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "area",
            "areas",
            "kind",
            "pooling",
            "starts_at",
            "ends_at",
            "turnaround_hours",
            "transport_hours",
            "tube_prefix",
            "tube_length",
            "tube_pattern",
            "tube_check",
            "status",
            "copied_from",
        ]
        read_only_fields = ["copied_from"]


class DeskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Desk
        fields = ["id", "name", "is_active"]


class SamplingPointSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    desks = DeskSerializer(many=True, read_only=True)
    staff = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = SamplingPoint
        fields = [
            "id",
            "campaign",
            "name",
            "area",
            "address",
            "latitude",
            "longitude",
            "hours",
            "is_home_team",
            "desks",
            "staff",
        ]


class SampleSerializer(serializers.ModelSerializer):
    person_name = serializers.SerializerMethodField()
    person_doc_number = serializers.SerializerMethodField(help_text="Masked.")

    class Meta:
        model = Sample
        fields = [
            "id",
            "client_id",
            "position",
            "person",
            "person_name",
            "person_doc_number",
            "find",
            "via",
            "repeat",
            "status",
            "scanned_at",
            "received_at",
            "moved_to",
        ]

    def get_person_name(self, obj) -> str:
        if obj.person_id:
            return obj.person.name
        return obj.find.name if obj.find_id else ""

    def get_person_doc_number(self, obj) -> str:
        if obj.person_id:
            return obj.person.masked_doc_number
        return obj.find.masked_doc_number if obj.find_id else ""


class TubeSerializer(serializers.ModelSerializer):
    point = serializers.StringRelatedField()
    desk = serializers.StringRelatedField()

    class Meta:
        model = Tube
        fields = [
            "id",
            "barcode",
            "campaign",
            "point",
            "desk",
            "capacity",
            "count",
            "status",
            "opened_at",
            "closed_at",
            "sealed_at",
        ]


class TubeDetailSerializer(TubeSerializer):
    samples = serializers.SerializerMethodField()

    class Meta(TubeSerializer.Meta):
        fields = [*TubeSerializer.Meta.fields, "samples"]

    @extend_schema_field(SampleSerializer(many=True))
    def get_samples(self, obj):
        rows = obj.samples.select_related("person", "find").order_by("position")
        return SampleSerializer(rows, many=True).data


class TubeActionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class MoveSampleSerializer(serializers.Serializer):
    tube = serializers.CharField(help_text="Barcode of the open tube to move the sample into.")
    reason = serializers.CharField(max_length=200)


class ScanSerializer(serializers.Serializer):
    """One scan as the desk records it (documentation only: the service checks each scan itself,
    so one bad scan is refused alone instead of failing the batch)."""

    client_id = serializers.UUIDField(help_text="Made when the scan was taken, stored before any send.")
    action = serializers.ChoiceField(choices=["sample", "close", "seal"], required=False, default="sample")
    campaign = serializers.IntegerField()
    desk = serializers.IntegerField()
    tube = serializers.CharField()
    document_type = serializers.CharField(required=False, default="111")
    document_number = serializers.CharField(required=False)
    qr = serializers.CharField(required=False, help_text="Text of a personal QR code.")
    typed = serializers.BooleanField(required=False, help_text="The number was typed in, not scanned.")
    name = serializers.CharField(required=False, help_text="For persons not in the registry.")
    phone = serializers.CharField(required=False)
    scanned_at = serializers.DateTimeField()


class BatchSerializer(serializers.Serializer):
    scans = ScanSerializer(many=True)


class OutcomeSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "refused"])
    reason = serializers.CharField()
    tube = serializers.CharField(required=False)
    position = serializers.IntegerField(required=False, help_text="第 N 人: the person's place in the tube.")
    capacity = serializers.IntegerField(required=False)
    tube_full = serializers.BooleanField(required=False, help_text="换管: the tube is full and closed.")
    unregistered = serializers.BooleanField(required=False)
    person = serializers.DictField(required=False, help_text="Masked name, birth year and sex to confirm.")


class BatchAnswerSerializer(serializers.Serializer):
    outcomes = OutcomeSerializer(many=True)


class CoverageRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField()
    residents = serializers.IntegerField()
    expected = serializers.IntegerField()
    sampled = serializers.IntegerField()
    exempt = serializers.IntegerField()
    missed = serializers.IntegerField()
    coverage = serializers.FloatField(allow_null=True, help_text="Percent of expected, one decimal.")


class CoverageSerializer(CoverageRowSerializer):
    children = CoverageRowSerializer(many=True)


class FindSerializer(serializers.ModelSerializer):
    doc_number = serializers.CharField(source="masked_doc_number", read_only=True, help_text="Masked.")
    phone = serializers.CharField(source="masked_phone", read_only=True, help_text="Masked.")
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    person = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Find
        fields = [
            "id",
            "campaign",
            "area",
            "doc_type",
            "doc_number",
            "name",
            "phone",
            "status",
            "person",
            "created",
        ]


class GroupMemberSerializer(serializers.Serializer):
    qr = serializers.CharField(help_text="The member's personal code: send it as the scan's qr.")
    name = serializers.CharField(help_text="Masked.")
    birth_year = serializers.IntegerField(allow_null=True)


class GroupAnswerSerializer(serializers.Serializer):
    code = serializers.CharField()
    members = GroupMemberSerializer(many=True)
