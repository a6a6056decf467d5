"""One filterset per checkpoint list, shared by the pages, the exports and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.checkpoints.models import Checkpoint, Decision, Direction, Passage, Shift, VehicleCheck


def _checkpoints(request):
    return (
        Checkpoint.objects.restrict(request.user, "view")
        if request is not None
        else Checkpoint.objects.none()
    )


class CheckpointFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Name"))
    kind = django_filters.ChoiceFilter(choices=Checkpoint.Kind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Checkpoint
        fields = ["q", "kind", "area"]


class PassageFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="person__name", lookup_expr="prefix", label=_("Name"))
    checkpoint = django_filters.ModelChoiceFilter(queryset=_checkpoints, label=_("Checkpoint"))
    day = django_filters.DateFilter(field_name="at", lookup_expr="date", label=_("Day"))
    direction = django_filters.ChoiceFilter(choices=Direction.choices, label=_("Direction"))
    decision = django_filters.MultipleChoiceFilter(choices=Decision.choices, label=_("Decision"))
    origin_risk = django_filters.MultipleChoiceFilter(
        choices=Passage.OriginRisk.choices, label=_("Origin risk")
    )
    handed = django_filters.BooleanFilter(
        field_name="handed_to", lookup_expr="isnull", exclude=True, label=_("Handed to a community")
    )
    overridden = django_filters.BooleanFilter(
        method="filter_overridden", label=_("Decision differs from the suggestion")
    )

    class Meta:
        model = Passage
        fields = ["q", "checkpoint", "day", "direction", "decision", "origin_risk", "handed", "overridden"]

    def filter_overridden(self, queryset, name, value):
        from django.db.models import F

        if value is None:
            return queryset
        return (
            queryset.exclude(decision=F("suggested")) if value else queryset.filter(decision=F("suggested"))
        )


class VehicleFilterSet(django_filters.FilterSet):
    plate = django_filters.CharFilter(field_name="plate", lookup_expr="contains", label=_("Plate"))
    checkpoint = django_filters.ModelChoiceFilter(queryset=_checkpoints, label=_("Checkpoint"))
    day = django_filters.DateFilter(field_name="at", lookup_expr="date", label=_("Day"))
    kind = django_filters.ChoiceFilter(choices=VehicleCheck.Kind.choices, label=_("Vehicle kind"))

    class Meta:
        model = VehicleCheck
        fields = ["plate", "checkpoint", "day", "kind"]


class ShiftFilterSet(django_filters.FilterSet):
    checkpoint = django_filters.ModelChoiceFilter(queryset=_checkpoints, label=_("Checkpoint"))
    day = django_filters.DateFilter(label=_("Day"))

    class Meta:
        model = Shift
        fields = ["checkpoint", "day"]
