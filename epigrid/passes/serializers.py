from rest_framework import serializers

from epigrid.areas.models import Household
from epigrid.control.models import Zone
from epigrid.core import identity
from epigrid.core.api import ScopedPrimaryKeyRelatedField
from epigrid.passes.models import HouseholdPass, PassUse
from epigrid.people.models import Person


class HouseholdPassSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    address = serializers.CharField(source="household.address", read_only=True)
    holder_name = serializers.SerializerMethodField()
    holder_doc_number = serializers.SerializerMethodField(help_text="Masked.")
    # Plain strings, not enums: the same names carry other choices in other apps' components.
    kind = serializers.CharField(read_only=True, help_text="household, medical, staff or supply.")

    class Meta:
        model = HouseholdPass
        fields = [
            "id",
            "kind",
            "status",
            "household",
            "address",
            "area",
            "zone",
            "holder",
            "holder_name",
            "holder_doc_number",
            "persons_per_window",
            "window_days",
            "valid_from",
            "valid_until",
            "code_version",
            "issued_at",
            "note",
        ]
        read_only_fields = fields

    def get_holder_name(self, obj) -> str:
        return obj.holder.name if obj.holder_id else ""

    def get_holder_doc_number(self, obj) -> str:
        return identity.mask_document(obj.holder.doc_number) if obj.holder_id else ""


class IssueSerializer(serializers.Serializer):
    household = ScopedPrimaryKeyRelatedField(queryset=Household.objects.all())
    kind = serializers.ChoiceField(choices=HouseholdPass.Kind.choices, default=HouseholdPass.Kind.HOUSEHOLD)
    holder = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.filter(merged_into__isnull=True), required=False, allow_null=True
    )
    persons = serializers.IntegerField(min_value=1, max_value=20, required=False, allow_null=True)
    days = serializers.IntegerField(min_value=1, max_value=30, required=False, allow_null=True)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ZoneIssueSerializer(serializers.Serializer):
    zone = ScopedPrimaryKeyRelatedField(queryset=Zone.objects.all())
    persons = serializers.IntegerField(min_value=1, max_value=20, default=1)
    days = serializers.IntegerField(min_value=1, max_value=30, default=2)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)


class ZoneIssuedSerializer(serializers.Serializer):
    issued = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the new passes.")
    kept = serializers.IntegerField(help_text="Households that already held a pass in force.")


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class PassUseSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    person_doc_number = serializers.SerializerMethodField(help_text="Masked.")
    checkpoint_name = serializers.CharField(source="checkpoint.name", read_only=True, default="")
    direction = serializers.CharField(read_only=True, help_text="exit or return.")
    outcome = serializers.CharField(read_only=True, help_text="allowed or refused.")
    reason = serializers.CharField(read_only=True, help_text="Why a scan was refused (empty when allowed).")

    class Meta:
        model = PassUse
        fields = [
            "id",
            "household_pass",
            "person",
            "person_name",
            "person_doc_number",
            "direction",
            "outcome",
            "reason",
            "at",
            "window_starts_on",
            "exit",
            "checkpoint",
            "checkpoint_name",
            "client_id",
        ]
        read_only_fields = fields

    def get_person_doc_number(self, obj) -> str:
        return identity.mask_document(obj.person.doc_number)


class PassScanSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=200, help_text="The pass's QR text (EPP1:…).")
    # Ids, read by the scan itself (passes.services.scan): the person as their row is locked, the
    # checkpoint from the gate's posts kept per process — two queries fewer on every gate scan.
    person = serializers.IntegerField(min_value=1, help_text="The person's id (one you see).")
    direction = serializers.ChoiceField(choices=PassUse.Direction.choices)
    checkpoint = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="The checkpoint's id (one you see)."
    )
    client_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Retries answer as the first."
    )
    at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When scanned (offline queues); now if empty."
    )


class ScanOutcomeSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    reason = serializers.CharField(
        help_text="Empty when allowed; unknown, revoked, expired, not_yet_valid, ..."
    )
    message = serializers.CharField()
    direction = serializers.CharField()
    person = serializers.CharField(source="person_label", help_text="Masked name and birth year.")
    status = serializers.CharField(
        source="status_label", help_text="The measure keeping the person in, if any."
    )
    remaining = serializers.IntegerField(allow_null=True)
    next_window = serializers.DateField(allow_null=True)
    replayed = serializers.BooleanField()
    use = serializers.SerializerMethodField()

    def get_use(self, obj) -> int | None:
        return obj.use.pk if obj.use is not None else None
