"""One filterset per isolation model, shared by the list pages and the API. Choices come through
`restrict`: a site's staff are offered their own sites."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.isolation.models import Reading, Room, Site, Stay, WasteHandover


def _sites(request):
    return Site.objects.restrict(request.user, "view") if request is not None else Site.objects.none()


class SiteFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=Site.Kind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Area"))
    is_active = django_filters.BooleanFilter(label=_("Taking persons"))

    class Meta:
        model = Site
        fields = ["q", "kind", "area", "is_active"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__contains=value) | Q(address__contains=value)) if value else queryset


class RoomFilterSet(django_filters.FilterSet):
    number = django_filters.CharFilter(field_name="number", lookup_expr="startswith", label=_("Room number"))
    site = django_filters.ModelChoiceFilter(queryset=_sites, label=_("Site"))
    status = django_filters.MultipleChoiceFilter(choices=Room.Status.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=Room.Kind.choices, label=_("Kind"))
    floor = django_filters.NumberFilter(label=_("Floor"))
    # The dashboard's free rooms per area link here (decision 0032).
    area = ScopedAreaFilter(label=_("Area"), path_lookup="site__area__path")

    class Meta:
        model = Room
        fields = ["number", "site", "status", "kind", "floor", "area"]


class StayFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="person__name", lookup_expr="startswith", label=_("Name"))
    site = django_filters.ModelChoiceFilter(queryset=_sites, label=_("Site"))
    status = django_filters.MultipleChoiceFilter(choices=Stay.Status.choices, label=_("Status"))
    active = django_filters.BooleanFilter(method="filter_active", label=_("Current"))
    payer = django_filters.ChoiceFilter(choices=Stay.Payer.choices, label=_("Payer"))

    class Meta:
        model = Stay
        fields = ["q", "site", "status", "active", "payer"]

    def filter_active(self, queryset, name, value):
        if value is None:
            return queryset
        current = Q(status__in=Stay.ACTIVE)
        return queryset.filter(current) if value else queryset.exclude(current)


class ReadingFilterSet(django_filters.FilterSet):
    site = django_filters.NumberFilter(field_name="stay__site", label=_("site"))
    fever = django_filters.BooleanFilter(method="filter_fever", label=_("fever"))

    class Meta:
        model = Reading
        fields = ["stay", "site", "day", "slot", "fever"]

    def filter_fever(self, queryset, name, value):
        from epigrid.control.models import FEVER_FROM

        if value is None:
            return queryset
        return (
            queryset.filter(temperature__gte=FEVER_FROM)
            if value
            else queryset.exclude(temperature__gte=FEVER_FROM)
        )


class WasteHandoverFilterSet(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(queryset=_sites, label=_("Site"))
    since = django_filters.DateFilter(field_name="handed_over_at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="handed_over_at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = WasteHandover
        fields = ["site", "since", "until"]
