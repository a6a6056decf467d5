"""Tables of the roster pages (below 576 px the shared template turns rows into cards)."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, pgettext_lazy

from epigrid.rosters.models import Assignment, Post, Shift, StaffMember, Team

STATUS_BADGES = {
    Assignment.Status.PLANNED: "text-bg-secondary",
    Assignment.Status.ON_DUTY: "text-bg-success",
    Assignment.Status.DONE: "text-bg-light",
    Assignment.Status.ABSENT: "text-bg-danger",
}


def status_badge(assignment):
    badge = format_html(
        '<span class="badge {}" data-testid="duty-status">{}</span>',
        STATUS_BADGES.get(assignment.status, ""),
        assignment.get_status_display(),
    )
    if assignment.late:
        badge += format_html(
            ' <span class="badge text-bg-warning" data-testid="late">{}</span>',
            pgettext_lazy("roster", "late"),
        )
    if assignment.auto_closed:
        badge += format_html(
            ' <span class="badge text-bg-warning" data-testid="forgotten">{}</span>',
            gettext_lazy("check-out forgotten"),
        )
    return badge


def span(start, end):
    start, end = timezone.localtime(start), timezone.localtime(end)
    return f"{start:%m-%d %H:%M}–{end:%H:%M}"


class StaffMemberTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    phone = tables.Column(orderable=False)
    area = tables.Column(order_by=("area__path",))

    class Meta:
        model = StaffMember
        fields = ["name", "kind", "unit", "phone", "area", "active_from", "active_to"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_phone(self, record):
        return record.masked_phone

    def render_area(self, value):
        return value.full_label()


class TeamTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(order_by=("area__path",))
    size = tables.Column(verbose_name=gettext_lazy("members"), empty_values=(), orderable=False)

    class Meta:
        model = Team
        fields = ["name", "kind", "area", "size", "duties"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.full_label()

    def render_size(self, record):
        return record.size


class PostTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(order_by=("area__path",))
    pattern = tables.Column(verbose_name=gettext_lazy("shift pattern"), orderable=False)

    class Meta:
        model = Post
        fields = ["name", "kind", "area", "place_label", "pattern", "needed", "is_active"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.full_label()

    def render_pattern(self, record):
        return record.pattern_display


class ShiftTable(tables.Table):
    when = tables.Column(
        verbose_name=gettext_lazy("shift"),
        empty_values=(),
        order_by=("start",),
        linkify=lambda record: record.get_absolute_url(),
    )
    post = tables.Column(order_by=("post__name",))
    staffed = tables.Column(verbose_name=gettext_lazy("assigned"), empty_values=(), orderable=False)

    class Meta:
        model = Shift
        fields = ["when", "post", "staffed", "notes"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_when(self, record):
        return span(record.start, record.end)

    def render_post(self, value):
        return value.name

    def render_staffed(self, record):
        gap = record.needed - record.assigned
        return format_html(
            '<span class="badge {}" data-testid="staffed">{}/{}</span>',
            "text-bg-danger" if gap > 0 else "text-bg-success",
            record.assigned,
            record.needed,
        )


class AssignmentTable(tables.Table):
    when = tables.Column(
        verbose_name=gettext_lazy("shift"),
        empty_values=(),
        order_by=("shift__start",),
        linkify=lambda record: record.get_absolute_url(),
    )
    post = tables.Column(verbose_name=gettext_lazy("post"), accessor="shift__post__name")
    staff = tables.Column(verbose_name=gettext_lazy("staff member"), accessor="staff__name")
    status = tables.Column()
    checked_in_at = tables.Column()
    checked_out_at = tables.Column()

    class Meta:
        model = Assignment
        fields = ["when", "post", "staff", "status", "checked_in_at", "checked_out_at"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_when(self, record):
        return span(record.shift.start, record.shift.end)

    def render_status(self, record):
        return status_badge(record)

    def render_checked_in_at(self, value):
        return timezone.localtime(value).strftime("%m-%d %H:%M")

    def render_checked_out_at(self, value):
        return timezone.localtime(value).strftime("%m-%d %H:%M")
