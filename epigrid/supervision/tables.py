"""The items table (below 576 px the shared template turns rows into cards)."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from epigrid.supervision.models import Item

STATUS_BADGES = {
    Item.Status.NEW: "text-bg-warning",
    Item.Status.ASSIGNED: "text-bg-info",
    Item.Status.RECTIFYING: "text-bg-primary",
    Item.Status.SUBMITTED: "text-bg-secondary",
    Item.Status.SIGNED_OFF: "text-bg-success",
    Item.Status.CANCELLED: "text-bg-light",
}


def status_badge(item):
    return format_html(
        '<span class="badge {}" data-testid="status">{}</span>',
        STATUS_BADGES.get(item.status, ""),
        item.get_status_display(),
    )


def deadline_badge(item, now=None):
    """The deadline, red when an open item is past it; an escalated item says where it went."""
    due = timezone.localtime(item.due_at).strftime("%m-%d %H:%M")
    late = item.is_overdue(now)
    parts = [
        format_html(
            '<span class="{}" data-testid="deadline">{}</span>', "text-danger fw-bold" if late else "", due
        )
    ]
    if late:
        parts.append(
            format_html(' <span class="badge text-bg-danger" data-testid="overdue">{}</span>', _("overdue"))
        )
    if item.on_time is False:
        parts.append(format_html(' <span class="badge text-bg-warning">{}</span>', _("late")))
    if item.escalated_to_id and item.is_open:
        parts.append(
            format_html(
                ' <span class="badge text-bg-danger" data-testid="escalated">↑ {}</span>',
                item.escalated_to.name,
            )
        )
    return format_html("{}" * len(parts), *parts)


def person_name(user):
    return (user.get_full_name() or user.get_username()) if user else "—"


class ItemTable(tables.Table):
    id = tables.Column(verbose_name=gettext_lazy("no."), linkify=lambda record: record.get_absolute_url())
    title = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(order_by=("area__path",))
    responsible = tables.Column(order_by=("responsible__username",))
    due_at = tables.Column(verbose_name=pgettext_lazy("supervision", "deadline"))
    status = tables.Column()

    class Meta:
        model = Item
        fields = ["id", "title", "category", "area", "responsible", "due_at", "status"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.full_label()

    def render_responsible(self, value):
        return person_name(value)

    def render_due_at(self, record):
        return deadline_badge(record)

    def render_status(self, record):
        return status_badge(record)
