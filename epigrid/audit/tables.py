import django_tables2 as tables
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from epigrid.audit.models import ObjectChange
from epigrid.core.identity import mask_document, mask_phone

# The log keeps true values; the page masks personal fields like every other list.
_MASKERS = {"doc_number": mask_document, "doc_number_rev": lambda v: "****", "phone": mask_phone}


def masked(data):
    return {
        k: (_MASKERS[k](v) if k in _MASKERS and isinstance(v, str) else v) for k, v in (data or {}).items()
    }


class ObjectChangeTable(tables.Table):
    time = tables.DateTimeColumn(format="Y-m-d H:i:s")
    content_type = tables.Column(verbose_name=_("object type"))
    changes = tables.Column(verbose_name=_("changes"), empty_values=(), orderable=False)

    class Meta:
        model = ObjectChange
        fields = [
            "time",
            "user_name",
            "source",
            "action",
            "content_type",
            "object_id",
            "object_repr",
            "changes",
            "reason",
            "request_id",
        ]
        attrs = {"class": "table table-sm table-striped small"}

    def render_changes(self, record):
        before, after = masked(record.prechange_data), masked(record.postchange_data)
        keys = sorted(set(before) | set(after))
        return format_html_join(
            "",
            "<div><code>{}</code>: {} → {}</div>",
            ((k, before.get(k, ""), after.get(k, "")) for k in keys),
        )
