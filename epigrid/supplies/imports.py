"""Supplies import ledgers through the one pipeline (core.imports), into an area chosen as the
import's target:

- "stock-counts" 物资盘点表: store code, item code, the counted quantity, optionally the daily use
  and the min/max in days, and the reason of a difference. Natural key: store + item. A count that
  differs from the books becomes an adjustment row of the ledger (`services.count`); one that agrees
  is unchanged (a sheet imported twice changes nothing). The stock board's export has these columns
  first, so a printed board counted on paper comes back as is.
- "donations" 捐赠登记表: one row per line of money or goods, grouped by the donation number (the
  natural key); a donation already registered is unchanged, and a donation with one bad row is
  refused whole, with every row's number, so no donation is half-written. Goods go into the store
  named by its code, money into the unit's fund (`services.register_donation`).

Valid rows are written together in the pipeline's one transaction (decision 0007); rows that would
fail in the service (a count below the donated goods not yet allocated, a store outside the area)
are refused while planning, so the write never stops half-way."""

import decimal

from django.utils.translation import gettext as _

from epigrid.core.imports import Outcome, Resource, RowCheck
from epigrid.core.tabular import CellError, Column, cell_date, cell_text
from epigrid.jobs.imports import register_ledger
from epigrid.supplies import services
from epigrid.supplies.models import Donation, DonationLine, Item, Movement, StockLevel, Store


def cell_quantity(value, required=True):
    """A quantity ≥ 0 from a number or text ("1,200", "１２０"); "" → None unless required."""
    text = cell_text(value).replace(",", "").replace("，", "")
    if not text:
        if required:
            raise CellError(_("A quantity is needed."))
        return None
    try:
        number = decimal.Decimal(text).quantize(decimal.Decimal("0.01"))
    except decimal.InvalidOperation:
        raise CellError(_("%(value)s is not a number.") % {"value": text}) from None
    if number < 0:
        raise CellError(_("A quantity cannot be negative."))
    return number


def _code(value):
    text = cell_text(value)
    if not text:
        raise CellError(_("A code is needed."))
    return text


class StockCountResource(Resource):
    """物资盘点表: 仓库编码, 物资编码, 盘点数量, 日均消耗, 最低天数, 最高天数, 原因."""

    title = "物资盘点表"
    permission = services.MOVE
    columns = [
        Column("store", "仓库编码", ("仓库编码", "库点编码", "物资点编码", "仓库代码"), required=True),
        Column("item", "物资编码", ("物资编码", "物资代码", "品目编码"), required=True),
        Column("counted", "盘点数量", ("盘点数量", "实盘数量", "库存数量", "现有数量"), required=True),
        Column("daily_use", "日均消耗", ("日均消耗", "日消耗量", "每日用量")),
        Column("min_days", "最低天数", ("最低天数", "最低储备天数", "下限天数")),
        Column("max_days", "最高天数", ("最高天数", "最高储备天数", "上限天数")),
        Column("reason", "原因", ("原因", "差异原因", "备注")),
    ]
    example = ["S-001", "MASK-19083", "1200", "300", "3", "7", "月底盘点"]
    preview_columns = ["仓库编码", "物资编码", "盘点数量", "账面数量"]

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        self.books, self.booked = {}, set()

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check("store", _code)
        check("item", _code)
        check("counted", cell_quantity)
        for name in ("daily_use", "min_days", "max_days"):
            check(name, lambda v: cell_quantity(v, required=False))
        check.data["reason"] = cell_text(raw.get("reason"))[:300]
        return check.finish()

    def key(self, cleaned):
        return (cleaned["store"], cleaned["item"])

    def plan_rows(self, cleaned_rows):
        stores = Store.objects.filter(area__path__startswith=self.area.path)
        if self.user is not None:
            stores = stores.restrict(self.user, perm=services.MOVE)
        stores = {s.code: s for s in stores.filter(code__in={c["store"] for _r, c in cleaned_rows})}
        items = Item.objects.all() if self.user is None else Item.objects.restrict(self.user, "view")
        items = {i.code: i for i in items.filter(code__in={c["item"] for _r, c in cleaned_rows})}
        levels = {
            (lvl.store.code, lvl.item.code): lvl
            for lvl in StockLevel.objects.filter(store__in=stores.values()).select_related("store", "item")
        }
        # Items with a ledger at their store: a first count opens the books, others explain a difference.
        self.booked = set(
            Movement.objects.filter(store__in=stores.values())
            .values_list("store__code", "item__code")
            .distinct()
            .order_by()
        )
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            found = self._problems(data, stores, items, levels)
            if found:
                problems.append((row, found))
                continue
            level = levels.get(self.key(data))
            data["store_obj"], data["item_obj"] = stores[data["store"]], items[data["item"]]
            on_hand = level.on_hand if level else decimal.Decimal(0)
            self.books[self.key(data)] = on_hand
            same_levels = level is not None and all(
                data[n] is None or data[n] == getattr(level, n) for n in ("daily_use", "min_days", "max_days")
            )
            action = (
                "unchanged" if data["counted"] == on_hand and same_levels else "update" if level else "create"
            )
            outcomes.append(Outcome(row, action, self.key(data), data, target=level))
        return outcomes, problems

    def _problems(self, data, stores, items, levels):
        found = []
        if data["store"] not in stores:
            found.append(
                (
                    self.header_of("store"),
                    _("No store %(code)s you may count in this area.") % {"code": data["store"]},
                )
            )
        if data["item"] not in items:
            found.append(
                (self.header_of("item"), _("No item %(code)s in the catalogue.") % {"code": data["item"]})
            )
        if found:
            return found
        level = levels.get(self.key(data))
        on_hand = level.on_hand if level else decimal.Decimal(0)
        opening = self.key(data) not in self.booked
        if data["counted"] != on_hand and not opening and sum(ch.isalnum() for ch in data["reason"]) < 2:
            found.append((self.header_of("reason"), _("Say why the count differs from the books.")))
        if level is not None and data["counted"] < level.reserved:
            found.append(
                (
                    self.header_of("counted"),
                    _("Less than the donated goods not yet allocated (%(n)s).")
                    % {"n": level.reserved.normalize()},
                )
            )
        low, high = data["min_days"], data["max_days"]
        low = low if low is not None else (level.min_days if level else None)
        high = high if high is not None else (level.max_days if level else None)
        if low is not None and high is not None and high < low:
            found.append((self.header_of("max_days"), _("The maximum is below the minimum.")))
        return found

    def preview_cells(self, raw, cleaned):
        if cleaned is None:
            return [
                cell_text(raw.get("store")),
                cell_text(raw.get("item")),
                cell_text(raw.get("counted")),
                "",
            ]
        books = self.books.get(self.key(cleaned))
        return [cleaned["store"], cleaned["item"], cleaned["counted"], "" if books is None else books]

    def write(self, outcomes):
        for outcome in sorted(outcomes, key=lambda o: o.row):
            data = outcome.data
            store, item = data["store_obj"], data["item_obj"]
            services.count(self.user, store, item, data["counted"], data["reason"])
            if any(data[n] is not None for n in ("daily_use", "min_days", "max_days")):
                services.set_levels(
                    self.user, store, item, data["daily_use"], data["min_days"], data["max_days"]
                )


DONOR_KINDS = {"企业": "enterprise", "社会组织": "organisation", "组织": "organisation", "个人": "individual"}
YES = {"是", "定向", "y", "yes", "1", "true"}
MONEY = {"资金", "现金", "善款", "money"}


class DonationResource(Resource):
    """捐赠登记表: one row per line of a donation, grouped by 捐赠编号."""

    title = "捐赠登记表"
    permission = services.DONATE
    columns = [
        Column("number", "捐赠编号", ("捐赠编号", "登记编号", "编号", "票据号"), required=True),
        Column("donor_name", "捐赠方", ("捐赠方", "捐赠人", "捐赠单位", "捐赠者"), required=True),
        Column("donor_kind", "捐赠方类型", ("捐赠方类型", "捐赠人类型", "类型")),
        Column("received_on", "接收日期", ("接收日期", "捐赠日期", "日期"), required=True),
        Column("recipient_unit", "接收单位", ("接收单位", "受赠单位")),
        Column("store", "存放仓库编码", ("存放仓库编码", "仓库编码", "入库仓库")),
        Column("directed", "是否定向", ("是否定向", "定向")),
        Column("directed_to", "定向受赠方", ("定向受赠方", "定向单位", "指定受赠方")),
        Column("item", "物资编码", ("物资编码", "物资代码", "款物"), required=True),
        Column("quantity", "数量", ("数量", "金额", "数量/金额"), required=True),
        Column("value", "价值（元）", ("价值（元）", "价值", "折合金额", "估值")),
    ]
    example = [
        "JZ-2026-001",
        "兰州某医疗器械有限公司",
        "企业",
        "2026-12-01",
        "城关区疫情防控指挥部",
        "W-001",
        "否",
        "",
        "MASK-19083",
        "10000",
        "35000",
    ]
    preview_columns = ["捐赠编号", "捐赠方", "款物", "数量"]

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        self.bad_numbers = set()

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        data = check.data
        check("number", _code)
        data["donor_name"] = cell_text(raw.get("donor_name"))[:100]
        if not data["donor_name"]:
            check.problem("donor_name", _("Name the donor."))
        kind = cell_text(raw.get("donor_kind"))
        data["donor_kind"] = DONOR_KINDS.get(kind, "enterprise" if not kind else None)
        if data["donor_kind"] is None:
            check.problem("donor_kind", _("企业, 社会组织 or 个人."))
        check("received_on", cell_date)
        if not check.problems and data.get("received_on") is None:
            check.problem("received_on", _("A date is needed."))
        data["recipient_unit"] = cell_text(raw.get("recipient_unit"))[:100]
        data["store"] = cell_text(raw.get("store"))
        data["directed"] = cell_text(raw.get("directed")).lower() in YES
        data["directed_to"] = cell_text(raw.get("directed_to"))[:100]
        if data["directed"] and not data["directed_to"]:
            check.problem("directed_to", _("A directed donation names its recipient."))
        check("item", _code)
        check("quantity", cell_quantity)
        check("value", lambda v: cell_quantity(v, required=False))
        if data.get("quantity") == 0:
            check.problem("quantity", _("A quantity must be more than zero."))
        if check.problems and cell_text(raw.get("number")):
            self.bad_numbers.add(cell_text(raw.get("number")))
        return check.finish()

    def key(self, cleaned):
        return (cleaned["number"], cleaned["item"])

    def plan_rows(self, cleaned_rows):
        known = set(
            Donation.objects.filter(number__in={c["number"] for _r, c in cleaned_rows}).values_list(
                "number", flat=True
            )
        )
        items = Item.objects.all() if self.user is None else Item.objects.restrict(self.user, "view")
        items = {i.code: i for i in items.filter(code__in={c["item"] for _r, c in cleaned_rows})}
        stores = {
            s.code: s
            for s in Store.objects.filter(
                area__path__startswith=self.area.path, code__in={c["store"] for _r, c in cleaned_rows}
            )
        }
        groups = {}
        for row, data in cleaned_rows:
            groups.setdefault(data["number"], []).append((row, data))
        outcomes, problems = [], []
        for number, rows in groups.items():
            if number in known:
                for row, data in rows:
                    outcome = Outcome(row, "unchanged", self.key(data), {})
                    outcome.notes.append(_("Registered before"))
                    outcomes.append(outcome)
                continue
            found = {row: self._row_problems(data, rows[0][1], items, stores) for row, data in rows}
            if number in self.bad_numbers or any(found.values()):
                for row, _data in rows:
                    problems.append(
                        (
                            row,
                            found[row]
                            or [
                                (
                                    self.header_of("number"),
                                    _(
                                        "Another row of donation %(n)s was refused; the donation is kept out whole."
                                    )
                                    % {"n": number},
                                )
                            ],
                        )
                    )
                continue
            for index, (row, data) in enumerate(rows):
                data["item_obj"], data["store_obj"] = items.get(data["item"]), stores.get(data["store"])
                outcome = Outcome(row, "create", self.key(data), {"group": rows if index == 0 else None})
                outcomes.append(outcome)
        return outcomes, problems

    def _row_problems(self, data, first, items, stores):
        found = []
        money = data["item"] in MONEY
        if not money and data["item"] not in items:
            found.append(
                (self.header_of("item"), _("No item %(code)s in the catalogue.") % {"code": data["item"]})
            )
        if not money and data["store"] not in stores:
            found.append(
                (
                    self.header_of("store"),
                    _("No store %(code)s in this area for the goods.") % {"code": data["store"] or "—"},
                )
            )
        for name in ("donor_name", "received_on", "directed", "directed_to", "store"):
            if data[name] != first[name] and not (money and name == "store"):
                found.append((self.header_of(name), _("Differs from the donation's first row.")))
        return found

    def preview_cells(self, raw, cleaned):
        source = cleaned or {k: cell_text(raw.get(k)) for k in ("number", "donor_name", "item", "quantity")}
        return [source["number"], source["donor_name"], source["item"], source["quantity"]]

    def write(self, outcomes):
        for outcome in sorted(outcomes, key=lambda o: o.row):
            rows = outcome.data.get("group")
            if not rows:
                continue
            first = rows[0][1]
            lines = []
            for _row, data in rows:
                if data["item"] in MONEY:
                    lines.append({"kind": DonationLine.Kind.MONEY, "quantity": data["quantity"]})
                else:
                    lines.append(
                        {
                            "kind": DonationLine.Kind.GOODS,
                            "item": data["item_obj"],
                            "quantity": data["quantity"],
                            "value": data["value"],
                        }
                    )
            store = next((d["store_obj"] for _r, d in rows if d["item"] not in MONEY), None)
            services.register_donation(
                self.user,
                number=first["number"],
                donor_name=first["donor_name"],
                donor_kind=first["donor_kind"],
                received_on=first["received_on"],
                area=self.area,
                recipient_unit=first["recipient_unit"] or self.area.name,
                store=store,
                directed=first["directed"],
                directed_to=first["directed_to"],
                lines=lines,
            )


register_ledger("stock-counts", StockCountResource, services.MOVE)
register_ledger("donations", DonationResource, services.DONATE)
