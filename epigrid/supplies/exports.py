"""Supplies exports (registered with jobs.exports), in fixed Chinese as the offices forward them:
物资库存 (the stock board with days of cover, re-importable as a count sheet: its first columns are
the stock-count import's), 物资台账 (the movement ledger), 物资申领 (requisition lines), 捐赠登记
(donation lines, re-importable by the donations ledger), 捐赠款物分配公示表 (the public table,
from the ledger, with what donated money bought) and 捐赠资金采购 (purchase lines with the money that
paid them). No resident's personal data: officials and donors by name only."""

from django.utils import timezone

from epigrid.jobs.exports import Export, register_export
from epigrid.supplies import services
from epigrid.supplies.filtersets import (
    DonationFilterSet,
    DonationLineFilterSet,
    MovementFilterSet,
    PurchaseFilterSet,
    RequisitionFilterSet,
    StockLevelFilterSet,
)
from epigrid.supplies.models import (
    Donation,
    DonationLine,
    Movement,
    Purchase,
    PurchaseLine,
    Requisition,
    RequisitionLine,
    StockLevel,
)

KIND_LABELS = {
    "receipt": "入库",
    "issue": "出库领用",
    "transfer_out": "调出",
    "transfer_in": "调入",
    "delivery": "申领发货",
    "requisition_in": "申领收货",
    "discrepancy": "收货差异",
    "donation_in": "捐赠入库",
    "allocation_out": "分配出库",
    "allocation_in": "分配入库",
    "adjustment": "盘点调整",
    "purchase_payment": "采购付款",
    "purchase_in": "采购入库",
}
STATUS_LABELS = {
    "submitted": "待审批",
    "approved": "已审批",
    "rejected": "已驳回",
    "delivered": "已发货",
    "received": "已收货",
    "cancelled": "已撤销",
}
PURCHASE_STATUS_LABELS = {
    "submitted": "待审批",
    "approved": "已审批付款",
    "rejected": "已驳回",
    "received": "已入库",
    "cancelled": "已撤销",
}
DONOR_KINDS = {"enterprise": "企业", "organisation": "社会组织", "individual": "个人"}


def _n(value):
    return None if value is None else float(value)


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _name(user):
    return (user.get_full_name() or user.get_username()) if user else ""


@register_export
class StockExport(Export):
    name = "supplies-stock"
    title = "物资库存"
    model = StockLevel
    filterset_class = StockLevelFilterSet
    headers = [
        "仓库编码",
        "物资编码",
        "盘点数量",
        "仓库",
        "物资",
        "规格",
        "单位",
        "日均消耗",
        "可用天数",
        "最低天数",
        "最高天数",
        "是否低于下限",
        "建议补充",
        "捐赠待分配",
    ]

    def rows(self, queryset):
        for level in (
            queryset.select_related("store", "item").order_by("store__code", "item__code").iterator(2000)
        ):
            cover = level.days_of_cover
            yield [
                level.store.code,
                level.item.code,
                _n(level.on_hand),
                level.store.name,
                level.item.name,
                level.item.spec,
                level.item.unit,
                _n(level.daily_use),
                _n(cover),
                _n(level.min_days),
                _n(level.max_days),
                "是" if level.below_min else "否",
                _n(level.to_order),
                _n(level.reserved),
            ]


@register_export
class MovementExport(Export):
    name = "supplies-movements"
    title = "物资台账"
    model = Movement
    filterset_class = MovementFilterSet
    headers = [
        "时间",
        "类型",
        "仓库",
        "物资",
        "规格",
        "数量",
        "结存",
        "金额（元）",
        "对方仓库",
        "申领单号",
        "捐赠编号",
        "经办人",
        "原因",
        "采购单号",
    ]

    def rows(self, queryset):
        related = ("store", "item", "counterpart", "by", "donation_line__donation")
        for m in queryset.select_related(*related).order_by("at", "id").iterator(2000):
            yield [
                _when(m.at),
                KIND_LABELS.get(m.kind, m.kind),
                m.store.name if m.store_id else "资金",
                m.item.name if m.item_id else "资金",
                m.item.spec if m.item_id else "",
                _n(m.quantity),
                _n(m.balance_after),
                _n(m.value),
                m.counterpart.name if m.counterpart_id else "",
                m.requisition_id or "",
                m.donation_line.donation.number if m.donation_line_id else "",
                _name(m.by),
                m.reason,
                m.purchase_id or "",
            ]


@register_export
class RequisitionExport(Export):
    """One row per requisition line: what was asked, approved, delivered and received."""

    name = "supplies-requisitions"
    title = "物资申领"
    model = Requisition
    filterset_class = RequisitionFilterSet
    headers = [
        "申领单号",
        "申领仓库",
        "状态",
        "申领时间",
        "物资",
        "规格",
        "申领数量",
        "申领时库存",
        "审批数量",
        "发货数量",
        "实收数量",
        "差异原因",
        "审批人",
        "供货仓库",
    ]

    def rows(self, queryset):
        lines = (
            RequisitionLine.objects.filter(requisition__in=queryset.values("pk"))
            .select_related("requisition__store", "requisition__supplier", "requisition__approver", "item")
            .order_by("requisition__requested_at", "requisition_id", "id")
        )
        for line in lines.iterator(2000):
            req = line.requisition
            yield [
                req.pk,
                req.store.name,
                STATUS_LABELS.get(req.status, req.status),
                _when(req.requested_at),
                line.item.name,
                line.item.spec,
                _n(line.requested),
                _n(line.on_hand_then),
                _n(line.approved),
                _n(line.delivered),
                _n(line.received),
                line.discrepancy_reason,
                _name(req.approver),
                req.supplier.name if req.supplier_id else "",
            ]


@register_export
class DonationExport(Export):
    """One row per donation line, in the donations import's columns (re-imports unchanged)."""

    name = "supplies-donations"
    title = "捐赠登记"
    model = Donation
    filterset_class = DonationFilterSet
    headers = [
        "捐赠编号",
        "捐赠方",
        "捐赠方类型",
        "接收日期",
        "接收单位",
        "存放仓库编码",
        "是否定向",
        "定向受赠方",
        "物资编码",
        "数量",
        "价值（元）",
        "已分配",
        "已采购（元）",
    ]

    def rows(self, queryset):
        lines = (
            DonationLine.objects.filter(donation__in=queryset.values("pk"))
            .select_related("donation__store", "item")
            .order_by("donation__received_on", "donation__number", "id")
        )
        for line in lines.iterator(2000):
            d = line.donation
            yield [
                d.number,
                d.donor_name,
                DONOR_KINDS.get(d.donor_kind, d.donor_kind),
                d.received_on.isoformat(),
                d.recipient_unit,
                d.store.code if d.store_id else "",
                "是" if d.directed else "否",
                d.directed_to,
                line.item.code if line.item_id else "资金",
                _n(line.quantity),
                _n(line.value),
                _n(line.allocated),
                _n(line.spent),
            ]


@register_export
class AllocationTableExport(Export):
    """捐赠款物分配公示表, from the ledger (services.allocation_table)."""

    name = "supplies-allocation-table"
    title = "捐赠款物分配公示表"
    model = DonationLine
    filterset_class = DonationLineFilterSet
    headers = [
        "捐赠编号",
        "接收日期",
        "捐赠方",
        "定向",
        "款物",
        "规格",
        "单位",
        "接收数量",
        "价值（元）",
        "已分配",
        "分配去向（受赠方 数量 事由 审批人）",
        "采购支出（元）",
        "采购物资（品名 数量 入库仓库 金额）",
        "库存/结余",
    ]

    def queryset(self, query):
        # Lines are read with their donation's right (no role holds one of its own).
        from django.http import QueryDict

        from epigrid.jobs.exports import _RequestLike

        base = DonationLine.objects.restrict(self.user, perm="supplies.view_donation")
        filterset = self.filterset_class(QueryDict(query), queryset=base, request=_RequestLike(self.user))
        return filterset.qs if filterset.is_valid() else base.none()

    def rows(self, queryset):
        for row in services.allocation_table(queryset):
            line, d = row["line"], row["donation"]
            yield [
                d.number,
                d.received_on.isoformat(),
                d.public_donor,
                d.directed_to if d.directed else "非定向",
                "资金" if line.kind == "money" else line.item.name,
                "" if line.kind == "money" else line.item.spec,
                line.unit,
                _n(row["received"]),
                _n(line.value),
                _n(row["allocated"]),
                "；".join(
                    f"{a.recipient_name} {a.quantity.normalize():f} {a.reason} {_name(a.approved_by)}".strip()
                    for a in row["allocations"]
                ),
                _n(row["spent"]) if line.kind == "money" else None,
                "；".join(bought_text(f) for f in row["purchases"]),
                _n(row["in_stock"]),
            ]


def bought_text(funding):
    """One purchase a money line paid for: its goods, the store they went into, this line's share."""
    purchase = funding.purchase
    goods = "、".join(f"{pl.item} {pl.goods.normalize():f}{pl.item.unit}" for pl in purchase.lines.all())
    share = f"¥{funding.amount.normalize():f}"
    if funding.amount != purchase.total:
        share += f"/¥{purchase.total.normalize():f}"
    pending = "" if purchase.status == Purchase.Status.RECEIVED else "（待入库）"
    return f"{purchase.purchased_on:%m-%d} {goods} → {purchase.store.name}{pending} {share}"


@register_export
class PurchaseExport(Export):
    """One row per purchase line: what donated money bought, from whom, at what price, paid from
    which donations, received where."""

    name = "supplies-purchases"
    title = "捐赠资金采购"
    model = Purchase
    filterset_class = PurchaseFilterSet
    headers = [
        "采购单号",
        "采购日期",
        "采购单位",
        "供应商",
        "发票/合同号",
        "事由",
        "受赠方",
        "入库仓库",
        "状态",
        "物资编码",
        "物资",
        "规格",
        "单位",
        "数量",
        "单价（元）",
        "金额（元）",
        "实收数量",
        "差异原因",
        "资金来源（捐赠编号 金额）",
        "审批人",
    ]

    def rows(self, queryset):
        lines = (
            PurchaseLine.objects.filter(purchase__in=queryset.values("pk"))
            .select_related("purchase__area", "purchase__store", "purchase__approver", "item")
            .prefetch_related("purchase__funding__line__donation")
            .order_by("purchase__purchased_on", "purchase_id", "id")
        )
        for line in lines.iterator(2000):
            p = line.purchase
            sources = "；".join(
                f"{f.line.donation.number} ¥{f.amount.normalize():f}" for f in p.funding.all()
            ) or ("非定向资金（审批时划拨）" if p.pooled else "")
            yield [
                p.pk,
                p.purchased_on.isoformat(),
                p.area.name,
                p.supplier,
                p.invoice,
                p.reason,
                p.recipient_name,
                p.store.name,
                PURCHASE_STATUS_LABELS.get(p.status, p.status),
                line.item.code,
                line.item.name,
                line.item.spec,
                line.item.unit,
                _n(line.quantity),
                _n(line.unit_price),
                _n(line.amount),
                _n(line.received),
                line.discrepancy_reason,
                sources,
                _name(p.approver),
            ]
