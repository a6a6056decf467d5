"""Exports of shops and markets (jobs.exports), each with its list's filters: the outlets in the
import's own columns (so an export re-imports unchanged; phones masked unless revealed), the price
alerts, the shop staff ledger (documents and phones masked unless revealed), closures, wildlife."""

from epigrid.core.identity import display_phone, mask_document, mask_phone
from epigrid.jobs.exports import Export, register_export
from epigrid.markets.filtersets import (
    ClosureFilterSet,
    OutletFilterSet,
    PriceAlertFilterSet,
    ShopStaffFilterSet,
    WildlifeCheckFilterSet,
)
from epigrid.markets.models import Closure, Outlet, PriceAlert, ShopStaff, WildlifeCheck


def _phone(unmasked):
    if unmasked:
        return lambda v: display_phone(v) if v else ""
    return lambda v: mask_phone(v) if v else ""


@register_export
class OutletExport(Export):
    name = "markets-outlets"
    title = "监测网点台账"
    model = Outlet
    filterset_class = OutletFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = [
        "区域编码",
        "网点名称",
        "类型",
        "地址",
        "经营者",
        "联系人",
        "联系电话",
        "每日报送",
        "备注",
        "营业状态",
    ]
    text_columns = frozenset({0, 6})

    def rows(self, queryset):
        phone, kinds = _phone(self.unmasked), dict(Outlet.Kind.choices)
        fields = (
            "area__code",
            "name",
            "kind",
            "address",
            "operator",
            "contact",
            "phone",
            "monitored",
            "notes",
            "is_open",
        )
        for code, name, kind, address, operator, contact, ph, monitored, notes, is_open in (
            queryset.order_by("area__path", "name", "id").values_list(*fields).iterator(chunk_size=2000)
        ):
            yield [
                code,
                name,
                str(kinds.get(kind, kind)),
                address,
                operator,
                contact,
                phone(ph),
                "是" if monitored else "否",
                notes,
                "营业" if is_open else "关停",
            ]


@register_export
class PriceAlertExport(Export):
    name = "markets-alerts"
    title = "价格和库存预警"
    model = PriceAlert
    filterset_class = PriceAlertFilterSet
    headers = ["日期", "网点", "区域", "品种", "预警类型", "报送值", "比较值", "涨幅(%)", "状态", "处置情况"]

    def rows(self, queryset):
        kinds, statuses = dict(PriceAlert.Kind.choices), dict(PriceAlert.Status.choices)
        fields = (
            "day",
            "outlet__name",
            "outlet__area__name",
            "commodity__name",
            "kind",
            "value",
            "reference",
            "change_pct",
            "status",
            "action_taken",
        )
        for day, outlet, area, item, kind, value, ref, pct, status, action in (
            queryset.order_by("-day", "outlet__name", "id").values_list(*fields).iterator(chunk_size=2000)
        ):
            yield [
                day.isoformat(),
                outlet,
                area,
                item,
                str(kinds.get(kind, kind)),
                value,
                ref if ref is not None else "",
                pct if pct is not None else "",
                str(statuses.get(status, status)),
                action,
            ]


@register_export
class StaffExport(Export):
    name = "markets-staff"
    title = "经营性门店人员管理台账"
    model = ShopStaff
    filterset_class = ShopStaffFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = [
        "区域编码",
        "门店名称",
        "姓名",
        "证件类型",
        "证件号码",
        "联系电话",
        "岗位",
        "健康状况",
        "最近联系日期",
        "在岗",
    ]
    text_columns = frozenset({0, 4, 5})

    def rows(self, queryset):
        phone, health = _phone(self.unmasked), dict(ShopStaff.Health.choices)
        number = (lambda v: v) if self.unmasked else mask_document
        fields = (
            "outlet__area__code",
            "outlet__name",
            "person__name",
            "person__doc_type",
            "person__doc_number",
            "person__phone",
            "position",
            "health",
            "last_contact_on",
            "active",
        )
        for code, outlet, name, doc_type, doc, ph, position, h, contact, active in (
            queryset.order_by("outlet__name", "person__name_key", "id")
            .values_list(*fields)
            .iterator(chunk_size=2000)
        ):
            yield [
                code,
                outlet,
                name,
                doc_type,
                number(doc),
                phone(ph),
                position,
                str(health.get(h, h)),
                contact.isoformat() if contact else "",
                "是" if active else "否",
            ]


@register_export
class ClosureExport(Export):
    name = "markets-closures"
    title = "活禽交易点关停和复查台账"
    model = Closure
    filterset_class = ClosureFilterSet
    headers = [
        "网点",
        "区域",
        "状态",
        "关停原因",
        "关停日期",
        "应复查日期",
        "复查日期",
        "复查情况",
        "决定理由",
        "复查次数",
        "恢复营业日期",
    ]

    def rows(self, queryset):
        statuses = dict(Closure.Status.choices)

        def day(value):
            return value.isoformat() if value else ""

        fields = (
            "outlet__name",
            "outlet__area__name",
            "status",
            "reason",
            "closed_on",
            "reinspect_due",
            "reinspected_on",
            "reinspection_findings",
            "decision_reason",
            "reinspections",
            "reopened_on",
        )
        for row in queryset.order_by("-closed_on", "id").values_list(*fields).iterator(chunk_size=2000):
            (outlet, area, status, reason, closed, due, rein, findings, decision, n, reopened) = row
            yield [
                outlet,
                area,
                str(statuses.get(status, status)),
                reason,
                day(closed),
                day(due),
                day(rein),
                findings,
                decision,
                n,
                day(reopened),
            ]


@register_export
class WildlifeExport(Export):
    name = "markets-wildlife"
    title = "野生动物排查台账"
    model = WildlifeCheck
    filterset_class = WildlifeCheckFilterSet
    headers = ["区域编码", "场所", "物种", "数量", "检查日期", "检查人", "备注"]
    text_columns = frozenset({0})

    def rows(self, queryset):
        fields = ("area__code", "site", "species", "count", "check_date", "checker", "notes")
        for code, site, species, count, day, checker, notes in (
            queryset.order_by("-check_date", "site", "id").values_list(*fields).iterator(chunk_size=2000)
        ):
            yield [code, site, species, count, day.isoformat(), checker, notes]
