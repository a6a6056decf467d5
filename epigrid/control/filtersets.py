import django_filters
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.control.models import (
    Category,
    CheckIn,
    ControlMeasure,
    KeyPerson,
    MeasureKind,
    Source,
    TestRecord,
)
from epigrid.people.filtersets import PersonSearchMixin


class KeyPersonFilterSet(PersonSearchMixin, django_filters.FilterSet):
    """The key-person ledger's one filterset: list page, API and export."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    area = ScopedAreaFilter(label=_("Area"))
    category = django_filters.MultipleChoiceFilter(choices=Category.choices, label=_("Category"))
    source = django_filters.ChoiceFilter(choices=Source.choices, label=_("Source"))
    status = django_filters.ChoiceFilter(choices=KeyPerson.Status.choices, label=_("Status"))
    identified_after = django_filters.DateFilter(
        field_name="identified_on", lookup_expr="gte", label=_("Identified from")
    )
    identified_before = django_filters.DateFilter(
        field_name="identified_on", lookup_expr="lte", label=_("Identified until")
    )
    # The step an entry is in now (in progress or in hospital): the dashboard's "by measure" and
    # "ending today" figures link here, so the ledger can show the same rows (decision 0032).
    measure = django_filters.ChoiceFilter(
        choices=MeasureKind.choices, method="filter_measure", label=_("Current measure")
    )
    measure_ends = django_filters.DateFilter(method="filter_measure_ends", label=_("Current measure ends on"))

    class Meta:
        model = KeyPerson
        fields = [
            "q",
            "area",
            "category",
            "source",
            "status",
            "identified_after",
            "identified_before",
            "measure",
            "measure_ends",
        ]

    def filter_q(self, queryset, name, value):
        from epigrid.people.models import Person

        return queryset.filter(person__in=self.search(Person.objects.all(), value).values("pk"))

    def _current_steps(self, queryset, **lookups):
        # A subquery, not a join: an entry is one row however many of its steps match.
        steps = ControlMeasure.objects.filter(status__in=CURRENT_STEP, **lookups).values("key_person_id")
        return queryset.filter(pk__in=steps)

    def filter_measure(self, queryset, name, value):
        return self._current_steps(queryset, kind=value) if value else queryset

    def filter_measure_ends(self, queryset, name, value):
        return self._current_steps(queryset, planned_end=value) if value else queryset


# A step a person is in now: started, or interrupted by a hospital stay.
# Matching the partial indexes measure_current_kind / measure_current_end (control.models).
CURRENT_STEP = ["active", "hospitalized"]


class ControlMeasureFilterSet(django_filters.FilterSet):
    area = ScopedAreaFilter(label=_("Area"), path_lookup="key_person__area__path")
    kind = django_filters.ChoiceFilter(choices=MeasureKind.choices, label=_("Measure"))
    status = django_filters.MultipleChoiceFilter(choices=ControlMeasure.Status.choices, label=_("Status"))
    ends_before = django_filters.DateFilter(field_name="planned_end", lookup_expr="lte", label=_("Ends by"))

    class Meta:
        model = ControlMeasure
        fields = ["area", "kind", "status", "ends_before"]


class CheckInFilterSet(django_filters.FilterSet):
    measure = django_filters.NumberFilter(field_name="measure_id", label=_("Measure"))
    key_person = django_filters.NumberFilter(field_name="measure__key_person_id", label=_("Key person"))

    class Meta:
        model = CheckIn
        fields = ["measure", "key_person"]


class TestRecordFilterSet(django_filters.FilterSet):
    # A number, not a choice of every measure: a choice filter answers 400 for an id that does
    # not exist and an empty 200 for one out of scope, which tells the two apart (issue 7).
    measure = django_filters.NumberFilter(field_name="measure_id", label=_("Measure"))

    class Meta:
        model = TestRecord
        fields = ["measure", "day", "result"]
