from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.checkpoints.models import Checkpoint, Passage, Shift, VehicleCheck
from epigrid.core.api import ScopedSlugRelatedField


class CheckpointSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    staff = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Checkpoint
        fields = ["id", "name", "kind", "area", "location", "is_active", "staff"]


class ShiftSerializer(serializers.ModelSerializer):
    staff = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Shift
        fields = ["id", "checkpoint", "day", "starts", "ends", "leader", "staff"]


class VehicleCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = VehicleCheck
        fields = [
            "id",
            "checkpoint",
            "client_id",
            "at",
            "direction",
            "plate",
            "kind",
            "origin",
            "decision",
            "reason",
        ]
        read_only_fields = fields


class PassageSerializer(serializers.ModelSerializer):
    """A passage: the person by id and name (never their ID number or phone)."""

    person_name = serializers.CharField(source="person.name", read_only=True)
    destination = serializers.SlugRelatedField(slug_field="code", read_only=True)
    handed_to = serializers.SlugRelatedField(slug_field="code", read_only=True)
    plate = serializers.CharField(source="vehicle.plate", read_only=True, default=None)

    class Meta:
        model = Passage
        fields = [
            "id",
            "checkpoint",
            "client_id",
            "at",
            "direction",
            "person",
            "person_name",
            "plate",
            "origin",
            "origin_risk",
            "destination",
            "temperature",
            "health_code",
            "suggested",
            "findings",
            "decision",
            "reason",
            "key_person",
            "handed_to",
            "received_at",
        ]
        read_only_fields = fields


class PassageBatchSerializer(serializers.Serializer):
    scans = serializers.ListField(
        child=serializers.DictField(),
        help_text=(
            "Each: client_id (UUID), checkpoint (id), at (ISO 8601), direction (in/out), person {token (from assess/) "
            "| code | doc_number [, name, phone] | id}, origin, origin_risk (none/low/medium/high), destination (area code), temperature, "
            "health_code (green/yellow/red/unknown), decision (optional: the suggestion when empty), reason "
            "(needed to override), offline (bool), vehicle {client_id, plate, kind}."
        ),
    )


class PassageOutcomeSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["accepted", "duplicate", "refused"])
    message = serializers.CharField(required=False)
    passage = serializers.IntegerField(required=False)
    decision = serializers.CharField(required=False)
    suggested = serializers.CharField(required=False)
    handed_to = serializers.CharField(required=False, allow_null=True)


class AssessQuerySerializer(serializers.Serializer):
    q = serializers.CharField(help_text="A scanned resident ID or personal code.")
    direction = serializers.ChoiceField(choices=["in", "out"], default="in")
    origin_risk = serializers.ChoiceField(choices=Passage.OriginRisk.values, default="none")
    health_code = serializers.ChoiceField(choices=Passage.HealthCode.values, default="unknown")
    temperature = serializers.DecimalField(max_digits=3, decimal_places=1, required=False, allow_null=True)


class AssessmentSerializer(serializers.Serializer):
    person = serializers.DictField(allow_null=True)
    registered = serializers.BooleanField()
    suggested = serializers.CharField()
    findings = serializers.ListField(child=serializers.DictField())


class StatsRowSerializer(serializers.Serializer):
    checkpoint = serializers.IntegerField()
    name = serializers.CharField()
    day = serializers.DateField()
    vehicles = serializers.IntegerField()
    persons = serializers.IntegerField()
    refused = serializers.IntegerField()
    testing = serializers.IntegerField()
    isolation = serializers.IntegerField()
    community = serializers.IntegerField()
    arrivals_high = serializers.IntegerField()
    arrivals_medium = serializers.IntegerField()
    arrivals_low = serializers.IntegerField()
    pass_exits = serializers.IntegerField(help_text="Household-pass exits let out at the checkpoint.")
    pass_returns = serializers.IntegerField()
    pass_refused = serializers.IntegerField(help_text="Household-pass scans refused (quota, status, ...).")
