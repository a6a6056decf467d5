"""Tables of the shops-and-markets pages (below 576 px the shared template turns rows into cards)."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from epigrid.markets import services
from epigrid.markets.models import (
    Baseline,
    Closure,
    Inspection,
    Outlet,
    PriceAlert,
    ShopStaff,
    WildlifeCheck,
)

ATTRS = {"class": "table table-sm table-hover align-middle"}
ALERT_BADGES = {"open": "text-bg-danger", "handled": "text-bg-success", "cleared": "text-bg-light"}
CLOSURE_BADGES = {
    "closed": "text-bg-danger",
    "reinspected": "text-bg-warning",
    "kept_closed": "text-bg-danger",
    "reopened": "text-bg-success",
}


def badge(css, text, testid="status"):
    return format_html('<span class="badge {}" data-testid="{}">{}</span>', css, testid, text)


class OutletTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    phone = tables.Column(orderable=False, verbose_name=_("contact phone"))
    area = tables.Column(order_by=("area__path",))
    is_open = tables.Column(verbose_name=_("open"))

    class Meta:
        model = Outlet
        fields = ["name", "kind", "area", "address", "operator", "phone", "monitored", "is_open"]
        attrs = ATTRS

    def render_phone(self, record):
        return record.masked_phone

    def render_area(self, value):
        return value.full_label()

    def render_is_open(self, value):
        return badge("text-bg-success", _("Open")) if value else badge("text-bg-danger", _("Closed"))


class BaselineTable(tables.Table):
    commodity = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(order_by=("area__path",))

    class Meta:
        model = Baseline
        fields = ["commodity", "area", "price", "period_from", "period_to", "note"]
        attrs = ATTRS

    def render_area(self, value):
        return value.full_label()


class PriceAlertTable(tables.Table):
    day = tables.Column(linkify=lambda record: record.get_absolute_url())
    outlet = tables.Column(linkify=lambda record: record.outlet.get_absolute_url())
    change_pct = tables.Column()

    class Meta:
        model = PriceAlert
        fields = ["day", "outlet", "commodity", "kind", "value", "reference", "change_pct", "status"]
        attrs = ATTRS

    def render_change_pct(self, value):
        return f"+{value}%" if value > 0 else f"{value}%"

    def render_status(self, record):
        return badge(ALERT_BADGES.get(record.status, ""), record.get_status_display())


class ShopStaffTable(tables.Table):
    person = tables.Column(linkify=lambda record: record.get_absolute_url(), order_by=("person__name_key",))
    document = tables.Column(empty_values=(), orderable=False, verbose_name=_("document"))
    phone = tables.Column(empty_values=(), orderable=False, verbose_name=_("phone"))
    test = tables.Column(empty_values=(), orderable=False, verbose_name=_("latest test"))
    key_person = tables.Column(empty_values=(), orderable=False, verbose_name=_("key person"))
    outlet = tables.Column(linkify=lambda record: record.outlet.get_absolute_url())

    class Meta:
        model = ShopStaff
        fields = [
            "person",
            "document",
            "phone",
            "outlet",
            "position",
            "health",
            "last_contact_on",
            "test",
            "key_person",
        ]
        attrs = ATTRS

    def render_person(self, value):
        return value.name

    def render_document(self, record):
        return record.person.masked_doc_number

    def render_phone(self, record):
        return record.person.masked_phone or "—"

    def render_test(self, record):
        text, valid, _kp = services.describe_status(record)
        if not text:
            return "—"
        return badge("text-bg-success" if valid else "text-bg-secondary", text, "test")

    def render_key_person(self, record):
        _t, _v, label = services.describe_status(record)
        return badge("text-bg-warning", label, "key-person") if label else "—"


class InspectionTable(tables.Table):
    inspected_on = tables.Column(linkify=lambda record: record.get_absolute_url())
    outlet = tables.Column(linkify=lambda record: record.outlet.get_absolute_url())

    class Meta:
        model = Inspection
        fields = [
            "inspected_on",
            "outlet",
            "result",
            "distancing_ok",
            "masks_ok",
            "disinfection_ok",
            "findings",
            "inspector",
        ]
        attrs = ATTRS


class ClosureTable(tables.Table):
    outlet = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta:
        model = Closure
        fields = ["outlet", "status", "reason", "closed_on", "reinspect_due", "reinspected_on", "reopened_on"]
        attrs = ATTRS

    def render_status(self, record):
        return badge(CLOSURE_BADGES.get(record.status, ""), record.get_status_display())


class WildlifeCheckTable(tables.Table):
    site = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(order_by=("area__path",))

    class Meta:
        model = WildlifeCheck
        fields = ["check_date", "site", "species", "count", "area", "checker", "notes"]
        attrs = ATTRS

    def render_area(self, value):
        return value.full_label()
