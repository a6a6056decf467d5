"""One filterset per pass model, shared by the list pages, the API and the export."""

import django_filters
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.passes.models import HouseholdPass, PassUse


class HouseholdPassFilterSet(django_filters.FilterSet):
    room = django_filters.CharFilter(field_name="household__room", lookup_expr="startswith", label=_("Room"))
    kind = django_filters.MultipleChoiceFilter(choices=HouseholdPass.Kind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(choices=HouseholdPass.Status.choices, label=_("Status"))
    area = ScopedAreaFilter(label=_("Area"))
    zone = django_filters.NumberFilter(field_name="zone", label=_("Zone"))
    household = django_filters.NumberFilter(field_name="household", label=_("Household"))

    class Meta:
        model = HouseholdPass
        fields = ["room", "kind", "status", "area", "zone", "household"]


class PassUseFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="person__name", lookup_expr="startswith", label=_("Name"))
    direction = django_filters.ChoiceFilter(choices=PassUse.Direction.choices, label=_("Direction"))
    outcome = django_filters.ChoiceFilter(choices=PassUse.Outcome.choices, label=_("Outcome"))
    reason = django_filters.ChoiceFilter(choices=PassUse.Reason.choices, label=_("Reason"))
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("To"))
    household_pass = django_filters.NumberFilter(field_name="household_pass", label=_("Pass"))
    checkpoint = django_filters.NumberFilter(field_name="checkpoint", label=_("Checkpoint"))

    class Meta:
        model = PassUse
        fields = ["name", "direction", "outcome", "reason", "since", "until", "household_pass", "checkpoint"]
