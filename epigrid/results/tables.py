"""The results table (django-tables2; below 576 px the shared template turns rows into cards).
Dates are rendered here: a date column would compile a template for every cell."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from epigrid.results.models import Result, TubeResult

BADGES = {
    Result.NEGATIVE: "text-bg-success",
    Result.POOLED_POSITIVE: "text-bg-danger",
    Result.POSITIVE: "text-bg-danger",
    Result.INVALID: "text-bg-warning",
    Result.PENDING: "text-bg-secondary",
}


def when(value):
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "—"


def result_badge(result, label):
    return format_html('<span class="badge {}">{}</span>', BADGES.get(result, "text-bg-light"), label)


class TubeResultTable(tables.Table):
    tube = tables.Column(
        verbose_name=_("tube"),
        accessor="tube__barcode",
        linkify=lambda record: record.get_absolute_url(),
        order_by=("tube__barcode",),
    )
    point = tables.Column(verbose_name=_("point"), accessor="point__name", order_by=("point__name",))
    lab = tables.Column(verbose_name=_("lab"), accessor="lab__name", order_by=("lab__name",))
    ct = tables.Column(verbose_name=_("Ct (ORF1ab / N)"), empty_values=(), orderable=False)
    turnaround = tables.Column(verbose_name=_("turnaround"), empty_values=(), orderable=False)

    class Meta:
        model = TubeResult
        fields = ["tube", "result", "point", "lab", "ct", "reported_at", "turnaround"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_result(self, record):
        return result_badge(record.result, record.get_result_display())

    def render_ct(self, record):
        if record.ct_orf1ab is None and record.ct_n is None:
            return "—"
        return f"{record.ct_orf1ab or '—'} / {record.ct_n or '—'}"

    def render_reported_at(self, value):
        return when(value)

    def render_turnaround(self, record):
        if record.result == Result.PENDING:
            return "—"
        hours = _("%(h)s h") % {"h": record.turnaround_hours}
        if record.is_late:
            return format_html('{} <span class="badge text-bg-danger">{}</span>', hours, _("late"))
        return hours
