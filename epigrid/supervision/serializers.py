"""Serializers of the supervision API. Officials appear by user name; there is no resident's
personal data on an item."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core.api import ScopedSlugRelatedField
from epigrid.supervision.models import Category, FoundBy, Item, ItemPhoto


class ItemPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ItemPhoto
        fields = ["id", "kind", "round", "created_at", "url"]

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()


class ItemSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    raised_in = serializers.SlugRelatedField(slug_field="code", read_only=True)
    escalated_to = serializers.SlugRelatedField(slug_field="code", read_only=True)
    responsible = serializers.SlugRelatedField(slug_field="username", read_only=True)
    raised_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    signed_off_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    source_type = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    photos = ItemPhotoSerializer(many=True, read_only=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "area",
            "raised_in",
            "title",
            "description",
            "category",
            "found_by",
            "source_type",
            "source_id",
            "source_label",
            "responsible",
            "due_at",
            "status",
            "overdue",
            "raised_by",
            "raised_at",
            "started_at",
            "submitted_at",
            "evidence_note",
            "signed_off_at",
            "signed_off_by",
            "signoff_note",
            "reopen_count",
            "cancel_reason",
            "escalated_to",
            "escalation_level",
            "escalated_at",
            "photos",
        ]
        read_only_fields = fields

    def get_source_type(self, obj) -> str | None:
        return f"{obj.source_type.app_label}.{obj.source_type.model}" if obj.source_type_id else None

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue()


class ItemRaiseSerializer(serializers.Serializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Category.choices)
    found_by = serializers.ChoiceField(choices=FoundBy.choices, default=FoundBy.INSPECTION)
    responsible = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    due_at = serializers.DateTimeField()


class ItemAssignSerializer(serializers.Serializer):
    responsible = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ItemSubmitSerializer(serializers.Serializer):
    note = serializers.CharField()
    photos = serializers.ListField(child=serializers.ImageField(), required=False, default=list)


class ItemNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ItemReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ItemPhotosSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ItemPhoto.Kind.choices)
    photos = serializers.ListField(child=serializers.ImageField(), min_length=1)
