import django_filters
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.retests.models import Kind, PoolFollowUp, RetestTask, ZoneProposal


class PoolFollowUpFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Tube"), field_name="tube__barcode", lookup_expr="startswith")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(choices=PoolFollowUp.Status.choices, label=_("Status"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = PoolFollowUp
        fields = ["q", "kind", "status", "area"]


class RetestTaskFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name"), field_name="name", lookup_expr="startswith")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(choices=RetestTask.Status.choices, label=_("Status"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = RetestTask
        fields = ["q", "kind", "status", "area"]


class ZoneProposalFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ZoneProposal.Status.choices, label=_("Status"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = ZoneProposal
        fields = ["status", "area"]
