"""One filterset per shops-and-markets list, shared by the pages, the API and the exports."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.markets.models import (
    Baseline,
    Closure,
    Commodity,
    Inspection,
    Outlet,
    PriceAlert,
    ShopStaff,
    WildlifeCheck,
)


def _outlets(request):
    return Outlet.objects.restrict(request.user, "view") if request is not None else Outlet.objects.none()


class OutletFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name, address or operator"))
    kind = django_filters.MultipleChoiceFilter(choices=Outlet.Kind.choices, label=_("Kind"))
    monitored = django_filters.BooleanFilter(label=_("Daily supply report"))
    is_open = django_filters.BooleanFilter(label=_("Open"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Outlet
        fields = ["q", "kind", "monitored", "is_open", "area"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__contains=value) | Q(address__contains=value) | Q(operator__contains=value)
        )


class BaselineFilterSet(django_filters.FilterSet):
    commodity = django_filters.ModelChoiceFilter(queryset=Commodity.objects.all(), label=_("Item"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Baseline
        fields = ["commodity", "area"]


class PriceAlertFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PriceAlert.Status.choices, label=_("Status"))
    kind = django_filters.MultipleChoiceFilter(choices=PriceAlert.Kind.choices, label=_("Kind"))
    commodity = django_filters.ModelChoiceFilter(queryset=Commodity.objects.all(), label=_("Item"))
    outlet = django_filters.ModelChoiceFilter(queryset=_outlets, label=_("Outlet"))
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte", label=_("From"))
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte", label=_("Until"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="outlet__area__path")

    class Meta:
        model = PriceAlert
        fields = ["status", "kind", "commodity", "outlet", "since", "until", "area"]


class ShopStaffFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name or outlet"))
    outlet = django_filters.ModelChoiceFilter(queryset=_outlets, label=_("Outlet"))
    health = django_filters.MultipleChoiceFilter(choices=ShopStaff.Health.choices, label=_("Health status"))
    active = django_filters.BooleanFilter(label=_("Working there"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="outlet__area__path")

    class Meta:
        model = ShopStaff
        fields = ["q", "outlet", "health", "active", "area"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(person__name__startswith=value) | Q(outlet__name__contains=value))


class InspectionFilterSet(django_filters.FilterSet):
    result = django_filters.MultipleChoiceFilter(choices=Inspection.Result.choices, label=_("Result"))
    outlet = django_filters.ModelChoiceFilter(queryset=_outlets, label=_("Outlet"))
    since = django_filters.DateFilter(field_name="inspected_on", lookup_expr="gte", label=_("From"))
    until = django_filters.DateFilter(field_name="inspected_on", lookup_expr="lte", label=_("Until"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="outlet__area__path")

    class Meta:
        model = Inspection
        fields = ["result", "outlet", "since", "until", "area"]


class ClosureFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Closure.Status.choices, label=_("Status"))
    in_force = django_filters.BooleanFilter(method="filter_in_force", label=_("Still closed"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="outlet__area__path")

    class Meta:
        model = Closure
        fields = ["status", "in_force", "area"]

    def filter_in_force(self, queryset, name, value):
        if value is None:
            return queryset
        q = Q(status__in=Closure.OPEN_STATES)
        return queryset.filter(q if value else ~q)


class WildlifeCheckFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Site or species"))
    since = django_filters.DateFilter(field_name="check_date", lookup_expr="gte", label=_("From"))
    until = django_filters.DateFilter(field_name="check_date", lookup_expr="lte", label=_("Until"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = WildlifeCheck
        fields = ["q", "since", "until", "area"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(site__contains=value) | Q(species__contains=value))
