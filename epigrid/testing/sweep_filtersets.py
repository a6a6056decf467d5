"""Filtersets of the sweep pages: exemptions, finds, home-sampling tasks, pre-formed groups and the
missed list. One filterset per list, shared by the page and its export."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.people.filtersets import PersonSearchMixin
from epigrid.people.models import Person
from epigrid.testing.models import (
    Campaign,
    Exemption,
    ExemptionReason,
    Find,
    Group,
    HomeTask,
    SamplingPoint,
    SweepOutcome,
)

NOT_VISITED = "none"


def _campaigns(request):
    if request is None:
        return Campaign.objects.none()
    return Campaign.objects.restrict(request.user, "view")


def _home_teams(request):
    if request is None:
        return SamplingPoint.objects.none()
    # A team is named, not personal data: every home team of the rounds the user sees.
    return SamplingPoint.objects.filter(is_home_team=True, campaign__in=_campaigns(request).values("pk"))


class CampaignFilter(django_filters.ModelChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", _campaigns)
        kwargs.setdefault("label", _("Testing round"))
        super().__init__(*args, **kwargs)


class ExemptionFilterSet(PersonSearchMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    campaign = CampaignFilter()
    area = ScopedAreaFilter(label=_("Area"))
    reason = django_filters.MultipleChoiceFilter(choices=ExemptionReason.choices, label=_("Reason"))

    class Meta:
        model = Exemption
        fields = ["q", "campaign", "area", "reason"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(person__in=self.search(Person.objects.all(), value).values("pk"))


class FindFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name"), field_name="name", lookup_expr="startswith")
    campaign = CampaignFilter()
    area = ScopedAreaFilter(label=_("Area"))
    status = django_filters.ChoiceFilter(choices=Find.Status.choices, label=_("Status"))

    class Meta:
        model = Find
        fields = ["q", "campaign", "area", "status"]


class HomeTaskFilterSet(PersonSearchMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    campaign = CampaignFilter()
    area = ScopedAreaFilter(label=_("Area"))
    team = django_filters.ModelChoiceFilter(queryset=_home_teams, label=_("Home-sampling team"))
    status = django_filters.ChoiceFilter(choices=HomeTask.Status.choices, label=_("Status"))

    class Meta:
        model = HomeTask
        fields = ["q", "campaign", "area", "team", "status"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(person__in=self.search(Person.objects.all(), value).values("pk"))


class GroupFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Group code"), field_name="code", lookup_expr="startswith")
    campaign = CampaignFilter()
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Group
        fields = ["q", "campaign", "area"]


class MissedFilterSet(PersonSearchMixin, django_filters.FilterSet):
    """Narrows the missed list (services.missed): a name, the last visit's outcome."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    visit = django_filters.ChoiceFilter(
        label=_("Last visit"),
        choices=[(NOT_VISITED, _("Not visited yet")), *SweepOutcome.choices],
        method="filter_visit",
    )

    class Meta:
        model = Person
        fields = ["q", "visit"]

    def filter_q(self, queryset, name, value):
        return self.search(queryset, value)

    def filter_visit(self, queryset, name, value):
        # `last_outcome` is annotated by the missed list's view (sweep_views.missed_queryset).
        if value == NOT_VISITED:
            return queryset.filter(last_outcome__isnull=True)
        return queryset.filter(Q(last_outcome=value))
