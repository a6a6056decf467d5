"""Serializers of the assistance API. Personal numbers are always masked here: full data goes
through people's reveal (with a reason, audited)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.assistance import services
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.control.models import Category
from epigrid.core import identity
from epigrid.core.api import ScopedSlugRelatedField
from epigrid.people.models import DocumentType


class PersonRowSerializer(serializers.Serializer):
    """One person of the requester's list, cleaned as the pages and the import clean it."""

    name = serializers.CharField(max_length=64)
    doc_type = serializers.ChoiceField(choices=DocumentType.choices, default=DocumentType.RESIDENT_ID)
    doc_number = serializers.CharField(max_length=40)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Category.choices)
    exposure_on = serializers.DateField(required=False, allow_null=True, default=None)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    request_note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        try:
            return services.clean_row(attrs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None


class AssistRequestSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    persons = PersonRowSerializer(many=True, write_only=True, required=False)
    total = serializers.IntegerField(read_only=True, help_text="Persons on the list.")
    answered = serializers.IntegerField(read_only=True, help_text="Persons answered.")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = AssistRequest
        fields = [
            "id",
            "requester",
            "reference",
            "contact",
            "in_province",
            "received_at",
            "due_at",
            "area",
            "status",
            "answered_at",
            "notes",
            "total",
            "answered",
            "overdue",
            "persons",
        ]
        read_only_fields = ["due_at", "status", "answered_at"]

    def get_overdue(self, obj) -> bool:
        from django.utils import timezone

        return obj.is_overdue(timezone.now())


class AssistPersonSerializer(serializers.ModelSerializer):
    doc_number = serializers.SerializerMethodField(help_text="Masked.")
    phone = serializers.SerializerMethodField(help_text="Masked.")
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    due_at = serializers.DateTimeField(source="request.due_at", read_only=True)
    answered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AssistPerson
        fields = [
            "id",
            "request",
            "number",
            "name",
            "doc_type",
            "doc_number",
            "phone",
            "category",
            "exposure_on",
            "address",
            "request_note",
            "area",
            "status",
            "due_at",
            "person",
            "key_person",
            "answer_note",
            "answered_at",
            "answered_by",
        ]
        read_only_fields = fields

    def get_doc_number(self, obj) -> str:
        return identity.mask_document(obj.doc_number)

    def get_phone(self, obj) -> str:
        return identity.mask_phone(obj.phone) if obj.phone else ""


class FoundSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    area = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Area.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Assign the row to this community or grid first (optional).",
    )


class NotHereSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in AssistPerson.NOT_HERE])
    note = serializers.CharField(max_length=500)


class AssignSerializer(serializers.Serializer):
    area = serializers.SlugRelatedField(slug_field="code", queryset=Area.objects.all())
