"""One filterset per model, shared by the pages, the API and the exports."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.homeservices.kinds import Kind, Urgency
from epigrid.homeservices.models import Group, ProactiveCheck, ServiceRequest, SpecialCare


def _assignee_choices(request):
    if request is None:
        return get_user_model().objects.none()
    seen = ServiceRequest.objects.restrict(request.user).filter(assignee__isnull=False).values("assignee")
    return get_user_model().objects.filter(pk__in=seen).order_by("username")


class ServiceRequestFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Request no."))
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices, label=_("Service"), distinct=False)
    urgency = django_filters.MultipleChoiceFilter(choices=Urgency.choices, label=_("Urgency"), distinct=False)
    status = django_filters.MultipleChoiceFilter(
        choices=ServiceRequest.Status.choices, label=_("Status"), distinct=False
    )
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    area = ScopedAreaFilter(label=_("Area"))
    assignee = django_filters.ModelChoiceFilter(queryset=_assignee_choices, label=_("Assigned to"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Assigned to me"))
    requested_after = django_filters.DateFilter(
        field_name="requested_at", lookup_expr="date__gte", label=_("Requested from")
    )
    requested_before = django_filters.DateFilter(
        field_name="requested_at", lookup_expr="date__lte", label=_("Requested until")
    )

    class Meta:
        model = ServiceRequest
        fields = [
            "q",
            "kind",
            "urgency",
            "status",
            "open",
            "overdue",
            "area",
            "assignee",
            "mine",
            "requested_after",
            "requested_before",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip().lstrip("#")
        return queryset.filter(pk=int(value)) if value.isdigit() else queryset

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        is_open = Q(status__in=ServiceRequest.OPEN)
        return queryset.filter(is_open) if value else queryset.exclude(is_open)

    def filter_overdue(self, queryset, name, value):
        from epigrid.homeservices.services import overdue_q

        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value is None or user is None:
            return queryset
        return queryset.filter(assignee=user) if value else queryset.exclude(assignee=user)


class SpecialCareFilterSet(django_filters.FilterSet):
    group = django_filters.MultipleChoiceFilter(choices=Group.choices, label=_("Group"), distinct=False)
    active = django_filters.BooleanFilter(label=_("Active"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = SpecialCare
        fields = ["group", "active", "area"]


class ProactiveCheckFilterSet(django_filters.FilterSet):
    day = django_filters.DateFilter(label=_("Day"))
    kind = django_filters.ChoiceFilter(choices=ProactiveCheck.Kind.choices, label=_("Kind"))
    done = django_filters.BooleanFilter(
        field_name="done_at", lookup_expr="isnull", exclude=True, label=_("Done")
    )
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = ProactiveCheck
        fields = ["day", "kind", "done", "area"]
