"""Tables of the checkpoint pages (django-tables2; cards below 576 px)."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from epigrid.checkpoints.models import Checkpoint, Decision, Passage, Shift, VehicleCheck

DECISION_BADGES = {
    Decision.PASS: "text-bg-success",
    Decision.COMMUNITY: "text-bg-info",
    Decision.TESTING: "text-bg-warning",
    Decision.REFUSE: "text-bg-secondary",
    Decision.ISOLATION: "text-bg-danger",
}


def when(value):
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "—"


def decision_badge(value, label):
    return format_html('<span class="badge {}">{}</span>', DECISION_BADGES.get(value, ""), label)


class CheckpointTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(verbose_name=_("filed under"), order_by=("area__path",))
    today = tables.Column(verbose_name=_("persons today"), orderable=False)

    class Meta:
        model = Checkpoint
        fields = ["name", "kind", "area", "location", "today", "is_active"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.name


class PassageTable(tables.Table):
    at = tables.Column(verbose_name=_("time"), linkify=lambda record: record.get_absolute_url())
    person = tables.Column(verbose_name=_("person"), order_by=("person__name_key",))
    checkpoint = tables.Column(verbose_name=_("checkpoint"), order_by=("checkpoint__name",))
    decision = tables.Column(verbose_name=_("decision"))
    plate = tables.Column(verbose_name=_("plate"), accessor="vehicle__plate", default="—", orderable=False)

    class Meta:
        model = Passage
        fields = [
            "at",
            "person",
            "checkpoint",
            "direction",
            "plate",
            "origin_risk",
            "health_code",
            "decision",
            "handed_to",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_at(self, value):
        return when(value)

    def render_person(self, value):
        return value.name

    def render_checkpoint(self, value):
        return value.name

    def render_decision(self, record):
        mark = "" if record.decision == record.suggested else " ✎"
        return format_html("{}{}", decision_badge(record.decision, record.get_decision_display()), mark)

    def render_handed_to(self, value):
        return value.name


class VehicleTable(tables.Table):
    at = tables.Column(verbose_name=_("time"))
    checkpoint = tables.Column(verbose_name=_("checkpoint"), order_by=("checkpoint__name",))
    passenger_count = tables.Column(verbose_name=_("persons"), orderable=False)

    class Meta:
        model = VehicleCheck
        fields = ["at", "plate", "kind", "checkpoint", "direction", "origin", "passenger_count"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_at(self, value):
        return when(value)

    def render_checkpoint(self, value):
        return value.name


class ShiftTable(tables.Table):
    checkpoint = tables.Column(verbose_name=_("checkpoint"), order_by=("checkpoint__name",))
    edit = tables.Column(verbose_name="", empty_values=(), orderable=False)

    class Meta:
        model = Shift
        fields = ["day", "starts", "ends", "checkpoint", "leader", "edit"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_checkpoint(self, value):
        return value.name

    def render_edit(self, record):
        from django.urls import reverse

        return format_html(
            '<a href="{}">{}</a>', reverse("checkpoints:shift_edit", args=[record.pk]), _("Edit")
        )
