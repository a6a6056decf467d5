import django_tables2 as tables
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from epigrid.audit.models import ObjectChange
from epigrid.core.identity import mask_document, mask_phone, mask_text

# The log keeps true values; the page masks personal fields like every other list.
_MASKERS = {"doc_number": mask_document, "doc_number_rev": lambda v: "****", "phone": mask_phone}


def masked(data):
    """Before/after data with personal data masked at any depth: the personal fields by name, and
    numbers inside any other text (an export's filters carry what was typed in the search box)."""
    return _mask(data or {})


def _mask(value, key=None):
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    if isinstance(value, str):
        return _MASKERS[key](value) if key in _MASKERS else mask_text(value)
    return value


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

    def render_reason(self, value):
        return mask_text(value)

    def render_object_repr(self, value):
        return mask_text(value)

    def render_changes(self, record):
        before, after = masked(record.prechange_data), masked(record.postchange_data)
        keys = sorted(set(before) | set(after))
        return format_html_join(
            "",
            "<div><code>{}</code>: {} → {}</div>",
            ((k, before.get(k, ""), after.get(k, "")) for k in keys),
        )
