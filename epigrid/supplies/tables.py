"""Supplies tables (below 576 px the shared template turns rows into cards)."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.supplies.models import (
    Allocation,
    Donation,
    Item,
    Movement,
    Purchase,
    Requisition,
    StockLevel,
    Store,
)

STATUS_BADGES = {
    Requisition.Status.SUBMITTED: "text-bg-warning",
    Requisition.Status.APPROVED: "text-bg-info",
    Requisition.Status.REJECTED: "text-bg-danger",
    Requisition.Status.DELIVERED: "text-bg-primary",
    Requisition.Status.RECEIVED: "text-bg-success",
    Requisition.Status.CANCELLED: "text-bg-light",
}


PURCHASE_BADGES = {
    Purchase.Status.SUBMITTED: "text-bg-warning",
    Purchase.Status.APPROVED: "text-bg-info",
    Purchase.Status.REJECTED: "text-bg-danger",
    Purchase.Status.RECEIVED: "text-bg-success",
    Purchase.Status.CANCELLED: "text-bg-light",
}


def number(value):
    """A quantity without trailing zeros (120, 2.5)."""
    if value is None:
        return "—"
    return f"{value.normalize():f}"


def requisition_badge(req):
    return format_html(
        '<span class="badge {}" data-testid="status">{}</span>',
        STATUS_BADGES.get(req.status, ""),
        req.get_status_display(),
    )


def purchase_badge(purchase):
    return format_html(
        '<span class="badge {}" data-testid="status">{}</span>',
        PURCHASE_BADGES.get(purchase.status, ""),
        purchase.get_status_display(),
    )


def cover_badge(level):
    """Days of cover, red under the minimum (with the minimum beside it)."""
    cover = level.days_of_cover
    if cover is None:
        return format_html('<span class="text-muted">{}</span>', _("no daily use set"))
    if level.below_min:
        return format_html(
            '<span class="badge text-bg-danger" data-testid="below-min">{} {}</span> <span class="small">{}</span>',
            number(cover),
            _("days"),
            _("below the minimum of %(n)s days") % {"n": number(level.min_days)},
        )
    return format_html('<span data-testid="cover">{} {}</span>', number(cover), _("days"))


def _when(value):
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "—"


class ItemTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta:
        model = Item
        fields = ["code", "name", "spec", "category", "unit", "is_active"]
        attrs = {"class": "table table-sm table-hover align-middle"}


class StoreTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(order_by=("area__path",))

    class Meta:
        model = Store
        fields = ["code", "name", "kind", "area", "place_label", "is_active"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.full_label()


class StockLevelTable(tables.Table):
    store = tables.Column(linkify=lambda record: record.store.get_absolute_url(), order_by=("store__name",))
    item = tables.Column(order_by=("item__name", "item__spec"))
    on_hand = tables.Column()
    daily_use = tables.Column()
    cover = tables.Column(empty_values=(), orderable=False, verbose_name=gettext_lazy("days of cover"))
    min_max = tables.Column(empty_values=(), orderable=False, verbose_name=gettext_lazy("min–max (days)"))
    reserved = tables.Column()

    class Meta:
        model = StockLevel
        fields = ["store", "item", "on_hand", "daily_use", "cover", "min_max", "reserved"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_item(self, record):
        return f"{record.item}（{record.item.unit}）"

    def render_on_hand(self, value):
        return number(value)

    def render_daily_use(self, value):
        return number(value)

    def render_reserved(self, value):
        return number(value)

    def render_cover(self, record):
        return cover_badge(record)

    def render_min_max(self, record):
        return f"{number(record.min_days)}–{number(record.max_days)}"


class MovementTable(tables.Table):
    at = tables.Column()
    store = tables.Column(order_by=("store__name",))
    item = tables.Column(order_by=("item__name",))
    quantity = tables.Column()
    balance_after = tables.Column()

    class Meta:
        model = Movement
        fields = ["at", "kind", "store", "item", "quantity", "balance_after", "counterpart", "reason", "by"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_at(self, value):
        return _when(value)

    def render_store(self, record):
        return record.store.name if record.store_id else _("Fund")

    def render_item(self, record):
        return str(record.item) if record.item_id else _("Money (yuan)")

    def render_quantity(self, value):
        return format_html(
            '<span class="{}">{}</span>',
            "text-danger" if value < 0 else "text-success",
            f"{value.normalize():+f}",
        )

    def render_balance_after(self, value):
        return number(value)

    def render_by(self, value):
        return value.get_full_name() or value.get_username()


class RequisitionTable(tables.Table):
    id = tables.Column(verbose_name=gettext_lazy("no."), linkify=lambda record: record.get_absolute_url())
    store = tables.Column(linkify=lambda record: record.get_absolute_url(), order_by=("store__name",))
    lines = tables.Column(empty_values=(), orderable=False, verbose_name=gettext_lazy("items"))
    requested_at = tables.Column()
    status = tables.Column()

    class Meta:
        model = Requisition
        fields = ["id", "store", "lines", "priority", "requested_at", "needed_by", "status"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_lines(self, record):
        return "、".join(f"{line.item.name} {number(line.requested)}" for line in record.lines.all())

    def render_requested_at(self, value):
        return _when(value)

    def render_status(self, record):
        badge = requisition_badge(record)
        if record.has_discrepancy:
            return format_html('{} <span class="badge text-bg-warning">{}</span>', badge, _("discrepancy"))
        return badge


class DonationTable(tables.Table):
    number = tables.Column(linkify=lambda record: record.get_absolute_url())
    lines = tables.Column(empty_values=(), orderable=False, verbose_name=gettext_lazy("money and goods"))
    directed = tables.Column()

    class Meta:
        model = Donation
        fields = ["number", "received_on", "donor_name", "recipient_unit", "directed", "lines"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_directed(self, record):
        return record.directed_to if record.directed else _("not directed")

    def render_lines(self, record):
        parts = []
        for line in record.lines.all():
            if line.kind == "money":
                parts.append(f"¥{number(line.quantity)}")
            else:
                parts.append(f"{line.item} {number(line.quantity)}{line.item.unit}")
        return "、".join(parts)


class AllocationTable(tables.Table):
    at = tables.Column()
    line = tables.Column(
        linkify=lambda record: record.get_absolute_url(), order_by=("line__donation__number",)
    )
    quantity = tables.Column()
    approved_by = tables.Column()

    class Meta:
        model = Allocation
        fields = ["at", "line", "quantity", "recipient_name", "reason", "approved_by"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_at(self, value):
        return _when(value)

    def render_quantity(self, value):
        return number(value)

    def render_approved_by(self, value):
        return value.get_full_name() or value.get_username()


class PurchaseTable(tables.Table):
    id = tables.Column(verbose_name=gettext_lazy("no."), linkify=lambda record: record.get_absolute_url())
    supplier = tables.Column(linkify=lambda record: record.get_absolute_url())
    lines = tables.Column(empty_values=(), orderable=False, verbose_name=gettext_lazy("items"))
    total = tables.Column()
    store = tables.Column(order_by=("store__name",))
    status = tables.Column()

    class Meta:
        model = Purchase
        fields = ["id", "purchased_on", "supplier", "lines", "total", "store", "recipient_name", "status"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_lines(self, record):
        return "、".join(f"{line.item.name} {number(line.quantity)}" for line in record.lines.all())

    def render_total(self, value):
        return f"¥{number(value)}"

    def render_status(self, record):
        badge = purchase_badge(record)
        if record.has_discrepancy:
            return format_html('{} <span class="badge text-bg-warning">{}</span>', badge, _("discrepancy"))
        return badge
