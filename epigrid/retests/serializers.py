"""The pooled-positive follow-up over the API (shapes only: every write goes through
retests.services). Document numbers, phones and free-text notes are masked in every answer
whatever the role, as in the persons API: full data only through /api/v1/persons/{id}/reveal/,
which is logged."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from epigrid.core import identity
from epigrid.retests.models import PoolFollowUp, RetestTask, ZoneProposal
from epigrid.retests.views import task_moves

# The page's one-tap moves (retests.views.task_moves) as the API's action URLs: both results are
# one action with a `result`.
_ACTIONS = {
    "hold": "hold",
    "retest": "retest",
    "negative": "result",
    "positive": "result",
    "resampled": "resample",
}


class PoolFollowUpSerializer(serializers.ModelSerializer):
    tube = serializers.SlugRelatedField(slug_field="barcode", read_only=True, help_text="The flagged tube.")
    area = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Code of the sampling point's area."
    )
    late = serializers.SerializerMethodField(help_text="Still open past its due time.")

    class Meta:
        model = PoolFollowUp
        fields = ["id", "tube", "kind", "status", "area", "opened_at", "due_by", "due_hours", "late"]

    def get_late(self, obj) -> bool:
        return obj.is_late()


class RetestTaskSerializer(serializers.ModelSerializer):
    # Nested rather than copied: the follow-up's kind (retest or resample) is then described once
    # in the schema, and the client gets the tube and the follow-up's due time with each task.
    follow_up = PoolFollowUpSerializer(read_only=True)
    name = serializers.CharField(read_only=True, help_text="As registered (or as given, if unregistered).")
    doc_number = serializers.SerializerMethodField(help_text="Masked.")
    phone = serializers.SerializerMethodField(help_text="Masked.")
    building = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    room = serializers.SerializerMethodField()
    area = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Code of the person's grid."
    )
    late = serializers.SerializerMethodField(help_text="Not yet retested (or resampled) past its due time.")
    note = serializers.SerializerMethodField(help_text="ID and mobile numbers in it masked.")
    actions = serializers.SerializerMethodField(
        help_text="The POST actions the task's state allows now (hold, retest, result, resample); "
        "the user's right to them is checked when posting."
    )

    class Meta:
        model = RetestTask
        fields = [
            "id",
            "follow_up",
            "status",
            "person",
            "name",
            "doc_number",
            "phone",
            "household",
            "building",
            "unit",
            "room",
            "area",
            "due_by",
            "late",
            "held_at",
            "sampled_at",
            "retest_barcode",
            "resolved_at",
            "key_person",
            "note",
            "actions",
        ]

    def get_doc_number(self, obj) -> str:
        # An unregistered person's number is as typed at the desk, unchecked: left out, as in a
        # tube's persons (results.services.tube_persons).
        return obj.person.masked_doc_number if obj.person_id else ""

    def get_phone(self, obj) -> str:
        phone = obj.person.phone if obj.person_id else getattr(obj.sample.find, "phone", "")
        return identity.mask_phone(phone) if phone else ""

    def get_building(self, obj) -> str:
        return obj.household.building.name if obj.household_id else ""

    def get_unit(self, obj) -> str:
        return obj.household.unit if obj.household_id else ""

    def get_room(self, obj) -> str:
        return obj.household.room if obj.household_id else ""

    def get_late(self, obj) -> bool:
        return obj.is_late()

    def get_note(self, obj) -> str:
        return identity.mask_text(obj.note)

    def get_actions(self, obj) -> list[str]:
        return list(dict.fromkeys(_ACTIONS[move] for move in task_moves(obj)))


class ZoneProposalSerializer(serializers.ModelSerializer):
    building_name = serializers.CharField(source="building.name", read_only=True)
    area = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Code of the building's grid."
    )
    zone = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="The risk zone drawn on confirmation (/api/v1/zones/{id}/)."
    )

    class Meta:
        model = ZoneProposal
        fields = [
            "id",
            "building",
            "building_name",
            "area",
            "task",
            "reason",
            "proposed_at",
            "status",
            "zone",
        ]


class TaskNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class RetestSerializer(TaskNoteSerializer):
    barcode = serializers.CharField(
        max_length=64,
        help_text="The single tube's barcode (the resample's tube for an invalid one), not the pooled tube's.",
    )


class RetestResultSerializer(TaskNoteSerializer):
    result = serializers.ChoiceField(choices=[("negative", _("Negative")), ("positive", _("Positive"))])


class ConfirmSerializer(serializers.Serializer):
    level = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="One of the active protocol's zone levels (第九版: high, medium, low; 第八版: sealed, "
        "controlled, precaution); by default its highest.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class DismissSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, help_text="Why the building is not made a risk zone.")
