"""Serializers of the resident-services API. Persons appear by name with the phone masked; the
full number is the person page's, behind the reveal right."""

from rest_framework import serializers

from epigrid.areas.models import Household
from epigrid.core.api import ScopedPrimaryKeyRelatedField
from epigrid.core.identity import mask_phone
from epigrid.homeservices.kinds import Kind, Urgency
from epigrid.homeservices.models import ConfirmedHow, ProactiveCheck, ServiceRequest, Source, SpecialCare
from epigrid.people.models import Person


class ServiceRequestSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    person_name = serializers.SerializerMethodField()
    person_phone = serializers.SerializerMethodField()
    household_address = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "household",
            "household_address",
            "person",
            "person_name",
            "person_phone",
            "area",
            "zone",
            "kind",
            "urgency",
            "details",
            "summary",
            "description",
            "source",
            "status",
            "due_at",
            "overdue",
            "requested_at",
            "assignee",
            "assigned_at",
            "started_at",
            "done_at",
            "done_note",
            "confirmed_at",
            "confirmed_by",
            "confirmed_how",
            "confirmation_note",
            "cancel_reason",
            "additions",
            "care",
        ]
        read_only_fields = fields

    def get_person_name(self, obj) -> str:
        return obj.person.name

    def get_person_phone(self, obj) -> str:
        return mask_phone(obj.person.phone) if obj.person.phone else ""

    def get_household_address(self, obj) -> str:
        return obj.household.address

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue()

    def get_summary(self, obj) -> str:
        return obj.summary


class ServiceRequestSubmitSerializer(serializers.Serializer):
    household = ScopedPrimaryKeyRelatedField(queryset=Household.objects.all(), scope_action="add")
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.filter(merged_into__isnull=True))
    kind = serializers.ChoiceField(choices=Kind.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    details = serializers.DictField(required=False, default=dict)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(choices=Source.choices[:3], default=Source.ONLINE)
    client_id = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    add_to_open = serializers.BooleanField(required=False, default=False)


class ServiceRequestAssignSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(
        slug_field="username",
        queryset=ServiceRequest._meta.get_field("assignee").related_model.objects.filter(is_active=True),
    )


class DoneSerializer(serializers.Serializer):
    note = serializers.CharField()
    photo = serializers.ImageField(required=False, allow_null=True, default=None)


class ServiceRequestConfirmSerializer(serializers.Serializer):
    how = serializers.ChoiceField(choices=ConfirmedHow.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ServiceRequestReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class SpecialCareSerializer(serializers.ModelSerializer):
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.filter(merged_into__isnull=True))
    person_name = serializers.SerializerMethodField()
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = SpecialCare
        fields = [
            "id",
            "person",
            "person_name",
            "household",
            "area",
            "group",
            "due_date",
            "treatment_days",
            "treatment_time",
            "hospital",
            "visit_every_days",
            "notes",
            "active",
            "registered_at",
        ]
        read_only_fields = ["household", "area", "registered_at"]

    def get_person_name(self, obj) -> str:
        return obj.person.name


class ProactiveCheckSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    done_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    group = serializers.CharField(source="care.group", read_only=True)

    class Meta:
        model = ProactiveCheck
        fields = ["id", "care", "group", "area", "day", "kind", "outcome", "note", "done_at", "done_by"]
        read_only_fields = fields


class CheckOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ProactiveCheck.Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
