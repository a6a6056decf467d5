from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core import identity
from epigrid.core.api import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from epigrid.isolation import services
from epigrid.isolation.models import Reading, Room, Site, Stay, WasteHandover
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
            "daily_rate",
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
    nights = serializers.SerializerMethodField(help_text="Nights so far: the day of leaving does not count.")
    fee = serializers.SerializerMethodField(help_text="nights × the site's daily rate (null without a rate).")

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
            "payer",
            "employer",
            "nights",
            "fee",
            "home_step",
            "home_received_at",
            "from_hospital",
        ]
        read_only_fields = ["payer", "employer", "home_step", "home_received_at", "from_hospital"]

    def get_nights(self, obj) -> int:
        return services.nights(obj.checked_in_at, obj.checked_out_at)

    def get_fee(self, obj) -> Decimal | None:
        return services.stay_fee(obj)

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


class CheckOutSerializer(StayMoveSerializer):
    early_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Required to leave before the centralized step's planned end: it is released early.",
    )


class PayerSerializer(serializers.Serializer):
    payer = serializers.ChoiceField(choices=Stay.Payer.choices)
    employer = serializers.CharField(required=False, allow_blank=True, max_length=100)


class TestResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=[(v, v) for v in services.TEST_RESULTS])


class TransferSerializer(StayMoveSerializer):
    room = ScopedPrimaryKeyRelatedField(queryset=Room.objects.all())


class ToHospitalSerializer(serializers.Serializer):
    # Not required here: the service's refusal ("say which hospital and why") is the answer.
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Which hospital, and why (required)."
    )


class BackFromHospitalSerializer(StayMoveSerializer):
    room = ScopedPrimaryKeyRelatedField(
        queryset=Room.objects.all(), help_text="A free room, at this site or another the caller allocates at."
    )


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


class WasteHandoverSerializer(serializers.ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all(), scope_action="view")
    handed_over_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = WasteHandover
        fields = [
            "id",
            "site",
            "handed_over_at",
            "bags",
            "weight_kg",
            "company",
            "collector_name",
            "handed_over_by",
            "staff_signed_at",
            "collector_signed_at",
            "note",
        ]
        read_only_fields = ["handed_over_by", "staff_signed_at", "collector_signed_at"]
        extra_kwargs = {"handed_over_at": {"required": False}}
