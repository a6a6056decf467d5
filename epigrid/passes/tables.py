"""Tables of the pass pages (django-tables2; below 576 px the shared template turns rows into
cards). Times are rendered here: a date column would compile a template for every cell."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from epigrid.passes.models import HouseholdPass, PassUse

STATUS_BADGES = {"active": "text-bg-success", "revoked": "text-bg-danger", "expired": "text-bg-secondary"}


def when(value):
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "—"


def rule_text(household_pass):
    if not household_pass.has_quota:
        return _("No quota")
    return _("%(n)d per %(m)d days") % {
        "n": household_pass.persons_per_window,
        "m": household_pass.window_days,
    }


class HouseholdPassTable(tables.Table):
    number = tables.Column(
        verbose_name=_("Pass"), accessor="pk", linkify=lambda record: record.get_absolute_url()
    )
    household = tables.Column(
        verbose_name=_("Household"), order_by=("household__building__name", "household__room")
    )
    area = tables.Column(verbose_name=_("grid"), order_by=("area__path",))
    rule = tables.Column(verbose_name=_("Rule"), empty_values=(), orderable=False)
    valid_until = tables.Column(verbose_name=_("valid until"))

    class Meta:
        model = HouseholdPass
        fields = ["number", "kind", "household", "area", "rule", "valid_until", "status"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_number(self, value):
        return f"#{value}"

    def render_household(self, value):
        return value.address

    def render_area(self, value):
        return value.name

    def render_rule(self, record):
        return rule_text(record)

    def render_valid_until(self, value):
        return when(value)

    def render_status(self, record):
        return format_html(
            '<span class="badge {}">{}</span>',
            STATUS_BADGES.get(record.status, ""),
            record.get_status_display(),
        )


class PassUseTable(tables.Table):
    at = tables.Column(verbose_name=_("at"), linkify=lambda record: record.get_absolute_url())
    person = tables.Column(verbose_name=_("person"), order_by=("person__name_key",))
    household = tables.Column(
        verbose_name=_("Household"),
        accessor="household_pass__household",
        order_by=("household_pass__household",),
    )
    checkpoint = tables.Column(verbose_name=_("checkpoint"))

    class Meta:
        model = PassUse
        fields = ["at", "direction", "outcome", "reason", "person", "household", "checkpoint"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_at(self, value):
        return when(value)

    def render_person(self, value):
        return value.name

    def render_household(self, value):
        return value.address

    def render_outcome(self, record):
        badge = "text-bg-success" if record.outcome == "allowed" else "text-bg-danger"
        return format_html('<span class="badge {}">{}</span>', badge, record.get_outcome_display())
