"""Tables of the transport pages (django-tables2; below 576 px the shared template turns rows into
cards). Dates are rendered here: a date column would compile a template for every cell."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from epigrid.transport.models import Box, Lab


def when(value):
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "—"


class BoxTable(tables.Table):
    barcode = tables.Column(linkify=lambda record: record.get_absolute_url())
    point = tables.Column(verbose_name=_("point"), accessor="point__name", order_by=("point__name",))
    lab = tables.Column(verbose_name=_("lab"), accessor="lab__name", order_by=("lab__name",))
    tubes = tables.Column(verbose_name=_("tubes"), empty_values=(), orderable=False)
    due_at = tables.Column(verbose_name=_("due at the lab"))
    deadline = tables.Column(verbose_name=_("on time"), empty_values=(), orderable=False)
    picked_up_by = tables.Column(verbose_name=_("courier"), accessor="picked_up_by__username")
    received_at = tables.Column(verbose_name=_("received"))

    class Meta:
        model = Box
        fields = [
            "barcode",
            "status",
            "point",
            "lab",
            "tubes",
            "due_at",
            "deadline",
            "picked_up_by",
            "received_at",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_tubes(self, record):
        # Annotated by the list view (one grouped count, not a query per row).
        if record.tube_count is not None:
            return record.tube_count
        return getattr(record, "packed", "—")

    def render_due_at(self, value):
        return when(value)

    def render_received_at(self, value):
        return when(value)

    def render_deadline(self, record):
        if record.due_at is None or record.status == Box.Status.DISCARDED:
            return "—"
        if record.is_late():
            return format_html('<span class="badge text-bg-danger">{}</span>', _("late"))
        if record.status == Box.Status.RECEIVED:
            return format_html('<span class="badge text-bg-success">{}</span>', _("on time"))
        return format_html('<span class="badge text-bg-secondary">{}</span>', _("on its way"))


class LabTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(verbose_name=_("filed under"), order_by=("area__path",))

    class Meta:
        model = Lab
        fields = ["name", "code", "address", "area", "is_active"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.name
