"""One filterset per model of the round pages (the list pages, their exports and the API share
them). Choices of rounds, points and desks come through `restrict`, so a sampler is offered only
their own posts."""

import datetime

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.core.identity import normalise_text
from epigrid.core.widgets import AutocompleteSelect
from epigrid.testing.models import Campaign, Desk, Kind, SamplingPoint, Tube


def _user(request):
    return getattr(request, "user", None)


def _campaigns(request):
    return (
        Campaign.objects.restrict(_user(request), "view") if request is not None else Campaign.objects.none()
    )


def _points(request):
    if request is None:
        return SamplingPoint.objects.none()
    return SamplingPoint.objects.restrict(_user(request), "view")


def _desks(request):
    """A district has thousands of desks: the page offers those of the chosen point only. A job
    (an export) has no query string and checks the value against every desk the user sees."""
    if request is None:
        return Desk.objects.none()
    desks = Desk.objects.restrict(_user(request), "view").select_related("point")
    query = getattr(request, "GET", None)
    if query is not None:
        point = query.get("point", "")
        desks = desks.filter(point_id=point) if point.isdigit() else desks.none()
    return desks


class CampaignFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=Campaign.Status.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Organised by"))

    class Meta:
        model = Campaign
        fields = ["q", "status", "kind", "area"]


class SamplingPointFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Search"))
    campaign = django_filters.ModelChoiceFilter(queryset=_campaigns, label=_("Testing round"))
    area = ScopedAreaFilter(label=_("Area"))
    is_home_team = django_filters.BooleanFilter(label=_("Home-sampling team"))

    class Meta:
        model = SamplingPoint
        fields = ["q", "campaign", "area", "is_home_team"]


class TubeFilterSet(django_filters.FilterSet):
    barcode = django_filters.CharFilter(method="filter_barcode", label=_("Barcode"))
    campaign = django_filters.ModelChoiceFilter(queryset=_campaigns, label=_("Testing round"))
    point = django_filters.ModelChoiceFilter(
        queryset=_points, label=_("Sampling point"), widget=AutocompleteSelect("testing.samplingpoint")
    )
    desk = django_filters.ModelChoiceFilter(queryset=_desks, label=_("Desk"))
    status = django_filters.ChoiceFilter(choices=Tube.Status.choices, label=_("Status"))
    # The dashboard's "tubes sampled today" links here (decision 0032): where and which day.
    area = ScopedAreaFilter(label=_("Area"), path_lookup="point__area__path")
    opened_on = django_filters.DateFilter(method="filter_opened_on", label=_("Sampled on"))

    class Meta:
        model = Tube
        fields = ["barcode", "campaign", "point", "desk", "status", "area", "opened_on"]

    def filter_opened_on(self, queryset, name, value):
        if not value:
            return queryset
        start = timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
        return queryset.filter(opened_at__gte=start, opened_at__lt=start + datetime.timedelta(days=1))

    def filter_barcode(self, queryset, name, value):
        # Barcodes are stored normalised (upper case, half-width): a typed or scanned code too.
        code = normalise_text(value)
        if not code:
            return queryset
        # The whole code is an indexed equality; part of one (the last digits read off a tube)
        # searches within the tubes the other filters left.
        exact = queryset.filter(barcode=code)
        return exact if exact.exists() else queryset.filter(barcode__contains=code)
