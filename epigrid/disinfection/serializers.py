"""Serializers of the disinfection API. Officials appear by login; there is no resident's personal
data here (a terminal disinfection names its case by number and its address)."""

from rest_framework import serializers

from epigrid.areas.models import Area, Building
from epigrid.core.api import ModelCleanMixin, ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from epigrid.disinfection.models import Round, Rule, Site, Task, Team, Terminal, Trip, Vehicle, WasteKind

USER = {"slug_field": "username", "read_only": True}


def _area(**kwargs):
    return ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), **kwargs)


class DisinfectionTeamSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = _area()
    leader = serializers.SlugRelatedField(**USER)

    class Meta:
        model = Team
        fields = ["id", "area", "name", "leader", "members", "active"]


class DisinfectionSiteSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = _area()
    building = ScopedPrimaryKeyRelatedField(queryset=Building.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Site
        fields = ["id", "area", "name", "site_type", "building", "size_m2", "active"]


class RuleSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = _area()
    team = ScopedPrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Rule
        fields = [
            "id",
            "area",
            "site_type",
            "zone_level",
            "per_day",
            "team",
            "disinfectant",
            "concentration",
            "contact_minutes",
            "active",
        ]


class VehicleSerializer(ModelCleanMixin, serializers.ModelSerializer):
    area = _area()
    team = ScopedPrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Vehicle
        fields = ["id", "area", "plate", "kind", "team", "active"]


class RoundSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Round
        fields = ["id", "area", "rule", "date", "period", "site_type", "zone_level", "team", "created_at"]


class GenerateSerializer(serializers.Serializer):
    area = _area()
    date = serializers.DateField()


class TaskSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    operator = serializers.SlugRelatedField(**USER)
    site_name = serializers.CharField(source="site.name", read_only=True)
    site_type = serializers.CharField(source="site.site_type", read_only=True)
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "round",
            "site",
            "site_name",
            "site_type",
            "area",
            "status",
            "done_at",
            "operator",
            "disinfectant",
            "concentration",
            "contact_minutes",
            "area_treated_m2",
            "latitude",
            "longitude",
            "note",
            "photo_url",
        ]

    def get_photo_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("disinfection:task_photo", args=[obj.pk]) if obj.photo else ""


class CompleteSerializer(serializers.Serializer):
    disinfectant = serializers.CharField(max_length=60)
    concentration = serializers.IntegerField(min_value=1, max_value=100_000)
    contact_minutes = serializers.IntegerField(min_value=1, max_value=1440)
    area_treated_m2 = serializers.DecimalField(
        max_digits=10, decimal_places=1, required=False, allow_null=True
    )
    photo = serializers.ImageField()
    latitude = serializers.DecimalField(max_digits=12, decimal_places=8, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=12, decimal_places=8, required=False, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TripSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    handed_by = serializers.SlugRelatedField(**USER)

    class Meta:
        model = Trip
        fields = [
            "id",
            "vehicle",
            "area",
            "date",
            "started_at",
            "waste_kind",
            "tonnage",
            "destination",
            "handed_by",
            "handed_at",
            "received_by",
            "received_unit",
            "note",
        ]


class TripCreateSerializer(serializers.Serializer):
    vehicle = ScopedPrimaryKeyRelatedField(queryset=Vehicle.objects.all())
    started_at = serializers.DateTimeField()
    waste_kind = serializers.ChoiceField(choices=WasteKind.choices, default=WasteKind.NONE)
    tonnage = serializers.DecimalField(max_digits=7, decimal_places=2, default=0)
    destination = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DisinfectionHandOverSerializer(serializers.Serializer):
    received_by = serializers.CharField(max_length=50)
    received_unit = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TerminalSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    notified_by = serializers.SlugRelatedField(**USER)
    operator = serializers.SlugRelatedField(**USER)
    posted_by = serializers.SlugRelatedField(**USER)

    class Meta:
        model = Terminal
        fields = [
            "id",
            "case",
            "kind",
            "area",
            "address",
            "team",
            "status",
            "created_at",
            "planned_at",
            "ventilation_minutes",
            "notified_at",
            "notified_by",
            "done_at",
            "operator",
            "disinfectant",
            "concentration",
            "contact_minutes",
            "area_treated_m2",
            "posted_at",
            "posted_by",
            "note",
        ]


class TerminalPlanSerializer(serializers.Serializer):
    case = ScopedPrimaryKeyRelatedField(queryset=Terminal._meta.get_field("case").related_model.objects.all())
    team = ScopedPrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)


class TerminalScheduleSerializer(serializers.Serializer):
    planned_at = serializers.DateTimeField()
    contact_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False, allow_null=True)
    ventilation_minutes = serializers.IntegerField(
        min_value=0, max_value=1440, required=False, allow_null=True
    )


class TerminalRecordSerializer(serializers.Serializer):
    disinfectant = serializers.CharField(max_length=60)
    concentration = serializers.IntegerField(min_value=1, max_value=100_000)
    contact_minutes = serializers.IntegerField(min_value=1, max_value=1440)
    area_treated_m2 = serializers.DecimalField(
        max_digits=10, decimal_places=1, required=False, allow_null=True
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DisinfectionReasonSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200)
