"""Serializers of the enterprises API. Persons appear masked (name, document and phone as the
registry masks them); the contact's phone is masked in every answer and only written in full."""

from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core import identity
from epigrid.core.api import ModelCleanMixin, ScopedSlugRelatedField
from epigrid.enterprises.models import Application, Employee, Enterprise, Phase, PPEStock, TemperatureReading
from epigrid.people.models import DocumentType


class EnterpriseSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all())
    phase = serializers.SlugRelatedField(
        slug_field="code", queryset=Phase.objects.all(), required=False, allow_null=True
    )
    contact_phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20)
    masked_contact_phone = serializers.CharField(read_only=True)
    stage = serializers.SerializerMethodField()

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "name",
            "uscc",
            "kind",
            "size",
            "industry",
            "phase",
            "area",
            "address",
            "contact_name",
            "contact_phone",
            "masked_contact_phone",
            "prevention_lead",
            "stage",
        ]

    def get_stage(self, obj) -> str | None:
        stage = getattr(obj, "stage", None)
        if stage is None and not hasattr(obj, "stage"):
            latest = obj.applications.order_by("-created_at", "-pk").values_list("status", flat=True).first()
            return latest
        return stage

    def validate_contact_phone(self, value):
        instance = self.instance
        if instance is not None and instance.contact_phone and value == instance.masked_contact_phone:
            return instance.contact_phone  # the masked value sent back: keep
        return identity.normalise_phone(value) if value else ""


class EnterpriseEmployeeSerializer(serializers.ModelSerializer):
    enterprise = serializers.PrimaryKeyRelatedField(read_only=True)
    name = serializers.CharField(source="person.name", read_only=True)
    doc_number = serializers.CharField(source="person.masked_doc_number", read_only=True)
    phone = serializers.SerializerMethodField()
    grid = serializers.CharField(source="person.area.code", read_only=True)

    class Meta:
        model = Employee
        fields = [
            "id",
            "enterprise",
            "person",
            "name",
            "doc_number",
            "phone",
            "grid",
            "department",
            "is_active",
            "added_at",
        ]
        read_only_fields = ["person", "added_at"]

    def get_phone(self, obj) -> str:
        return obj.person.masked_phone if obj.person.phone else ""


class EnterpriseAddEmployeeSerializer(serializers.Serializer):
    doc_type = serializers.ChoiceField(choices=DocumentType.choices, default=DocumentType.RESIDENT_ID)
    doc_number = serializers.CharField(max_length=32)
    department = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class EnterpriseCardSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=200))


class EnterpriseTemperatureSerializer(serializers.ModelSerializer):
    measured_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    temperature = serializers.DecimalField(max_digits=3, decimal_places=1)

    class Meta:
        model = TemperatureReading
        fields = ["id", "employee", "temperature", "measured_at", "measured_by", "fever"]
        read_only_fields = ["measured_at", "measured_by", "fever"]


class EnterprisePPESerializer(serializers.ModelSerializer):
    days_of_cover = serializers.SerializerMethodField()

    class Meta:
        model = PPEStock
        fields = ["id", "enterprise", "item", "unit", "stock", "daily_use", "counted_at", "days_of_cover"]
        read_only_fields = ["counted_at"]

    def get_days_of_cover(self, obj) -> str | None:
        from epigrid.enterprises.models import days_of_cover

        staff = obj.enterprise.employees.filter(is_active=True).count()
        days = days_of_cover(obj.stock, staff, obj.daily_use)
        return None if days is None else str(days)


class EnterpriseApplicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Application
        fields = [
            "id",
            "enterprise",
            "status",
            "planned_start",
            "prevention_plan",
            "emergency_plan",
            "isolation_room",
            "commitment",
            "commitment_by",
            "staff_count",
            "submitted_at",
            "conditions",
            "approved_at",
            "checked_at",
            "check_note",
            "permit_number",
            "permitted_from",
            "permitted_at",
            "ppe_days_at_permit",
            "refused_at",
            "refused_in",
            "refusal_reason",
            "created_at",
        ]
        read_only_fields = [
            f
            for f in fields
            if f
            not in (
                "enterprise",
                "planned_start",
                "prevention_plan",
                "emergency_plan",
                "isolation_room",
                "commitment",
                "commitment_by",
            )
        ]


class EnterpriseNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class EnterpriseReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class EnterprisePermitSerializer(serializers.Serializer):
    permitted_from = serializers.DateField(required=False, allow_null=True, default=None)
