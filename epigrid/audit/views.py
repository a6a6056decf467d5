from epigrid.audit.filtersets import ObjectChangeFilterSet
from epigrid.audit.models import ObjectChange
from epigrid.audit.tables import ObjectChangeTable
from epigrid.core.views import ObjectListView


class ObjectChangeListView(ObjectListView):
    model = ObjectChange
    table_class = ObjectChangeTable
    filterset_class = ObjectChangeFilterSet
    template_name = "audit/objectchange_list.html"
    export_name = "audit"

    def get_queryset(self):
        return super().get_queryset().select_related("content_type")
