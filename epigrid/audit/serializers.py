from rest_framework import serializers

from epigrid.audit.models import ObjectChange
from epigrid.audit.tables import masked
from epigrid.core.identity import mask_text


class MaskedJSONField(serializers.JSONField):
    """Before/after data with personal fields masked exactly as on the audit log page."""

    def to_representation(self, value):
        return masked(value) if isinstance(value, dict) else value


class MaskedTextField(serializers.CharField):
    """Free text (a reason, an object's name) with any ID or mobile number in it masked."""

    def to_representation(self, value):
        return mask_text(super().to_representation(value))


class ObjectChangeSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField(help_text='The object\'s model as "app_label.model".')
    prechange_data = MaskedJSONField(read_only=True)
    postchange_data = MaskedJSONField(read_only=True)
    reason = MaskedTextField(read_only=True)
    object_repr = MaskedTextField(read_only=True)

    class Meta:
        model = ObjectChange
        fields = [
            "id",
            "time",
            "user",
            "user_name",
            "request_id",
            "source",
            "action",
            "content_type",
            "object_type",
            "object_id",
            "object_repr",
            "prechange_data",
            "postchange_data",
            "reason",
        ]
        read_only_fields = fields

    def get_object_type(self, change) -> str:
        return f"{change.content_type.app_label}.{change.content_type.model}"
