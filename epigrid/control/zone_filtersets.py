"""The risk zones' one filterset (the list page; an API or export of zones would share it)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.control.models import ZONE_LEVEL_LABELS, Zone


class ZoneFilterSet(django_filters.FilterSet):
    area = ScopedAreaFilter(label=_("Area"))
    level = django_filters.ChoiceFilter(choices=list(ZONE_LEVEL_LABELS.items()), label=_("Risk level"))
    status = django_filters.ChoiceFilter(choices=Zone.Status.choices, label=_("Status"))
    # Not lifted yet (in force, or lifting applied for or evaluated): the dashboard's zones by level.
    in_force = django_filters.BooleanFilter(method="filter_in_force", label=_("In force"))

    class Meta:
        model = Zone
        fields = ["area", "level", "status", "in_force"]

    def filter_in_force(self, queryset, name, value):
        if value is None:
            return queryset
        lifted = Zone.Status.LIFTED
        return queryset.exclude(status=lifted) if value else queryset.filter(status=lifted)
