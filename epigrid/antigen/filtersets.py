"""One filterset per antigen list, shared by the page, the API and the export."""

import django_filters
from django.utils.translation import gettext_lazy as _

from epigrid.antigen.models import AntigenFollowUp, AntigenReport, AntigenRound, KitDistribution, Result
from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.people.filtersets import PersonSearchMixin
from epigrid.people.models import Person


def _rounds(request):
    if request is None:
        return AntigenRound.objects.none()
    return AntigenRound.objects.restrict(request.user, "view")


class RoundFilter(django_filters.ModelChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", _rounds)
        kwargs.setdefault("label", _("Antigen round"))
        super().__init__(*args, **kwargs)


class AntigenRoundFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name"), field_name="name", lookup_expr="contains")
    area = ScopedAreaFilter(label=_("Organised by"))

    class Meta:
        model = AntigenRound
        fields = ["q", "area"]


class KitDistributionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Building"), field_name="household__building__name", lookup_expr="startswith"
    )
    round = RoundFilter()
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = KitDistribution
        fields = ["q", "round", "area"]


class AntigenReportFilterSet(PersonSearchMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    round = RoundFilter()
    area = ScopedAreaFilter(label=_("Area"))
    result = django_filters.MultipleChoiceFilter(choices=Result.choices, label=_("Result"))
    retest = django_filters.BooleanFilter(
        label=_("Retest requested"), method="filter_retest", widget=django_filters.widgets.BooleanWidget()
    )

    class Meta:
        model = AntigenReport
        fields = ["q", "round", "area", "result", "retest"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(person__in=self.search(Person.objects.all(), value).values("pk"))

    def filter_retest(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(result=Result.INVALID) if value else queryset.exclude(result=Result.INVALID)


class AntigenFollowUpFilterSet(PersonSearchMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    status = django_filters.MultipleChoiceFilter(choices=AntigenFollowUp.Status.choices, label=_("Status"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = AntigenFollowUp
        fields = ["q", "status", "area"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(person__in=self.search(Person.objects.all(), value).values("pk"))
