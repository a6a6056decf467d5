from epigrid.audit.filtersets import ObjectChangeFilterSet
from epigrid.audit.models import ObjectChange
from epigrid.audit.tables import ObjectChangeTable, object_type_label, related_labels
from epigrid.core.views import ObjectListView


class ObjectChangeListView(ObjectListView):
    model = ObjectChange
    table_class = ObjectChangeTable
    filterset_class = ObjectChangeFilterSet
    template_name = "audit/objectchange_list.html"
    export_name = "audit"

    def get_queryset(self):
        return super().get_queryset().select_related("content_type")

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        content_type = filterset.form.fields.get("content_type")
        if content_type is not None:  # the model's name, not Django's "App | model"
            content_type.label_from_instance = object_type_label
        return filterset

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        page = getattr(table, "page", None)
        records = [row.record for row in (page.object_list if page else table.rows)]
        # The names of the page's foreign keys in one query per related model.
        table.related = related_labels(records, self.request.user)
        return table
