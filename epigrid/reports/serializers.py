"""Serializers of the daily-report API."""

from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.reports.models import ReportForm, Submission


class ReportFormSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportForm
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "kind",
            "unit_level",
            "due_time",
            "period",
            "fields",
            "zero_statement",
            "active",
        ]


class SubmissionSerializer(serializers.ModelSerializer):
    form = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "form",
            "unit",
            "unit_name",
            "day",
            "values",
            "live",
            "explanations",
            "zero",
            "late",
            "revision",
            "first_submitted_at",
            "submitted_at",
            "submitted_by",
        ]
        read_only_fields = fields


class SubmitSerializer(serializers.Serializer):
    """A report to send: the same (form, unit, day) again updates it (idempotent)."""

    form = serializers.SlugRelatedField(slug_field="code", queryset=ReportForm.objects.filter(active=True))
    unit = serializers.SlugRelatedField(slug_field="code", queryset=Area.objects.all())
    day = serializers.DateField()
    values = serializers.DictField(child=serializers.JSONField(), default=dict)
    explanations = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)
    zero = serializers.BooleanField(default=False)


class RollupQuerySerializer(serializers.Serializer):
    form = serializers.SlugRelatedField(slug_field="code", queryset=ReportForm.objects.all())
    day = serializers.DateField()
    area = serializers.SlugRelatedField(slug_field="code", queryset=Area.objects.all())
