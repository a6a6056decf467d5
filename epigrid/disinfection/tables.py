"""Tables of the lists (below 576 px the shared template turns rows into cards)."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from epigrid.disinfection.models import Round, Rule, Site, Task, Team, Terminal, Trip, Vehicle

ATTRS = {"class": "table table-sm table-hover align-middle"}


def user_name(user):
    return (user.get_full_name() or user.get_username()) if user else "—"


def when(value):
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "—"


def coverage_bar(due, done):
    pct = round(100 * done / due) if due else 0
    return format_html(
        '<span class="text-nowrap" data-testid="coverage">{} / {} <span class="badge {}">{}%</span></span>',
        done,
        due,
        "text-bg-success" if due and done == due else "text-bg-secondary",
        pct,
    )


class AreaColumn(tables.Column):
    def __init__(self, **kwargs):
        kwargs.setdefault("order_by", ("area__path",))
        super().__init__(**kwargs)

    def render(self, value):
        return value.full_label()


class TeamTable(tables.Table):
    name = tables.Column(linkify=True)
    area = AreaColumn()
    leader = tables.Column()

    class Meta:
        model = Team
        fields = ["name", "area", "leader", "members", "active"]
        attrs = ATTRS

    def render_leader(self, value):
        return user_name(value)


class SiteTable(tables.Table):
    name = tables.Column(linkify=True)
    area = AreaColumn()

    class Meta:
        model = Site
        fields = ["name", "site_type", "area", "building", "size_m2", "active"]
        attrs = ATTRS


class RuleTable(tables.Table):
    site_type = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = AreaColumn()

    class Meta:
        model = Rule
        fields = [
            "site_type",
            "zone_level",
            "per_day",
            "area",
            "team",
            "disinfectant",
            "concentration",
            "active",
        ]
        attrs = ATTRS

    def render_zone_level(self, record):
        return record.get_zone_level_display()


class RoundTable(tables.Table):
    round = tables.Column(
        accessor="pk", verbose_name=_("round"), linkify=lambda record: record.get_absolute_url()
    )
    area = AreaColumn()
    coverage = tables.Column(accessor="pk", verbose_name=_("coverage"), orderable=False)

    class Meta:
        model = Round
        fields = ["round", "date", "period", "site_type", "zone_level", "area", "team", "coverage"]
        attrs = ATTRS

    def render_round(self, record):
        return str(record)

    def render_zone_level(self, record):
        return record.get_zone_level_display()

    def render_coverage(self, record):
        due, done = getattr(record, "counts", (0, 0))
        return coverage_bar(due, done)


class TaskTable(tables.Table):
    site = tables.Column(linkify=lambda record: record.get_absolute_url(), order_by=("site__name",))
    area = AreaColumn()
    done_at = tables.Column()
    operator = tables.Column()

    class Meta:
        model = Task
        fields = [
            "site",
            "area",
            "status",
            "done_at",
            "operator",
            "disinfectant",
            "concentration",
            "contact_minutes",
        ]
        attrs = ATTRS

    def render_done_at(self, value):
        return when(value)

    def render_operator(self, value):
        return user_name(value)


class VehicleTable(tables.Table):
    plate = tables.Column(linkify=True)
    area = AreaColumn()

    class Meta:
        model = Vehicle
        fields = ["plate", "kind", "area", "team", "active"]
        attrs = ATTRS


class TripTable(tables.Table):
    started_at = tables.Column(linkify=lambda record: record.get_absolute_url())
    vehicle = tables.Column(order_by=("vehicle__plate",))
    handed_by = tables.Column()
    handed_at = tables.Column()

    class Meta:
        model = Trip
        fields = [
            "started_at",
            "vehicle",
            "waste_kind",
            "tonnage",
            "destination",
            "handed_by",
            "handed_at",
            "received_by",
        ]
        attrs = ATTRS

    def render_started_at(self, value):
        return when(value)

    def render_handed_at(self, value):
        return when(value)

    def render_handed_by(self, value):
        return user_name(value)


class TerminalTable(tables.Table):
    address = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = AreaColumn()

    class Meta:
        model = Terminal
        fields = ["address", "kind", "case_label", "area", "team", "status", "created_at"]
        attrs = ATTRS

    def render_created_at(self, value):
        return when(value)
