"""The one filterset of lab results: the list page, its export and the API share it. Choices come
through `restrict`: a lab is offered its own rounds, a street its own points."""

import datetime

import django_filters
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.core.identity import normalise_text
from epigrid.results.models import Result, TubeResult
from epigrid.testing.models import Campaign
from epigrid.transport.models import Lab


def _results(request):
    user = getattr(request, "user", None)
    return TubeResult.objects.restrict(user, "view") if request is not None else TubeResult.objects.none()


def _campaigns(request):
    # The rounds of the results the user sees: a lab sees results, not the rounds' pages.
    return Campaign.objects.filter(pk__in=_results(request).values("campaign_id")).order_by("-starts_at")


def _labs(request):
    return Lab.objects.filter(pk__in=_results(request).values("lab_id"))


class TubeResultFilterSet(django_filters.FilterSet):
    barcode = django_filters.CharFilter(method="filter_barcode", label=_("Tube barcode"))
    campaign = django_filters.ModelChoiceFilter(queryset=_campaigns, label=_("Testing round"))
    lab = django_filters.ModelChoiceFilter(queryset=_labs, label=_("Lab"))
    result = django_filters.MultipleChoiceFilter(choices=Result.choices, label=_("Result"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="point__area__path")
    late = django_filters.BooleanFilter(method="filter_late", label=_("Late"))
    # Reported on a day (the dashboard's "positives today" links here, decision 0032).
    reported_on = django_filters.DateFilter(method="filter_reported_on", label=_("Reported on"))

    class Meta:
        model = TubeResult
        fields = ["barcode", "campaign", "lab", "result", "area", "late", "reported_on"]

    def filter_reported_on(self, queryset, name, value):
        if not value:
            return queryset
        start, end = day_range(value)
        return queryset.filter(reported_at__gte=start, reported_at__lt=end)

    def filter_barcode(self, queryset, name, value):
        code = normalise_text(value)
        return queryset.filter(tube__barcode=code) if code else queryset

    def filter_late(self, queryset, name, value):
        if value is None:
            return queryset
        final = queryset.exclude(result=Result.PENDING)
        return (
            final.filter(reported_at__gt=F("due_at")) if value else final.filter(reported_at__lte=F("due_at"))
        )


def day_range(day):
    """[start, end) of a local calendar day: an index-friendly range instead of `__date`."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)
