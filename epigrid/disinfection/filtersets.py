"""One filterset per model, shared by the list pages, the API and the exports."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.disinfection.models import (
    ZONE_CHOICES,
    Round,
    Rule,
    Site,
    SiteType,
    Task,
    Team,
    Terminal,
    Trip,
    Vehicle,
    VehicleKind,
    WasteKind,
)


class TeamFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Name"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Team
        fields = ["q", "area", "active"]


class SiteFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Name"))
    site_type = django_filters.MultipleChoiceFilter(choices=SiteType.choices, label=_("Site type"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Site
        fields = ["q", "site_type", "area", "active"]


class RuleFilterSet(django_filters.FilterSet):
    site_type = django_filters.ChoiceFilter(choices=SiteType.choices, label=_("Site type"))
    # "none" stands for the rules of sites under no zone (an empty value means no filter).
    zone_level = django_filters.ChoiceFilter(
        choices=[("none", _("No zone")), *ZONE_CHOICES[1:]], label=_("Zone level"), method="filter_zone"
    )
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Rule
        fields = ["site_type", "zone_level", "area", "active"]

    def filter_zone(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(zone_level="" if value == "none" else value)


class RoundFilterSet(django_filters.FilterSet):
    date = django_filters.DateFilter(label=_("Date"))
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"))
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("Until"))
    site_type = django_filters.ChoiceFilter(choices=SiteType.choices, label=_("Site type"))
    area = ScopedAreaFilter(label=_("Area"))
    team = django_filters.NumberFilter(field_name="team_id", label=_("Team"))

    class Meta:
        model = Round
        fields = ["date", "date_after", "date_before", "site_type", "area", "team"]


class TaskFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="site__name", lookup_expr="contains", label=_("Site"))
    round = django_filters.NumberFilter(field_name="round_id", label=_("Round"))
    date = django_filters.DateFilter(field_name="round__date", label=_("Date"))
    status = django_filters.ChoiceFilter(choices=Task.Status.choices, label=_("Status"))
    site_type = django_filters.ChoiceFilter(
        field_name="site__site_type", choices=SiteType.choices, label=_("Site type")
    )
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Task
        fields = ["q", "round", "date", "status", "site_type", "area"]


class VehicleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="plate", lookup_expr="contains", label=_("Plate"))
    kind = django_filters.ChoiceFilter(choices=VehicleKind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Vehicle
        fields = ["q", "kind", "area", "active"]


class TripFilterSet(django_filters.FilterSet):
    date = django_filters.DateFilter(label=_("Date"))
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"))
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("Until"))
    waste_kind = django_filters.ChoiceFilter(choices=WasteKind.choices, label=_("Load"))
    vehicle = django_filters.NumberFilter(field_name="vehicle_id", label=_("Vehicle"))
    pending = django_filters.BooleanFilter(method="filter_pending", label=_("Not handed over"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Trip
        fields = ["date", "date_after", "date_before", "waste_kind", "vehicle", "pending", "area"]

    def filter_pending(self, queryset, name, value):
        if value is None:
            return queryset
        waiting = Q(handed_at__isnull=True) & ~Q(waste_kind=WasteKind.NONE)
        return queryset.filter(waiting) if value else queryset.exclude(waiting)


class TerminalFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Terminal.Status.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=Terminal.Kind.choices, label=_("Kind"))
    case = django_filters.NumberFilter(field_name="case_id", label=_("Case"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Terminal
        fields = ["status", "kind", "case", "area"]
