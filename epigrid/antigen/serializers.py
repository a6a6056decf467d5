from rest_framework import serializers

from epigrid.antigen.models import (
    MAX_KITS_PER_HOUSEHOLD,
    AntigenFollowUp,
    AntigenReport,
    AntigenRound,
    KitDistribution,
    Result,
)
from epigrid.antigen.services import MAX_BATCH
from epigrid.areas.models import Area, Household
from epigrid.core import identity
from epigrid.core.api import ModelCleanMixin, ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField


class AntigenRoundSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    areas = ScopedSlugRelatedField(
        slug_field="code", queryset=Area.objects.all(), many=True, scope_action="view"
    )

    class Meta:
        model = AntigenRound
        fields = [
            "id",
            "name",
            "area",
            "areas",
            "starts_on",
            "ends_on",
            "allocation",
            "kits_per",
            "results_due_at",
            "follow_up_hours",
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        organiser = attrs.get("area") or getattr(self.instance, "area", None)
        for area in attrs.get("areas", []):
            if organiser is not None and not area.path.startswith(organiser.path):
                raise serializers.ValidationError({"areas": [f"{area.code}: outside the organiser's area."]})
        return attrs


class KitDistributionSerializer(serializers.ModelSerializer):
    round = ScopedPrimaryKeyRelatedField(queryset=AntigenRound.objects.all())
    household = ScopedPrimaryKeyRelatedField(queryset=Household.objects.all(), scope_action="view")
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kits = serializers.IntegerField(min_value=0, max_value=MAX_KITS_PER_HOUSEHOLD)
    handed_out_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = KitDistribution
        fields = ["id", "round", "household", "area", "kits", "handed_out_at", "handed_out_by", "note"]
        read_only_fields = ["handed_out_at"]
        # Idempotent per household and round: the service updates instead of refusing a repeat.
        validators = []


class AntigenReportSerializer(serializers.ModelSerializer):
    person_name = serializers.SerializerMethodField()
    person_doc_number = serializers.SerializerMethodField(help_text="Masked.")
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    retest = serializers.SerializerMethodField(
        help_text="'requested' while invalid, 'done' once a valid result replaced it."
    )
    has_photo = serializers.SerializerMethodField()

    class Meta:
        model = AntigenReport
        fields = [
            "id",
            "round",
            "person",
            "person_name",
            "person_doc_number",
            "household",
            "area",
            "result",
            "tested_at",
            "via",
            "retest",
            "has_photo",
            "note",
            "last_updated",
        ]

    def get_person_name(self, obj) -> str:
        return obj.person.name

    def get_person_doc_number(self, obj) -> str:
        return identity.mask_document(obj.person.doc_number)

    def get_retest(self, obj) -> str:
        return obj.retest_state

    def get_has_photo(self, obj) -> bool:
        return bool(obj.photo)


class ReportItemSerializer(serializers.Serializer):
    """One report of a batch (documentation only: each item is checked on its own)."""

    round = serializers.IntegerField()
    person = serializers.IntegerField()
    result = serializers.ChoiceField(choices=Result.choices)
    tested_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(required=False, max_length=200)


class ReportBatchSerializer(serializers.Serializer):
    reports = ReportItemSerializer(many=True, help_text=f"1 to {MAX_BATCH} reports.")


class ReportOutcomeSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.CharField(help_text="created, updated, unchanged (nothing changed) or refused.")
    reason = serializers.CharField()
    id = serializers.IntegerField(allow_null=True)


class ReportBatchAnswerSerializer(serializers.Serializer):
    outcomes = ReportOutcomeSerializer(many=True)


class AntigenFollowUpSerializer(serializers.ModelSerializer):
    person_name = serializers.SerializerMethodField()
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = AntigenFollowUp
        fields = [
            "id",
            "report",
            "person",
            "person_name",
            "area",
            "key_person",
            "status",
            "due_by",
            "sampled_at",
            "note",
        ]

    def get_person_name(self, obj) -> str:
        return obj.person.name


class FollowUpMoveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CompletionRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField()
    households = serializers.IntegerField(help_text="Households registered.")
    reached = serializers.IntegerField(help_text="Households that got kits.")
    kits = serializers.IntegerField()
    persons = serializers.IntegerField(help_text="Persons living in households that got kits.")
    reported = serializers.IntegerField()
    negative = serializers.IntegerField()
    positive = serializers.IntegerField()
    invalid = serializers.IntegerField()
    missing = serializers.IntegerField()
    completion = serializers.FloatField(allow_null=True, help_text="Reported of persons, in %.")
    reach = serializers.FloatField(allow_null=True, help_text="Households reached, in %.")


class CompletionSerializer(CompletionRowSerializer):
    children = CompletionRowSerializer(many=True)
