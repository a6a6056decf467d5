from rest_framework import serializers

from epigrid.areas.models import Area
from epigrid.core.api import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from epigrid.people.models import Person
from epigrid.tracing.models import Case, Cluster, Contact, Team, TrajectoryEntry


class TeamSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")
    members = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "area", "members"]


class ClusterSerializer(serializers.ModelSerializer):
    area = ScopedSlugRelatedField(slug_field="code", queryset=Area.objects.all(), scope_action="view")

    class Meta:
        model = Cluster
        fields = ["id", "name", "kind", "place", "started_on", "area", "notes"]


class CaseSerializer(serializers.ModelSerializer):
    """A case: the person by id and name (their ID number is never part of a case's answer)."""

    person_name = serializers.CharField(source="person.name", read_only=True)
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    protocol = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lookback_from = serializers.DateField(read_only=True)
    source_case = serializers.IntegerField(source="source_contact.case_id", read_only=True, default=None)

    class Meta:
        model = Case
        fields = [
            "id",
            "person",
            "person_name",
            "area",
            "team",
            "classification",
            "status",
            "protocol",
            "cluster",
            "onset_date",
            "sampled_on",
            "positive_at",
            "reported_at",
            "trajectory_done_at",
            "report_done_at",
            "lookback_from",
            "source_contact",
            "source_case",
            "key_person",
            "notes",
        ]
        read_only_fields = fields


class OpenCaseSerializer(serializers.Serializer):
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all(), scope_action="view")
    classification = serializers.ChoiceField(choices=Case.Classification.choices, default="confirmed")
    sampled_on = serializers.DateField()
    positive_at = serializers.DateTimeField()
    onset_date = serializers.DateField(required=False, allow_null=True)
    team = ScopedPrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    cluster = ScopedPrimaryKeyRelatedField(queryset=Cluster.objects.all(), required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class MarkSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=["reported", "trajectory", "report"])


class StopSerializer(serializers.ModelSerializer):
    cluster = ScopedPrimaryKeyRelatedField(queryset=Cluster.objects.all(), required=False, allow_null=True)

    class Meta:
        model = TrajectoryEntry
        fields = [
            "id",
            "case",
            "date",
            "time_from",
            "time_to",
            "stayed_home",
            "place",
            "address",
            "venue",
            "transport",
            "transport_number",
            "carriage",
            "seat",
            "activity",
            "duration_minutes",
            "cluster",
            "public",
        ]
        read_only_fields = ["id", "case"]


class ContactSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    became_case = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "case",
            "person",
            "person_name",
            "contact_class",
            "setting",
            "closeness",
            "last_contact",
            "via",
            "stop",
            "cluster",
            "status",
            "proposed_by",
            "identified_at",
            "controlled_at",
            "key_person",
            "note",
            "became_case",
        ]
        read_only_fields = fields

    def get_became_case(self, obj) -> int | None:
        cases = list(obj.became_cases.all())  # prefetched by the viewsets
        return cases[0].pk if cases else None


class AddContactSerializer(serializers.Serializer):
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all(), scope_action="view")
    contact_class = serializers.ChoiceField(choices=Contact.Class.choices, default="close")
    setting = serializers.ChoiceField(choices=Contact.Setting.choices, default="other")
    closeness = serializers.ChoiceField(choices=Contact.Closeness.choices, default="close")
    last_contact = serializers.DateField()
    via = ScopedPrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    # A stop has no rights of its own: the service refuses one of another case (the case is in scope).
    stop = serializers.PrimaryKeyRelatedField(
        queryset=TrajectoryEntry.objects.all(), required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class GraphSerializer(serializers.Serializer):
    categories = serializers.ListField(child=serializers.CharField())
    nodes = serializers.ListField(
        child=serializers.ListField(), help_text="[person id, name, category index, x, y, case id or 0]"
    )
    links = serializers.ListField(
        child=serializers.ListField(), help_text="[source person id, target person id]"
    )
    counts = serializers.DictField(child=serializers.IntegerField())
    timeline = serializers.DictField()
