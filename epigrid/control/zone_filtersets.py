"""The risk zones' one filterset (the list page; an API or export of zones would share it)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.control.models import ZONE_LEVEL_LABELS, Zone


class ZoneFilterSet(django_filters.FilterSet):
    area = ScopedAreaFilter(label=_("Area"))
    level = django_filters.ChoiceFilter(choices=list(ZONE_LEVEL_LABELS.items()), label=_("Risk level"))
    status = django_filters.ChoiceFilter(choices=Zone.Status.choices, label=_("Status"))

    class Meta:
        model = Zone
        fields = ["area", "level", "status"]
