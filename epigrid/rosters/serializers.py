"""Serializers of the roster API. Phones are always masked in answers: the full number goes through
the staff page's reveal (with a reason, audited)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core import identity
from epigrid.core.api import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from epigrid.rosters.models import MAX_NEEDED, Assignment, Post, Shift, StaffMember, Team, parse_pattern


class RosterStaffMemberSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, write_only=True)
    masked_phone = serializers.CharField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True, default=None)

    class Meta:
        model = StaffMember
        fields = [
            "id",
            "name",
            "phone",
            "masked_phone",
            "kind",
            "unit",
            "area",
            "username",
            "active_from",
            "active_to",
            "notes",
        ]
        # Search before create is the service's (the same phone in the same area answers that member).
        validators = []

    def validate_phone(self, value):
        try:
            return identity.normalise_phone(value) if value else ""
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class RosterTeamSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    members = ScopedPrimaryKeyRelatedField(many=True, queryset=StaffMember.objects.all(), required=False)
    leader = ScopedPrimaryKeyRelatedField(queryset=StaffMember.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Team
        fields = ["id", "name", "kind", "area", "key_person", "leader", "members", "duties"]
        read_only_fields = ["key_person"]


class RosterPostSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    needed = serializers.IntegerField(min_value=1, max_value=MAX_NEEDED, required=False)

    class Meta:
        model = Post
        fields = [
            "id",
            "name",
            "kind",
            "area",
            "place_type",
            "place_id",
            "place_label",
            "pattern",
            "needed",
            "is_active",
        ]

    def validate_pattern(self, value):
        try:
            parse_pattern(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


class RosterPlanSerializer(serializers.Serializer):
    first_day = serializers.DateField()
    days = serializers.IntegerField(min_value=1, max_value=31, default=7)


class RosterPlanResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    kept = serializers.IntegerField()


class RosterShiftSerializer(serializers.ModelSerializer):
    post_name = serializers.CharField(source="post.name", read_only=True)
    assigned = serializers.IntegerField(read_only=True, help_text="Persons assigned.")
    checked_in = serializers.IntegerField(read_only=True, help_text="Persons checked in (on duty or done).")
    needed = serializers.IntegerField(min_value=1, max_value=MAX_NEEDED, required=False)

    class Meta:
        model = Shift
        fields = ["id", "post", "post_name", "start", "end", "needed", "assigned", "checked_in", "notes"]
        read_only_fields = ["post", "start", "end"]

    def validate_needed(self, value):
        taken = self.instance.assignments.count() if self.instance else 0
        if value < taken:
            raise serializers.ValidationError(f"{taken} persons are already on this shift.")
        return value


class RosterGapSerializer(serializers.Serializer):
    shift = serializers.IntegerField(source="shift.pk")
    post = serializers.IntegerField(source="post.pk")
    post_name = serializers.CharField(source="post.name")
    area = serializers.CharField(source="area.code")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    needed = serializers.IntegerField()
    assigned = serializers.IntegerField()
    absent = serializers.IntegerField()
    gap = serializers.IntegerField()


class RosterGapQuerySerializer(serializers.Serializer):
    area = serializers.CharField(required=False, help_text="Area code (default: your area).")
    start = serializers.DateTimeField(required=False, help_text="Default: now.")
    end = serializers.DateTimeField(required=False, help_text="Default: start + 24 h.")


class RosterAssignmentSerializer(serializers.ModelSerializer):
    shift = ScopedPrimaryKeyRelatedField(queryset=Shift.objects.all())
    staff = ScopedPrimaryKeyRelatedField(queryset=StaffMember.objects.all())
    staff_name = serializers.CharField(source="staff.name", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "shift",
            "staff",
            "staff_name",
            "status",
            "checked_in_at",
            "checked_out_at",
            "late",
            "auto_closed",
            "worked_minutes",
        ]
        read_only_fields = [
            "status",
            "checked_in_at",
            "checked_out_at",
            "late",
            "auto_closed",
            "worked_minutes",
        ]
        # Uniqueness is the service's rule (with its own message), not the serializer's.
        validators = []
