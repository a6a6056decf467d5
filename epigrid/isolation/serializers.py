from django.utils.translation import gettext as _
from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core import identity
from epigrid.core.api import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from epigrid.isolation.models import Reading, Room, Site, Stay
from epigrid.people.models import Person


class SiteSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    staff = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    # Annotated by the viewset (isolation.services.with_availability): one grouped query a page.
    occupied = serializers.IntegerField(read_only=True, help_text="Persons checked in.")
    allocated = serializers.IntegerField(read_only=True, help_text="Persons allocated, not yet arrived.")
    available = serializers.SerializerMethodField(help_text="capacity − occupied − allocated")
    free_rooms = serializers.IntegerField(read_only=True)

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "kind",
            "area",
            "address",
            "capacity",
            "is_active",
            "staff",
            "occupied",
            "allocated",
            "available",
            "free_rooms",
        ]

    def get_available(self, obj) -> int | None:
        if getattr(obj, "occupied", None) is None:
            return None
        return obj.capacity - obj.occupied - obj.allocated


class AvailabilityRowSerializer(serializers.Serializer):
    site = serializers.IntegerField(source="site.pk")
    name = serializers.CharField(source="site.name")
    capacity = serializers.IntegerField()
    occupied = serializers.IntegerField()
    allocated = serializers.IntegerField()
    available = serializers.IntegerField()
    free_rooms = serializers.IntegerField()


class AvailabilityTotalSerializer(serializers.Serializer):
    capacity = serializers.IntegerField()
    occupied = serializers.IntegerField()
    allocated = serializers.IntegerField()
    available = serializers.IntegerField()
    free_rooms = serializers.IntegerField()


class AvailabilitySerializer(serializers.Serializer):
    sites = AvailabilityRowSerializer(many=True)
    total = AvailabilityTotalSerializer()


class RoomSerializer(serializers.ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all(), scope_action="view")

    class Meta:
        model = Room
        fields = ["id", "site", "number", "floor", "kind", "beds", "status"]
        read_only_fields = ["status"]

    def validate_site(self, site):
        # A room stays in its site (its stays and history are the site's), as on the page.
        if self.instance is not None and site != self.instance.site:
            raise serializers.ValidationError(_("A room cannot move to another site."))
        return site


class RoomMoveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class StaySerializer(serializers.ModelSerializer):
    person_name = serializers.SerializerMethodField()
    person_doc_number = serializers.SerializerMethodField(help_text="Masked.")
    room_number = serializers.CharField(source="room.number", read_only=True)

    class Meta:
        model = Stay
        fields = [
            "id",
            "person",
            "person_name",
            "person_doc_number",
            "measure",
            "site",
            "room",
            "room_number",
            "status",
            "companion_of",
            "allocated_at",
            "checked_in_at",
            "checked_out_at",
            "note",
        ]

    def get_person_name(self, obj) -> str:
        return obj.person.name

    def get_person_doc_number(self, obj) -> str:
        return identity.mask_document(obj.person.doc_number)


class AllocateSerializer(serializers.Serializer):
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.filter(merged_into__isnull=True))
    room = ScopedPrimaryKeyRelatedField(queryset=Room.objects.all())
    key_person = serializers.IntegerField(
        required=False, allow_null=True, help_text="The person's key-person entry (its centralized step)."
    )
    companion_of = ScopedPrimaryKeyRelatedField(queryset=Stay.objects.all(), required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class StayMoveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TransferSerializer(StayMoveSerializer):
    room = ScopedPrimaryKeyRelatedField(queryset=Room.objects.all())


class ReadingSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="stay.person.name", read_only=True)
    room_number = serializers.CharField(source="stay.room.number", read_only=True)
    site = serializers.IntegerField(source="stay.site_id", read_only=True)
    is_fever = serializers.BooleanField(read_only=True, help_text="37.3 °C or more.")

    class Meta:
        model = Reading
        fields = [
            "id",
            "stay",
            "site",
            "person_name",
            "room_number",
            "day",
            "slot",
            "temperature",
            "symptoms",
            "is_fever",
            "recorded_by",
            "recorded_at",
        ]


class RecordReadingSerializer(serializers.Serializer):
    """A check to record: the same stay, day and slot again answers the row already there."""

    stay = ScopedPrimaryKeyRelatedField(queryset=Stay.objects.all())
    # A string, not a decimal field: the range message of services.parse_temperature answers
    # 366 typed for 36.6, not a message about digits.
    temperature = serializers.CharField(max_length=8)
    symptoms = serializers.CharField(required=False, allow_blank=True, max_length=200)
    day = serializers.DateField(required=False, help_text="Today when left out.")
    slot = serializers.ChoiceField(
        choices=Reading.Slot.choices, required=False, help_text="The current one (by the hour) when left out."
    )
