import datetime
from collections import defaultdict

import django_tables2 as tables
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.audit.models import ObjectChange
from epigrid.core.identity import mask_document, mask_phone, mask_text

# The log keeps true values; the page masks personal fields like every other list.
_MASKERS = {
    "doc_number": mask_document,
    "doc_number_rev": lambda v: "****",
    "phone": mask_phone,
    # The birth year only, as everywhere a mask is shown (decision 0015).
    "birth_date": lambda v: v[:4],
}

# Where a change came from (core.context.ChangeContext.source).
SOURCE_LABELS = {
    "web": pgettext_lazy("change source", "Web"),
    "api": pgettext_lazy("change source", "API"),
    "import": pgettext_lazy("change source", "Import"),
    "job": pgettext_lazy("change source", "Background job"),
    "command": pgettext_lazy("change source", "Command"),
    "system": pgettext_lazy("change source", "System"),
}

# Keys of rows that are not field changes (reveals, exports, lookups, merges), and fields the
# models leave unnamed.
KEY_LABELS = {
    "fields": _("fields revealed"),
    "count": _("rows"),
    "filters": _("filters"),
    "unmasked": _("full data"),
    "term": _("searched for"),
    "refused": _("refused"),
    "survivor": _("kept record"),
    "duplicate": _("merged record"),
    "moved": _("references moved"),
    "recorded_by": _("recorded by"),
    "requested_by": _("requested by"),
}
M2M_VERBS = {"added": _("added"), "removed": _("removed"), "cleared": _("cleared")}
# Derived from the document number, which is shown (masked) already.
HIDDEN_KEYS = {"doc_number_rev", "name_key"}
EMPTY = "—"


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


def source_label(source):
    return SOURCE_LABELS.get(source, source)


def object_type_label(content_type):
    """The model's own (translated) name, not Django's "App | model"."""
    model = content_type.model_class()
    return model._meta.verbose_name if model else content_type.model


# -- readable changes -----------------------------------------------------------------------------


def _fields_by_key(model):
    """Logged keys (attnames: `measure_id`; many-to-many by name) → model fields."""
    if model is None:
        return {}
    fields = {f.attname: f for f in model._meta.concrete_fields}
    fields.update((f.name, f) for f in model._meta.many_to_many)
    return fields


def _foreign_keys(change):
    """(related model, id) of every foreign key in the row's data."""
    fields = _fields_by_key(change.content_type.model_class())
    for data in (change.prechange_data or {}, change.postchange_data or {}):
        for key, value in data.items():
            field = fields.get(key)
            if field is not None and field.many_to_one and isinstance(value, int):
                yield field.related_model, value
            elif field is not None and field.many_to_many and isinstance(value, dict):
                for ids in value.values():
                    yield from ((field.related_model, pk) for pk in ids if isinstance(pk, int))
        if change.action == "merge":
            for key in ("survivor", "duplicate"):
                if isinstance(data.get(key), int):
                    yield change.content_type.model_class(), data[key]


def related_labels(changes, user):
    """{(model, id): name} of the objects the page's rows refer to: one query per related model
    whatever the number of rows, and only objects the user may see (others stay #id), but for
    areas, whose names are public."""
    wanted = defaultdict(set)
    for change in changes:
        for model, pk in _foreign_keys(change):
            if model is not None:
                wanted[model].add(pk)
    labels = {}
    for model, ids in wanted.items():
        manager = model._default_manager
        # Models that say their names are public (areas: a hand-over names any area) are not narrowed.
        public = getattr(model, "autocomplete_everywhere", False) or not hasattr(manager, "restrict")
        queryset = manager.all() if public else manager.restrict(user, "view")
        # One level of foreign keys: names such as "第一网格 1号楼" read their container.
        joins = [f.name for f in model._meta.concrete_fields if f.many_to_one]
        for obj in queryset.select_related(*joins).filter(pk__in=ids):
            labels[model, obj.pk] = mask_text(_name(obj))
    return labels


def _name(obj):
    full_label = getattr(obj, "full_label", None)
    return full_label() if callable(full_label) else str(obj)


def readable_changes(change, labels):
    """[(label, before, after)] with field verbose names and values as the pages show them;
    personal data masked (masked()) before anything else reads it."""
    model = change.content_type.model_class()
    fields = _fields_by_key(model)
    before, after = masked(change.prechange_data), masked(change.postchange_data)
    order = {key: index for index, key in enumerate(fields)}
    keys = sorted(set(before) | set(after), key=lambda k: (order.get(k, len(order)), k))
    rows = []
    for key in keys:
        field = fields.get(key)
        if key in HIDDEN_KEYS or (field is not None and field.primary_key):
            continue
        old = _value(change, field, key, before.get(key), labels) if key in before else ""
        new = _value(change, field, key, after.get(key), labels) if key in after else ""
        if change.action != "update" and new in ("", EMPTY) and old in ("", EMPTY):
            continue  # a created or deleted record's empty fields say nothing
        rows.append((_label(field, key), old, new))
    return rows


def _label(field, key):
    if key in KEY_LABELS:
        return KEY_LABELS[key]
    return field.verbose_name if field is not None else key


def _value(change, field, key, value, labels):
    model = change.content_type.model_class()
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "fields" and isinstance(value, list):  # a reveal's field names
        fields = _fields_by_key(model)
        names = {f.name: f for f in fields.values()}
        return "、".join(str(_label(names.get(v), v)) for v in value)
    if key in ("survivor", "duplicate"):
        return labels.get((model, value), f"#{value}")
    if key == "moved" and isinstance(value, dict):
        return "；".join(f"{_reference(where)}: {count}" for where, count in value.items())
    if field is not None and field.many_to_many and isinstance(value, dict):
        return "；".join(
            f"{M2M_VERBS.get(verb, verb)}: "
            + ("、".join(labels.get((field.related_model, pk), f"#{pk}") for pk in ids) or EMPTY)
            for verb, ids in value.items()
        )
    if field is None:
        return _plain(value)
    if field.many_to_one:
        return labels.get((field.related_model, value), f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        return _local_time(value)
    return _plain(value)


def _reference(where):
    """A merge's "control.KeyPerson.person" as the model's and the field's names."""
    label, _dot, name = where.rpartition(".")
    try:
        model = apps.get_model(label)
        return f"{model._meta.verbose_name}·{model._meta.get_field(name).verbose_name}"
    except (LookupError, ValueError, FieldDoesNotExist):
        return where


def _local_time(text):
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "Y-m-d H:i")


def _plain(value):
    if isinstance(value, list | tuple):
        return "、".join(_plain(v) for v in value) or EMPTY
    if isinstance(value, dict):
        return "；".join(f"{k}: {_plain(v)}" for k, v in value.items()) or EMPTY
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return str(value)


class ObjectChangeTable(tables.Table):
    time = tables.Column()
    source = tables.Column()
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

    # {(model, id): name} for the page's foreign keys; the list view fills it (related_labels).
    related = {}

    def render_time(self, value):
        return date_format(timezone.localtime(value), "Y-m-d H:i:s")

    def render_source(self, value):
        return source_label(value)

    def render_content_type(self, value):
        return object_type_label(value)

    def render_reason(self, value):
        return mask_text(value)

    def render_object_repr(self, value):
        return mask_text(value)

    def render_changes(self, record):
        rows = readable_changes(record, self.related)
        if record.action == "update":
            return format_html_join("", "<div>{}: {} → {}</div>", rows)
        return format_html_join(
            "", "<div>{}: {}</div>", ((label, new if new != "" else old) for label, old, new in rows)
        ) or format_html("{}", EMPTY)
