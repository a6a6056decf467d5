import django_filters

from epigrid.audit.filtersets import ObjectChangeFilterSet
from epigrid.audit.models import ObjectChange
from epigrid.audit.serializers import ObjectChangeSerializer
from epigrid.core.api import ScopedReadOnlyModelViewSet


class ObjectChangeAPIFilterSet(ObjectChangeFilterSet):
    """The audit page's filters plus a single day, the usual question of an API client."""

    date = django_filters.DateFilter(field_name="time", lookup_expr="date")

    class Meta(ObjectChangeFilterSet.Meta):
        fields = [*ObjectChangeFilterSet.Meta.fields, "date"]


class ObjectChangeViewSet(ScopedReadOnlyModelViewSet):
    """The audit log, limited to the user's area subtree; personal fields are masked."""

    queryset = ObjectChange.objects.all()
    serializer_class = ObjectChangeSerializer
    filterset_class = ObjectChangeAPIFilterSet
    select_related = ("content_type",)
