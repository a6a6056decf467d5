from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from epigrid.areas.models import Area, Household
from epigrid.core import identity
from epigrid.core.api import ModelCleanMixin, ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from epigrid.people.models import Person, Tag


@extend_schema_field(serializers.CharField(help_text="Full value on input; masked in every response."))
class MaskedCharField(serializers.CharField):
    """Takes the full value on input and answers with the masked form, so no response (list,
    detail or the echo of a write) carries full personal data; only /reveal/ does, logged."""

    def __init__(self, *, masked_attr, **kwargs):
        self.masked_attr = masked_attr
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return getattr(instance, self.masked_attr)


class PersonSerializer(ModelCleanMixin, serializers.ModelSerializer):
    """A person. Document number and phone are masked in responses (full values only through
    /reveal/); sex and birth date are read from the resident ID."""

    url = serializers.HyperlinkedIdentityField(view_name="person-detail")
    doc_number = MaskedCharField(masked_attr="masked_doc_number", max_length=32)
    phone = MaskedCharField(masked_attr="masked_phone", max_length=32, required=False, allow_blank=True)
    area = ScopedSlugRelatedField(
        slug_field="code",
        queryset=Area.objects.all(),
        required=False,
        help_text="Area code; taken from the household when one is given.",
    )
    household = ScopedPrimaryKeyRelatedField(
        queryset=Household.objects.all(), allow_null=True, required=False
    )
    tags = serializers.SlugRelatedField(
        slug_field="code", queryset=Tag.objects.all(), many=True, required=False
    )
    birth_year = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="From the resident ID; the full date only through /reveal/.",
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "url",
            "doc_type",
            "doc_number",
            "name",
            "sex",
            "birth_year",
            "phone",
            "residence_type",
            "area",
            "household",
            "tags",
            "notes",
            "merged_into",
            "created",
            "last_updated",
        ]
        # Derived from the resident ID (Person.fill_derived_fields); merges go through /merge/.
        read_only_fields = ["sex", "merged_into"]
        # The document's uniqueness is answered by the view with 409 (scope-aware), not with
        # a 400 from an unscoped uniqueness query.
        validators = []

    def validate(self, attrs):
        if self.instance is not None:
            self._keep_identity(attrs)
        household = attrs["household"] if "household" in attrs else getattr(self.instance, "household", None)
        if household is not None:
            if "area" in attrs and attrs["area"] != household.area:
                raise serializers.ValidationError(
                    {"area": _("The area follows the household; leave it out or give the household's grid.")}
                )
            attrs["area"] = household.area
        elif self.instance is None and not attrs.get("area"):
            raise serializers.ValidationError({"area": _("Choose the person's grid or household.")})
        return super().validate(attrs)

    def _keep_identity(self, attrs):
        """On update the document is fixed (a wrong one is fixed by merging records), and masked
        values sent back unchanged (GET then PUT) mean "keep"."""
        person = self.instance
        for field, masked in (("doc_type", None), ("doc_number", person.masked_doc_number)):
            if field not in attrs:
                continue
            value = attrs.pop(field)
            if value not in (getattr(person, field), masked) and identity.normalise_text(value) != getattr(
                person, field
            ):
                raise serializers.ValidationError(
                    {field: _("The document cannot be changed; merge the records instead.")}
                )
        if person.phone and attrs.get("phone") == person.masked_phone:
            del attrs["phone"]


class PersonConflictSerializer(serializers.Serializer):
    """409: the document is already registered."""

    detail = serializers.CharField()
    existing = serializers.URLField(
        required=False, help_text="The registered record; only when it lies in your scope."
    )


class RevealRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True)


class RevealedSerializer(serializers.Serializer):
    doc_number = serializers.CharField()
    phone = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)


class MergeSerializer(serializers.Serializer):
    duplicate = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.filter(merged_into__isnull=True), scope_action="change"
    )
    reason = serializers.CharField(min_length=2, max_length=500)
