"""Tables of the assistance pages (below 576 px the shared template turns rows into cards)."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.assistance.models import AssistPerson, AssistRequest

RESULT_BADGES = {
    AssistPerson.Status.PENDING: "text-bg-warning",
    AssistPerson.Status.FOUND: "text-bg-success",
    AssistPerson.Status.NO_SUCH_PERSON: "text-bg-secondary",
    AssistPerson.Status.LEFT: "text-bg-secondary",
    AssistPerson.Status.NOT_TRACED: "text-bg-info",
}


def _hours_minutes():
    return _("%(h)d h %(m)d min"), _("%(m)d min")


def remaining(delta):
    """“5 h 20 min” of a timedelta (its absolute value)."""
    minutes = int(abs(delta.total_seconds()) // 60)
    hours, minutes = divmod(minutes, 60)
    with_hours, without = _hours_minutes()
    return with_hours % {"h": hours, "m": minutes} if hours else without % {"m": minutes}


def deadline_clock(request, now=None):
    """The deadline with the time left or overdue; clock.js keeps it ticking in the browser."""
    now = now or timezone.now()
    due = timezone.localtime(request.due_at)
    if request.status != AssistRequest.Status.OPEN:
        when = request.answered_at and timezone.localtime(request.answered_at)
        late = when is not None and when > due
        text = _("answered %(at)s") % {"at": when.strftime("%m-%d %H:%M")} if when else _("answered")
        badge = "text-bg-danger" if late else "text-bg-success"
        return format_html('<span class="badge {}" data-testid="deadline">{}</span>', badge, text)
    left = request.due_at - now
    overdue = left.total_seconds() < 0
    text = (
        _("overdue by %(t)s") % {"t": remaining(left)}
        if overdue
        else _("%(t)s left") % {"t": remaining(left)}
    )
    with_hours, without = _hours_minutes()
    return format_html(
        '<span class="badge {}" data-testid="deadline" data-due="{}" data-left="{}" data-overdue="{}"'
        ' data-hm="{}" data-m="{}">{}</span> <small class="text-muted">{}</small>',
        "text-bg-danger" if overdue else "text-bg-warning",
        request.due_at.isoformat(),
        _("%(t)s left"),
        _("overdue by %(t)s"),
        with_hours,
        without,
        text,
        due.strftime("%m-%d %H:%M"),
    )


def result_badge(row):
    return format_html(
        '<span class="badge {}" data-testid="result">{}</span>',
        RESULT_BADGES.get(row.status, ""),
        row.get_status_display(),
    )


class AssistRequestTable(tables.Table):
    reference = tables.Column(linkify=lambda record: record.get_absolute_url())
    received_at = tables.Column()
    deadline = tables.Column(verbose_name=gettext_lazy("deadline"), empty_values=(), order_by=("due_at",))
    progress = tables.Column(verbose_name=gettext_lazy("answered"), empty_values=(), orderable=False)
    area = tables.Column(verbose_name=gettext_lazy("receiving area"), order_by=("area__path",))

    class Meta:
        model = AssistRequest
        fields = [
            "reference",
            "requester",
            "in_province",
            "received_at",
            "deadline",
            "progress",
            "area",
            "status",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_received_at(self, value):
        return timezone.localtime(value).strftime("%m-%d %H:%M")

    def render_deadline(self, record):
        return deadline_clock(record)

    def render_progress(self, record):
        return f"{record.answered}/{record.total}"

    def render_area(self, value):
        return value.name


class AssistPersonTable(tables.Table):
    number = tables.Column(verbose_name=gettext_lazy("no."))
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    doc_number = tables.Column(verbose_name=gettext_lazy("document number"), orderable=False)
    request = tables.Column(verbose_name=gettext_lazy("assistance request"), accessor="request__reference")
    deadline = tables.Column(
        verbose_name=gettext_lazy("deadline"), empty_values=(), order_by=("request__due_at",)
    )
    area = tables.Column(verbose_name=gettext_lazy("assigned to"), order_by=("area__path",))
    status = tables.Column(verbose_name=gettext_lazy("result"))

    class Meta:
        model = AssistPerson
        fields = ["number", "name", "doc_number", "category", "request", "deadline", "area", "status"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_doc_number(self, record):
        return record.masked_doc_number

    def render_deadline(self, record):
        return deadline_clock(record.request)

    def render_area(self, value):
        return value.full_label()

    def render_status(self, record):
        return result_badge(record)
