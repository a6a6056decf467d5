"""Serializers of the daily-report API."""

from django.utils.translation import gettext as _
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
            "sender_kind",
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
            "sender_id",
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
    """A report to send: the same (form, unit, day) again updates it (idempotent). A form sent by
    records (an enterprise, an outlet) names the record by `sender` (its id) instead of `unit`."""

    form = serializers.SlugRelatedField(slug_field="code", queryset=ReportForm.objects.filter(active=True))
    unit = serializers.SlugRelatedField(slug_field="code", queryset=Area.objects.all(), required=False)
    sender = serializers.IntegerField(required=False, min_value=1)
    day = serializers.DateField()
    values = serializers.DictField(child=serializers.JSONField(), default=dict)
    explanations = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)
    zero = serializers.BooleanField(default=False)

    def validate(self, data):
        form = data["form"]
        if form.sender_kind and "sender" not in data:
            raise serializers.ValidationError({"sender": _("This form is sent by a record: give its id.")})
        if not form.sender_kind and "unit" not in data:
            raise serializers.ValidationError({"unit": _("This field is required.")})
        return data


class RollupQuerySerializer(serializers.Serializer):
    form = serializers.SlugRelatedField(slug_field="code", queryset=ReportForm.objects.all())
    day = serializers.DateField()
    area = serializers.SlugRelatedField(slug_field="code", queryset=Area.objects.all())
