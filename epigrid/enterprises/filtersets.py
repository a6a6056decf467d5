"""One filterset per list (enterprises, applications, employees, temperatures, PPE), shared by the
pages, the API and the exports."""

import django_filters
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.enterprises import services
from epigrid.enterprises.models import Application, Employee, Enterprise, Phase, PPEStock, TemperatureReading

NO_APPLICATION = "none"
STAGE_CHOICES = [(NO_APPLICATION, _("Not applied")), *Application.Status.choices]


def with_stage(queryset):
    """Enterprises with `stage`: the status of their latest application (the open one while one is
    open: a new one starts only when none is), None without any."""
    latest = Application.objects.filter(enterprise=OuterRef("pk")).order_by("-created_at", "-pk")
    return queryset.annotate(stage=Subquery(latest.values("status")[:1]))


class EnterpriseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name or credit code"))
    kind = django_filters.ChoiceFilter(choices=Enterprise.Kind.choices, label=_("Type"))
    size = django_filters.ChoiceFilter(choices=Enterprise.Size.choices, label=_("Size"))
    phase = django_filters.ModelChoiceFilter(queryset=Phase.objects.all(), label=_("Return phase"))
    stage = django_filters.MultipleChoiceFilter(
        choices=STAGE_CHOICES, method="filter_stage", label=pgettext_lazy("return to work", "Stage")
    )
    ppe_short = django_filters.BooleanFilter(method="filter_ppe_short", label=_("PPE below 3 days"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Enterprise
        fields = ["q", "kind", "size", "phase", "stage", "ppe_short", "area"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__contains=value) | Q(uscc__startswith=value.upper()))

    def filter_stage(self, queryset, name, value):
        if not value:
            return queryset
        queryset = with_stage(queryset)
        q = Q(stage__in=[v for v in value if v != NO_APPLICATION])
        if NO_APPLICATION in value:
            q |= Q(stage__isnull=True)
        return queryset.filter(q)

    def filter_ppe_short(self, queryset, name, value):
        if value is None:
            return queryset
        short = services.ppe_short_q()
        return queryset.filter(short) if value else queryset.exclude(short)


class ApplicationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="enterprise__name", lookup_expr="contains", label=_("Enterprise")
    )
    status = django_filters.MultipleChoiceFilter(choices=Application.Status.choices, label=_("Status"))
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="enterprise__area__path")

    class Meta:
        model = Application
        fields = ["q", "status", "open", "area"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        q = Q(status__in=Application.OPEN)
        return queryset.filter(q) if value else queryset.exclude(q)


class EmployeeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="person__name", lookup_expr="startswith", label=_("Name"))
    enterprise = django_filters.NumberFilter(field_name="enterprise_id", label=_("Enterprise"))
    active = django_filters.BooleanFilter(field_name="is_active", label=_("On the roster"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="enterprise__area__path")

    class Meta:
        model = Employee
        fields = ["q", "enterprise", "active", "area"]


class TemperatureFilterSet(django_filters.FilterSet):
    enterprise = django_filters.NumberFilter(field_name="employee__enterprise_id", label=_("Enterprise"))
    employee = django_filters.NumberFilter(field_name="employee_id", label=_("Employee"))
    fever = django_filters.BooleanFilter(field_name="fever", label=_("Fever"))
    day = django_filters.DateFilter(field_name="measured_at", lookup_expr="date", label=_("Day"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="employee__enterprise__area__path")

    class Meta:
        model = TemperatureReading
        fields = ["enterprise", "employee", "fever", "day", "area"]


class PPEStockFilterSet(django_filters.FilterSet):
    enterprise = django_filters.NumberFilter(field_name="enterprise_id", label=_("Enterprise"))
    item = django_filters.ChoiceFilter(choices=PPEStock.Item.choices, label=_("Item"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="enterprise__area__path")

    class Meta:
        model = PPEStock
        fields = ["enterprise", "item", "area"]
