from django.utils.translation import gettext as _
from rest_framework import serializers

from epigrid.areas.models import Area, Building, Household
from epigrid.core.api import ModelCleanMixin, ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from epigrid.people.models import Person


class AreaSerializer(ModelCleanMixin, serializers.ModelSerializer):
    """A node of the area tree; `parent` is the parent's code."""

    url = serializers.HyperlinkedIdentityField(view_name="area-detail")
    parent = ScopedSlugRelatedField(
        slug_field="code", queryset=Area.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Area
        fields = ["id", "url", "code", "name", "level", "parent", "path", "created", "last_updated"]
        read_only_fields = ["path"]


class BuildingSerializer(ModelCleanMixin, serializers.ModelSerializer):
    """A building in a grid; `area` is the grid's code."""

    url = serializers.HyperlinkedIdentityField(view_name="building-detail")
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all())

    class Meta:
        model = Building
        fields = ["id", "url", "area", "name", "address", "created", "last_updated"]


class HouseholdSerializer(ModelCleanMixin, serializers.ModelSerializer):
    """A household: building, unit and room; its grid is always the building's."""

    url = serializers.HyperlinkedIdentityField(view_name="household-detail")
    # Always the building's grid (Household.save); shown for filtering and display only.
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    address = serializers.CharField(read_only=True)
    building = ScopedPrimaryKeyRelatedField(queryset=Building.objects.all())
    contact_person = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Household
        fields = [
            "id",
            "url",
            "area",
            "building",
            "unit",
            "room",
            "address",
            "contact_person",
            "notes",
            "created",
            "last_updated",
        ]
        extra_kwargs = {"unit": {"default": ""}}

    def validate_contact_person(self, person):
        # Same rule as the household form, which offers only the household's members.
        if person is not None and (self.instance is None or person.household_id != self.instance.pk):
            raise serializers.ValidationError(_("The contact person must be a member of this household."))
        return person
