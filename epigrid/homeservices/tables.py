"""Tables of the board and the register (below 576 px the shared template turns rows into cards)."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.homeservices.models import ProactiveCheck, ServiceRequest, SpecialCare

STATUS_BADGES = {
    ServiceRequest.Status.NEW: "text-bg-warning",
    ServiceRequest.Status.ASSIGNED: "text-bg-info",
    ServiceRequest.Status.IN_PROGRESS: "text-bg-primary",
    ServiceRequest.Status.DONE: "text-bg-secondary",
    ServiceRequest.Status.CONFIRMED: "text-bg-success",
    ServiceRequest.Status.CANCELLED: "text-bg-light",
}
URGENCY_BADGES = {
    "urgent": "text-bg-danger",
    "high": "text-bg-warning",
    "normal": "text-bg-light",
    "low": "text-bg-light",
}


def status_badge(request):
    return format_html(
        '<span class="badge {}" data-testid="status">{}</span>',
        STATUS_BADGES.get(request.status, ""),
        request.get_status_display(),
    )


def urgency_badge(request):
    return format_html(
        '<span class="badge {}">{}</span>',
        URGENCY_BADGES.get(request.urgency, ""),
        request.get_urgency_display(),
    )


def deadline_badge(request, now=None):
    due = timezone.localtime(request.due_at).strftime("%m-%d %H:%M")
    if request.is_overdue(now):
        return format_html(
            '<span class="text-danger fw-bold" data-testid="deadline">{}</span> '
            '<span class="badge text-bg-danger" data-testid="overdue">{}</span>',
            due,
            _("overdue"),
        )
    return format_html('<span data-testid="deadline">{}</span>', due)


def person_name(user):
    return (user.get_full_name() or user.get_username()) if user else "—"


def household_label(household):
    return f"{household.area.full_label()} {household.address}"


class ServiceRequestTable(tables.Table):
    id = tables.Column(verbose_name=gettext_lazy("no."), linkify=lambda record: record.get_absolute_url())
    kind = tables.Column(linkify=lambda record: record.get_absolute_url())
    summary = tables.Column(verbose_name=gettext_lazy("details"), accessor="pk", orderable=False)
    household = tables.Column(order_by=("area__path", "household_id"))
    urgency = tables.Column()
    due_at = tables.Column()
    status = tables.Column()
    assignee = tables.Column(order_by=("assignee__username",))

    class Meta:
        model = ServiceRequest
        fields = ["id", "kind", "summary", "household", "urgency", "due_at", "status", "assignee"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_summary(self, record):
        text = record.summary or record.description
        return (text[:80] + "…") if len(text) > 80 else text

    def render_household(self, record):
        return household_label(record.household)

    def render_urgency(self, record):
        return urgency_badge(record)

    def render_due_at(self, record):
        return deadline_badge(record)

    def render_status(self, record):
        if record.additions:
            return format_html(
                '{} <span class="badge text-bg-light" data-testid="additions">+{}</span>',
                status_badge(record),
                record.additions,
            )
        return status_badge(record)

    def render_assignee(self, value):
        return person_name(value)


class SpecialCareTable(tables.Table):
    id = tables.Column(verbose_name=gettext_lazy("no."), linkify=lambda record: record.get_absolute_url())
    group = tables.Column(linkify=lambda record: record.get_absolute_url())
    person = tables.Column(order_by=("person__name_key",))
    household = tables.Column(order_by=("area__path", "household_id"))
    schedule = tables.Column(
        verbose_name=gettext_lazy("due date or treatment"), accessor="pk", orderable=False
    )
    active = tables.BooleanColumn()

    class Meta:
        model = SpecialCare
        fields = ["id", "group", "person", "household", "schedule", "visit_every_days", "active"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_person(self, value):
        return value.name

    def render_household(self, record):
        return household_label(record.household)

    def render_schedule(self, record):
        if record.due_date:
            return record.due_date.isoformat()
        if record.treatment_days:
            time = record.treatment_time.strftime("%H:%M") if record.treatment_time else ""
            return f"{record.hospital} {_('weekdays')} {record.treatment_days} {time}".strip()
        return "—"


class ProactiveCheckTable(tables.Table):
    day = tables.Column()
    kind = tables.Column()
    group = tables.Column(accessor="care__group", verbose_name=gettext_lazy("group"))
    person = tables.Column(accessor="care__person__name", verbose_name=gettext_lazy("person"))
    household = tables.Column(accessor="care__household", order_by=("area__path",))
    outcome = tables.Column()
    actions = tables.TemplateColumn(
        template_name="homeservices/_check_actions.html", verbose_name=gettext_lazy("record"), orderable=False
    )

    class Meta:
        model = ProactiveCheck
        fields = ["day", "kind", "group", "person", "household", "outcome", "actions"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_group(self, record):
        return record.care.get_group_display()

    def render_household(self, record):
        return household_label(record.care.household)
