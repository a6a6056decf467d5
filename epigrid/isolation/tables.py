"""Tables of the isolation pages (django-tables2; below 576 px the shared template turns rows into
cards). Dates are rendered here: a date column would compile a template for every cell."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from epigrid.isolation.models import Room, Site, Stay

STATUS_BADGES = {
    Room.Status.FREE: "text-bg-success",
    Room.Status.OCCUPIED: "text-bg-danger",
    Room.Status.CLEANING: "text-bg-warning",
    Room.Status.OUT_OF_SERVICE: "text-bg-secondary",
}


def when(value):
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "—"


def room_badge(room):
    return format_html(
        '<span class="badge {}">{}</span>', STATUS_BADGES.get(room.status, ""), room.get_status_display()
    )


class SiteTable(tables.Table):
    """Availability columns come annotated by the list view (services.with_availability)."""

    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(verbose_name=_("filed under"), order_by=("area__path",))
    available = tables.Column(verbose_name=_("available"), empty_values=(), orderable=False)
    occupied = tables.Column(verbose_name=_("checked in"), orderable=False)
    allocated = tables.Column(verbose_name=_("allocated"), orderable=False)
    free_rooms = tables.Column(verbose_name=_("free rooms"), orderable=False)
    # Annotated by services.with_fevers: persons with a fever reading today.
    fevers = tables.Column(verbose_name=_("fevers today"), orderable=False)
    # Annotated by services.with_tests_due: persons with a protocol test today.
    tests_due = tables.Column(verbose_name=_("tests today"), orderable=False)

    class Meta:
        model = Site
        fields = [
            "name",
            "kind",
            "area",
            "capacity",
            "available",
            "occupied",
            "allocated",
            "free_rooms",
            "fevers",
            "tests_due",
            "is_active",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.name

    def render_fevers(self, value):
        if not value:
            return "0"
        return format_html('<span class="badge text-bg-danger" data-testid="site-fevers">{}</span>', value)

    def render_tests_due(self, value):
        if not value:
            return "0"
        return format_html('<span class="badge text-bg-info" data-testid="site-tests-due">{}</span>', value)

    def render_available(self, record):
        left = record.capacity - record.occupied - record.allocated
        badge = "text-bg-success" if left > 0 else "text-bg-danger"
        return format_html('<span class="badge {}" data-testid="available">{}</span>', badge, left)


class RoomTable(tables.Table):
    number = tables.Column(linkify=lambda record: record.get_absolute_url())
    site = tables.Column(verbose_name=_("site"), accessor="site__name", order_by=("site__name",))
    status = tables.Column(verbose_name=_("status"))

    class Meta:
        model = Room
        fields = ["site", "floor", "number", "kind", "beds", "status"]
        sequence = ["site", "floor", "number", "kind", "beds", "status"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_status(self, record):
        return room_badge(record)


class StayTable(tables.Table):
    person = tables.Column(
        verbose_name=_("person"),
        accessor="person__name",
        order_by=("person__name",),
        linkify=lambda record: record.get_absolute_url(),
    )
    site = tables.Column(verbose_name=_("site"), accessor="site__name", order_by=("site__name",))
    room = tables.Column(verbose_name=_("room"), accessor="room__number", order_by=("room__number",))
    allocated_at = tables.Column(verbose_name=_("allocated"))
    checked_in_at = tables.Column(verbose_name=_("checked in"))
    checked_out_at = tables.Column(verbose_name=_("checked out"))

    class Meta:
        model = Stay
        fields = ["person", "site", "room", "status", "allocated_at", "checked_in_at", "checked_out_at"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_allocated_at(self, value):
        return when(value)

    def render_checked_in_at(self, value):
        return when(value)

    def render_checked_out_at(self, value):
        return when(value)
