"""One filterset per tracing list, shared by the pages, the exports and the API. Choices come through
`restrict`: a tracer is offered their own teams."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.tracing import services
from epigrid.tracing.models import Case, Cluster, Contact, Team


def _scoped(model):
    def queryset(request):
        return model.objects.restrict(request.user, "view") if request is not None else model.objects.none()

    return queryset


class CaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="person__name", lookup_expr="prefix", label=_("Name"))
    status = django_filters.ChoiceFilter(choices=Case.Status.choices, label=_("Status"))
    classification = django_filters.ChoiceFilter(
        choices=Case.Classification.choices, label=_("Classification")
    )
    team = django_filters.ModelChoiceFilter(queryset=_scoped(Team), label=_("Tracing team"))
    cluster = django_filters.ModelChoiceFilter(queryset=_scoped(Cluster), label=_("Cluster"))
    area = ScopedAreaFilter(label=_("Area"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Past a deadline"))

    class Meta:
        model = Case
        fields = ["q", "status", "classification", "team", "cluster", "area", "overdue"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = services.overdue_cases(queryset, timezone.now()).values("pk")
        return queryset.filter(pk__in=late) if value else queryset.exclude(pk__in=late)


class ContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="person__name", lookup_expr="prefix", label=_("Name"))
    case = django_filters.ModelChoiceFilter(queryset=_scoped(Case), label=_("Case"))
    cluster = django_filters.ModelChoiceFilter(queryset=_scoped(Cluster), label=_("Cluster"))
    contact_class = django_filters.MultipleChoiceFilter(choices=Contact.Class.choices, label=_("Class"))
    status = django_filters.MultipleChoiceFilter(choices=Contact.Status.choices, label=_("Status"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Past a deadline"))
    # The case's area: the dashboard's overdue contacts per area link here (decision 0032).
    area = ScopedAreaFilter(label=_("Area"), path_lookup="case__area__path")

    class Meta:
        model = Contact
        fields = ["q", "case", "cluster", "contact_class", "status", "overdue", "area"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = services.overdue_contacts(queryset, timezone.now()).values("pk")
        return queryset.filter(pk__in=late) if value else queryset.exclude(pk__in=late)


class ClusterFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Name"))
    kind = django_filters.ChoiceFilter(choices=Cluster.Kind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Cluster
        fields = ["q", "kind", "area"]


class TeamFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Name"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Team
        fields = ["q", "area"]
