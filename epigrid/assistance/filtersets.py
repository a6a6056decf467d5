"""One filterset per assistance model, shared by the list pages, the API and the reply export."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.control.models import Category


class AssistRequestFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Requester or reference"))
    status = django_filters.MultipleChoiceFilter(choices=AssistRequest.Status.choices, label=_("Status"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    in_province = django_filters.BooleanFilter(label=_("From inside the province"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = AssistRequest
        fields = ["q", "status", "overdue", "in_province", "area"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(requester__contains=value) | Q(reference__contains=value))

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = Q(status=AssistRequest.Status.OPEN, due_at__lt=timezone.now())
        return queryset.filter(late) if value else queryset.exclude(late)


class AssistPersonFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="startswith", label=_("Name"))
    request = django_filters.NumberFilter(field_name="request", label=_("Assistance request"))
    status = django_filters.MultipleChoiceFilter(choices=AssistPerson.Status.choices, label=_("Result"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("Category"))
    pending = django_filters.BooleanFilter(method="filter_pending", label=_("To be traced"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = AssistPerson
        fields = ["q", "request", "status", "category", "pending", "area"]

    def filter_pending(self, queryset, name, value):
        if value is None:
            return queryset
        pending = Q(status=AssistPerson.Status.PENDING)
        return queryset.filter(pending) if value else queryset.exclude(pending)
