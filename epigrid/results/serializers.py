"""Lab results over the API (shapes only: every write goes through results.services)."""

from rest_framework import serializers

from epigrid.results.models import CT_MAX, CT_MIN, Result, ResultCorrection, TubeResult


class CorrectionSerializer(serializers.ModelSerializer):
    corrected_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ResultCorrection
        fields = [
            "before",
            "after",
            "before_ct_orf1ab",
            "before_ct_n",
            "reason",
            "source",
            "corrected_at",
            "corrected_by",
        ]


class TubeResultSerializer(serializers.ModelSerializer):
    tube = serializers.SlugRelatedField(slug_field="barcode", read_only=True)
    lab = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lab_name = serializers.CharField(source="lab.name", read_only=True)
    point_name = serializers.CharField(source="point.name", read_only=True)
    late = serializers.BooleanField(
        source="is_late", read_only=True, help_text="Reported after the round's target."
    )
    turnaround_hours = serializers.FloatField(
        read_only=True, help_text="Sampling (the tube's first sample) → reported."
    )

    class Meta:
        model = TubeResult
        fields = [
            "id",
            "tube",
            "campaign",
            "point",
            "point_name",
            "lab",
            "lab_name",
            "result",
            "ct_orf1ab",
            "ct_n",
            "tested_at",
            "reported_at",
            "sampled_at",
            "due_at",
            "late",
            "turnaround_hours",
            "source",
        ]


class TubeResultDetailSerializer(TubeResultSerializer):
    corrections = CorrectionSerializer(many=True, read_only=True)

    class Meta(TubeResultSerializer.Meta):
        fields = [*TubeResultSerializer.Meta.fields, "corrections"]


class ResultRowSerializer(serializers.Serializer):
    """One result as a LIS sends it (documentation: the service reads the raw rows itself, so one
    bad row is refused with its reason and never fails the batch)."""

    barcode = serializers.CharField(help_text="The tube's barcode (single or pooled tube).")
    result = serializers.CharField(
        help_text="negative/阴性/阴/-, pooled_positive/混管阳性/混阳, positive/阳性/阳/+, invalid/无效, pending/待检."
    )
    ct_orf1ab = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, min_value=CT_MIN, max_value=CT_MAX
    )
    ct_n = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, min_value=CT_MIN, max_value=CT_MAX
    )
    tested_at = serializers.DateTimeField(required=False, allow_null=True)
    reported_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: now.")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Needed when the result contradicts the stored one (a correction).",
    )


class ResultBatchSerializer(serializers.Serializer):
    lab = serializers.CharField(
        help_text="The reporting lab's code; the tubes must have been delivered to it."
    )
    results = ResultRowSerializer(many=True)


class ResultOutcomeSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Index of the row in the batch (from 0).")
    barcode = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "updated", "corrected", "unchanged", "refused"])
    reason = serializers.CharField()
    result = serializers.ChoiceField(choices=Result.choices, required=False)


class ResultBatchAnswerSerializer(serializers.Serializer):
    outcomes = ResultOutcomeSerializer(many=True)


class CorrectSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=Result.choices)
    reason = serializers.CharField(max_length=300)
    ct_orf1ab = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, min_value=CT_MIN, max_value=CT_MAX
    )
    ct_n = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, min_value=CT_MIN, max_value=CT_MAX
    )


class TurnaroundRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    results = serializers.IntegerField(help_text="Final results (pending ones are not counted).")
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    late_percent = serializers.FloatField(allow_null=True)
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)


class GridWorkerSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()


class GridSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TubePersonSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    person = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    doc_number = serializers.CharField(help_text="Masked.")
    phone = serializers.CharField(help_text="Masked.")
    registered = serializers.BooleanField()
    building = serializers.CharField()
    unit = serializers.CharField()
    room = serializers.CharField()
    grid = GridSerializer(allow_null=True)
    grid_workers = GridWorkerSerializer(many=True)


class TubePersonsSerializer(serializers.Serializer):
    tube = serializers.CharField()
    result = serializers.ChoiceField(choices=Result.choices, allow_null=True)
    persons = TubePersonSerializer(many=True)


class LatestResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=Result.choices)
    result_display = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["negative", "pending_retest", "positive", "resample", "pending"],
        help_text="What it means for the person: a pooled positive is pending_retest, never negative.",
    )
    tube = serializers.CharField()
    lab = serializers.CharField()
    sampled_at = serializers.DateTimeField()
    reported_at = serializers.DateTimeField()
    validity_hours = serializers.IntegerField(help_text="From the active protocol (default 48).")
    valid_until = serializers.DateTimeField(
        allow_null=True, help_text="Negative results only: sampling + validity."
    )
    valid = serializers.BooleanField(help_text="A negative result still within its validity (inclusive).")


class PersonLatestResultSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    name = serializers.CharField(help_text="Masked.")
    latest = LatestResultSerializer(allow_null=True)
