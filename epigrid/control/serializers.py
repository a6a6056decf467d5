import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from epigrid.areas.models import Area, Building, Level
from epigrid.control import plans
from epigrid.control.models import (
    ZONE_LEVEL_LABELS,
    CheckIn,
    ControlMeasure,
    HandOver,
    KeyPerson,
    TestRecord,
    Zone,
)
from epigrid.core.api import ModelCleanMixin, ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from epigrid.people.models import Person

TEMPERATURE_MIN, TEMPERATURE_MAX = Decimal("34.0"), Decimal("43.0")
# Check-ins taken "now" on a phone whose clock runs a little ahead are not refused.
CLOCK_SKEW = datetime.timedelta(minutes=5)


class MeasureStepSerializer(serializers.ModelSerializer):
    """One step of an entry's plan, as listed with the entry."""

    url = serializers.HyperlinkedIdentityField(view_name="controlmeasure-detail")
    # Plain text here: the status enum is documented once, on /measures/.
    status = serializers.CharField(read_only=True, help_text="The step's status, as on /measures/.")

    class Meta:
        model = ControlMeasure
        fields = [
            "id",
            "url",
            "sequence",
            "kind",
            "status",
            "start",
            "planned_end",
            "ended_on",
            "test_dates",
            "temps_per_day",
        ]
        read_only_fields = fields


class KeyPersonSerializer(ModelCleanMixin, serializers.ModelSerializer):
    """An entry of the key-person ledger. The person's document and phone are masked; the plan
    (measures) comes from the active protocol when the entry is registered and is read-only here.
    Category, responsible area, person and the plan's anchor date are fixed once registered: a
    change would re-plan (or, for the area, is a hand-over through /handover/)."""

    url = serializers.HyperlinkedIdentityField(view_name="keyperson-detail")
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.filter(merged_into__isnull=True))
    person_name = serializers.CharField(source="person.name", read_only=True)
    person_doc_number = serializers.CharField(
        source="person.masked_doc_number",
        read_only=True,
        help_text="Masked; full value through /persons/{id}/reveal/.",
    )
    person_phone = serializers.CharField(source="person.masked_phone", read_only=True, help_text="Masked.")
    area = ScopedSlugRelatedField(
        slug_field="code",
        queryset=Area.objects.all(),
        required=False,
        help_text="Responsible area code; the person's area when left out.",
    )
    protocol = serializers.SlugRelatedField(slug_field="code", read_only=True)
    measures = MeasureStepSerializer(many=True, read_only=True)
    assistance_deadline = serializers.DateTimeField(read_only=True, allow_null=True)
    already_registered = serializers.SerializerMethodField(
        help_text="True only in the answer to a registration that found the person's open entry (200)."
    )

    class Meta:
        model = KeyPerson
        fields = [
            "id",
            "url",
            "person",
            "person_name",
            "person_doc_number",
            "person_phone",
            "area",
            "category",
            "source",
            "status",
            "protocol",
            "identified_on",
            "last_exposure",
            "arrival",
            "discharge",
            "origin",
            "transport",
            "assistance_received_at",
            "assistance_in_province",
            "assistance_cleared_at",
            "assistance_deadline",
            "street_cadre",
            "community_cadre",
            "grid_worker",
            "doctor",
            "police",
            "notes",
            "measures",
            "created",
            "last_updated",
            "already_registered",
        ]
        read_only_fields = ["status", "protocol", "assistance_cleared_at", "created", "last_updated"]
        # One open entry per person is answered by the view (search before create), not by a 400.
        validators = []

    def validate(self, attrs):
        entry = self.instance
        if entry is not None:
            fixed = {
                "person": _("An entry stays with its person; register the other person instead."),
                "category": _("A category change re-plans the measures; it cannot be changed here."),
                "area": _("Hand the entry over (/handover/) to move it to another area."),
            }
            anchor = plans.anchor_of(entry.protocol.rules, entry.category)
            anchor_field = "identified_on" if anchor == "identified" else anchor
            fixed[anchor_field] = _(
                "The plan counts from this date; a change re-plans the measures and cannot be made here."
            )
            errors = {
                field: [message]
                for field, message in fixed.items()
                if field in attrs and attrs[field] != getattr(entry, field)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().validate(attrs)

    @extend_schema_field(serializers.BooleanField())
    def get_already_registered(self, entry):
        return bool(self.context.get("already_registered"))


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ReleaseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AreaCodeField(serializers.SlugRelatedField):
    """An area by its code; a code with characters no code has (a NUL byte, which PostgreSQL
    refuses in text) is an invalid code, not a server error."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.isalnum():
            self.fail("invalid")
        return super().to_internal_value(data)


class HandOverSerializer(serializers.Serializer):
    # Any community or grid: the person moved, possibly out of the sender's scope (then the
    # receiving area accepts or returns the request: control.services.hand_over).
    area = AreaCodeField(
        slug_field="code",
        queryset=Area.objects.filter(level__gte=Level.COMMUNITY),
        help_text="Code of the receiving community or grid.",
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ControlMeasureSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="controlmeasure-detail")
    key_person = serializers.HyperlinkedRelatedField(view_name="keyperson-detail", read_only=True)
    person_name = serializers.CharField(source="key_person.person.name", read_only=True)
    person_doc_number = serializers.CharField(
        source="key_person.person.masked_doc_number", read_only=True, help_text="Masked."
    )
    protocol = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ControlMeasure
        fields = [
            "id",
            "url",
            "key_person",
            "person_name",
            "person_doc_number",
            "protocol",
            "sequence",
            "kind",
            "status",
            "start",
            "planned_end",
            "ended_on",
            "test_dates",
            "temps_per_day",
            "created",
            "last_updated",
        ]
        read_only_fields = fields


class ExtendSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=60)
    reason = serializers.CharField(max_length=500)


class ReleaseEarlySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CheckInSerializer(serializers.ModelSerializer):
    """A temperature check with symptoms. The measure is fixed once recorded."""

    url = serializers.HyperlinkedIdentityField(view_name="checkin-detail")
    measure = ScopedPrimaryKeyRelatedField(queryset=ControlMeasure.objects.all())
    taken_at = serializers.DateTimeField(required=False, help_text="Now when left out.")
    temperature = serializers.DecimalField(max_digits=3, decimal_places=1, help_text="°C, 34.0 to 43.0.")
    is_fever = serializers.BooleanField(read_only=True)
    is_abnormal = serializers.BooleanField(read_only=True, help_text="A fever or a symptom: to handle.")
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    handled_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "url",
            "measure",
            "taken_at",
            "temperature",
            "symptoms",
            "is_fever",
            "is_abnormal",
            "follow_up",
            "outcome",
            "follow_up_note",
            "handled_by",
            "handled_at",
            "recorded_by",
            "created",
        ]
        # Handling goes through /handle/ (control.services.handle_abnormal), never a PATCH.
        read_only_fields = ["created", "follow_up", "outcome", "follow_up_note", "handled_at"]

    def validate_temperature(self, value):
        if not TEMPERATURE_MIN <= value <= TEMPERATURE_MAX:
            raise serializers.ValidationError(_("A body temperature lies between 34.0 and 43.0 °C."))
        return value

    def validate_taken_at(self, value):
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError(_("The time of the check is in the future."))
        return value

    def validate_measure(self, measure):
        if self.instance is not None:
            if measure != self.instance.measure:
                raise serializers.ValidationError(_("A check-in stays with its measure."))
            return measure
        if measure.status not in ControlMeasure.OPEN:
            raise serializers.ValidationError(
                _("This measure is over; no more check-ins are recorded for it.")
            )
        return measure

    def create(self, validated_data):
        request = self.context.get("request")
        validated_data.setdefault("taken_at", timezone.now())
        validated_data["recorded_by"] = getattr(request, "user", None)
        return super().create(validated_data)


class TestRecordSerializer(serializers.ModelSerializer):
    """A test taken on a day of a measure. Posting the same measure and day again updates its
    result (a retried request, or the result arriving later) instead of adding a record."""

    url = serializers.HyperlinkedIdentityField(view_name="testrecord-detail")
    measure = ScopedPrimaryKeyRelatedField(queryset=ControlMeasure.objects.all())
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TestRecord
        fields = ["id", "url", "measure", "day", "result", "recorded_by", "created", "last_updated"]
        read_only_fields = ["created", "last_updated"]
        validators = []  # (measure, day) repeats update the record: see create()

    def _record(self, measure, day, result):
        from django.core.exceptions import ValidationError as DjangoValidationError

        from epigrid.control import services

        request = self.context.get("request")
        try:
            return services.record_test(measure, day, result, getattr(request, "user", None))
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"day": exc.messages}) from None

    def create(self, validated_data):
        return self._record(validated_data["measure"], validated_data["day"], validated_data["result"])

    def update(self, instance, validated_data):
        return self._record(instance.measure, instance.day, validated_data.get("result", instance.result))


class HandOverRequestSerializer(serializers.ModelSerializer):
    """A hand-over waiting for (or answered by) the receiving area."""

    url = serializers.HyperlinkedIdentityField(view_name="handover-detail")
    key_person = serializers.PrimaryKeyRelatedField(read_only=True)
    person_name = serializers.CharField(source="key_person.person.name", read_only=True)
    person_doc_number = serializers.CharField(
        source="key_person.person.masked_doc_number", read_only=True, help_text="Masked."
    )
    category = serializers.CharField(source="key_person.category", read_only=True)
    from_area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_area = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = HandOver
        fields = [
            "id",
            "url",
            "key_person",
            "person_name",
            "person_doc_number",
            "category",
            "from_area",
            "to_area",
            "status",
            "note",
            "answer",
            "requested_at",
        ]
        read_only_fields = fields


class HandOverAnswerSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# -- risk zones ------------------------------------------------------------------------------------


class _DrawableMixin:
    """Areas and buildings where the user may draw zones (control.add_zone), as on the draw page."""

    def get_queryset(self):
        request = self.context.get("request")
        qs = super().get_queryset()
        return qs.restrict(request.user, perm="control.add_zone") if request is not None else qs.none()


class DrawableAreaField(_DrawableMixin, AreaCodeField):
    pass


class DrawableBuildingField(_DrawableMixin, serializers.PrimaryKeyRelatedField):
    pass


class ZoneSerializer(serializers.ModelSerializer):
    """A risk zone on an area, or on one building (and one unit) inside it. Drawing (POST) uses
    the active protocol; afterwards only the rules text changes here: new cases and the lifting
    steps are the actions (/case/, /apply/, /evaluate/, /approve/)."""

    url = serializers.HyperlinkedIdentityField(view_name="zone-detail")
    area = DrawableAreaField(slug_field="code", queryset=Area.objects.all(), help_text="Area code.")
    area_name = serializers.CharField(
        source="area.full_label", read_only=True, help_text="With its community for a grid."
    )
    building = DrawableBuildingField(queryset=Building.objects.all(), allow_null=True, required=False)
    building_name = serializers.CharField(
        source="building.name", read_only=True, default=None, allow_null=True
    )
    level = serializers.ChoiceField(
        choices=list(ZONE_LEVEL_LABELS), help_text="One of the active protocol's zone levels."
    )
    level_label = serializers.CharField(read_only=True)
    protocol = serializers.SlugRelatedField(slug_field="code", read_only=True)
    case_free_days = serializers.SerializerMethodField(
        help_text="Days without a new case, counted from the last case or, with none, from the "
        "zone's start; null once lifted."
    )
    next_level = serializers.SerializerMethodField(
        help_text="The level an approved lifting leads to; null when days do not count for this level."
    )
    downgrade_from = serializers.SerializerMethodField(
        help_text="First day the street may apply for lifting; null when days do not count."
    )

    class Meta:
        model = Zone
        fields = [
            "id",
            "url",
            "area",
            "area_name",
            "building",
            "building_name",
            "unit",
            "level",
            "level_label",
            "protocol",
            "status",
            "started_on",
            "last_case_on",
            "case_free_days",
            "next_level",
            "downgrade_from",
            "rules_text",
            "created",
            "last_updated",
        ]
        read_only_fields = ["status", "created", "last_updated"]

    FIXED = ("area", "building", "unit", "level", "started_on", "last_case_on")

    def validate_last_case_on(self, day):
        if day and day > timezone.localdate():
            raise serializers.ValidationError(_("This date is in the future."))
        return day

    def validate(self, attrs):
        if self.instance is not None:
            errors = {
                name: [_("Fixed once drawn: record a case or go through the lifting steps instead.")]
                for name in self.FIXED
                if name in attrs and attrs[name] != getattr(self.instance, name)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().validate(attrs)

    def create(self, validated_data):
        from django.core.exceptions import ValidationError as DjangoValidationError

        from epigrid.control import services

        try:
            return services.draw_zone(**validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None

    def _open(self, zone):
        return zone.status != Zone.Status.LIFTED

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_case_free_days(self, zone):
        return zone.case_free_days(timezone.localdate()) if self._open(zone) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_next_level(self, zone):
        return zone.downgrade()[0] if self._open(zone) else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_downgrade_from(self, zone):
        return zone.downgrade()[1] if self._open(zone) else None


class RecordCaseSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="Day of the new case inside the zone.")

    def validate_day(self, day):
        if day > timezone.localdate():
            raise serializers.ValidationError(_("This date is in the future."))
        return day


class LiftingApplySerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class LiftingDecisionSerializer(LiftingApplySerializer):
    """The district's evaluation or the city's approval; a refusal gives its reason."""

    decision = serializers.ChoiceField(choices=["approve", "refuse"])

    def validate(self, attrs):
        if attrs["decision"] == "refuse" and not attrs.get("note", "").strip():
            raise serializers.ValidationError({"note": [_("Give the reason for the refusal.")]})
        return attrs


class HandleAbnormalSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CheckIn.Outcome.choices)
    note = serializers.CharField(max_length=500)
