"""One filterset for items, shared by the list page, "my items", the API and the export."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.supervision import services
from epigrid.supervision.models import Category, FoundBy, Item


def _responsible_choices(request):
    """The persons responsible for items the user sees (not every user of the city)."""
    if request is None:
        return get_user_model().objects.none()
    seen = Item.objects.restrict(request.user).filter(responsible__isnull=False).values("responsible")
    return get_user_model().objects.filter(pk__in=seen).order_by("username")


class ItemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Problem"))
    status = django_filters.MultipleChoiceFilter(choices=Item.Status.choices, label=_("Status"))
    open = django_filters.BooleanFilter(method="filter_open", label=pgettext_lazy("supervision", "Open"))
    category = django_filters.ChoiceFilter(
        choices=Category.choices, label=pgettext_lazy("supervision", "Category")
    )
    found_by = django_filters.ChoiceFilter(choices=FoundBy.choices, label=_("Found by"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    escalated = django_filters.BooleanFilter(method="filter_escalated", label=_("Escalated to us"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("My items"))
    area = ScopedAreaFilter(label=_("Area"))
    responsible = django_filters.ModelChoiceFilter(
        queryset=_responsible_choices, label=_("Responsible person")
    )
    raised_after = django_filters.DateFilter(
        field_name="raised_at", lookup_expr="date__gte", label=_("Raised from")
    )
    raised_before = django_filters.DateFilter(
        field_name="raised_at", lookup_expr="date__lte", label=_("Raised until")
    )

    class Meta:
        model = Item
        fields = [
            "q",
            "status",
            "open",
            "category",
            "found_by",
            "overdue",
            "escalated",
            "mine",
            "area",
            "responsible",
            "raised_after",
            "raised_before",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.lstrip("#").isdigit():
            return queryset.filter(Q(pk=int(value.lstrip("#"))) | Q(title__contains=value))
        return queryset.filter(title__contains=value)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        is_open = Q(status__in=Item.OPEN)
        return queryset.filter(is_open) if value else queryset.exclude(is_open)

    def filter_overdue(self, queryset, name, value):
        # Live: an item past its deadline is overdue before the escalation command has run.
        if value is None:
            return queryset
        late = services.overdue_q()
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_escalated(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value is None or user is None:
            return queryset
        here = services.escalated_to_user_q(user) & Q(status__in=Item.OPEN)
        return queryset.filter(here) if value else queryset.exclude(here)

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value is None or user is None:
            return queryset
        return queryset.filter(responsible=user) if value else queryset.exclude(responsible=user)
