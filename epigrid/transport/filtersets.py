"""One filterset per model of the transport pages (the list pages, the export and the API share
them). Choices come through `restrict`: a sampler is offered their own points, a lab its boxes'
rounds."""

import datetime

import django_filters
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.core.identity import normalise_text
from epigrid.core.widgets import AutocompleteSelect
from epigrid.testing.models import Campaign, SamplingPoint
from epigrid.transport.models import Box, BoxTube, Lab


def _user(request):
    return getattr(request, "user", None)


def _boxes(request):
    return Box.objects.restrict(_user(request), "view") if request is not None else Box.objects.none()


def _campaigns(request):
    # Rounds the user's boxes belong to: couriers and labs see boxes, not the rounds' pages.
    return Campaign.objects.filter(pk__in=_boxes(request).values("campaign_id")).order_by("-starts_at")


def _points(request):
    return SamplingPoint.objects.filter(pk__in=_boxes(request).values("point_id"))


def _labs(request):
    return Lab.objects.restrict(_user(request), "view") if request is not None else Lab.objects.none()


class BoxFilterSet(django_filters.FilterSet):
    barcode = django_filters.CharFilter(method="filter_barcode", label=_("Barcode"))
    campaign = django_filters.ModelChoiceFilter(queryset=_campaigns, label=_("Testing round"))
    status = django_filters.MultipleChoiceFilter(choices=Box.Status.choices, label=_("Status"))
    lab = django_filters.ModelChoiceFilter(queryset=_labs, label=_("Lab"))
    point = django_filters.ModelChoiceFilter(
        queryset=_points, label=_("Sampling point"), widget=AutocompleteSelect("testing.samplingpoint")
    )
    area = ScopedAreaFilter(label=_("Area"), path_lookup="point__area__path")
    late = django_filters.BooleanFilter(method="filter_late", label=_("Late"))
    # Boxes due at the lab on a day: the dashboard's punctuality today (on time / late) links here.
    due_on = django_filters.DateFilter(method="filter_due_on", label=_("Due on"))

    class Meta:
        model = Box
        fields = ["barcode", "campaign", "status", "lab", "point", "area", "late", "due_on"]

    def filter_due_on(self, queryset, name, value):
        if not value:
            return queryset
        start = timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
        return queryset.filter(due_at__gte=start, due_at__lt=start + datetime.timedelta(days=1))

    def filter_barcode(self, queryset, name, value):
        code = normalise_text(value)
        if not code:
            return queryset
        # A box's barcode, or a tube's: which box is tube X in?
        return queryset.filter(
            Q(barcode=code) | Q(pk__in=BoxTube.objects.filter(barcode=code).values("box_id"))
        )

    def filter_late(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        late = Q(status=Box.Status.RECEIVED, received_at__gt=F("due_at")) | Q(
            status__in=Box.IN_USE, due_at__lt=now
        )
        return queryset.filter(late) if value else queryset.exclude(late)


class LabFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    area = ScopedAreaFilter(label=_("Area"))
    is_active = django_filters.BooleanFilter(label=_("Receiving boxes"))

    class Meta:
        model = Lab
        fields = ["q", "area", "is_active"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__contains=value) | Q(code__startswith=normalise_text(value)))
