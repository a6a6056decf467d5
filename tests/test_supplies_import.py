"""The supplies ledgers through the shared pipeline: stock counts (adjustments with reasons, a
sheet twice changing nothing, bad rows by the sheet's numbers) and donations (grouped by number,
refused whole when one row is bad, registered once); the exports run and re-import."""

import decimal
import io

import openpyxl
import pytest
from django.utils import translation

from epigrid.core.imports import run_import
from epigrid.jobs.exports import EXPORTS
from epigrid.supplies import services
from epigrid.supplies.imports import DonationResource, StockCountResource
from epigrid.supplies.models import Donation, Movement, StockLevel
from tests.supplies_cast import supplies

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def xlsx(header, rows, title="九州街道物资盘点表"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([title])  # a title row above the header, as offices send
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


COUNT_HEADER = ["仓库编码", "物资编码", "盘点数量", "日均消耗", "最低天数", "最高天数", "原因"]


def count(user, area, rows, dry_run=False):
    with translation.override("en"):
        return run_import(
            StockCountResource(user, area), xlsx(COUNT_HEADER, rows), "盘点.xlsx", dry_run=dry_run
        )


def test_a_count_sheet_adjusts_the_books_and_a_second_run_changes_nothing(cast):
    s = supplies(cast)
    s.stocked(on_hand=100)
    rows = [
        ["S-GATE-A", "MASK-19083", "96", "25", "3", "7", "破损4只"],
        ["S-COMM", "MASK-KN95", "300", "", "", "", ""],
    ]
    result = count(cast.street_officer, cast.street, rows)
    assert (result.updated, result.created, result.rejected) == (1, 1, 0), result.errors
    level = StockLevel.objects.get(store=s.gate, item=s.mask)
    assert level.on_hand == D("96") and level.daily_use == D("25")
    assert Movement.objects.get(kind="adjustment", store=s.gate).reason == "破损4只"
    again = count(cast.street_officer, cast.street, rows)
    assert again.unchanged == 2 and Movement.objects.filter(kind="adjustment").count() == 2


def test_bad_count_rows_are_reported_by_row_and_nothing_is_written(cast):
    s = supplies(cast)
    s.stocked(on_hand=100)
    s.donation(quantity=50)  # 50 donated masks at the warehouse, not yet allocated
    rows = [
        ["S-GATE-A", "MASK-19083", "90", "", "", "", ""],  # differs without a reason
        ["S-NOPE", "MASK-19083", "1", "", "", "", "x"],  # no such store
        ["S-GATE-A", "NOPE", "1", "", "", "", "盘点"],  # no such item
        ["S-GATE-A", "GOWN", "-3", "", "", "", "盘点"],  # negative
        ["W-STREET", "MASK-19083", "10", "", "", "", "盘点"],  # below the donated goods
        ["S-GATE-A", "GOWN", "5", "", "9", "3", "盘点"],  # max below min
        ["S-COMM", "GOWN", "8", "", "", "", "新到"],  # good
    ]
    result = count(cast.street_officer, cast.street, rows)
    assert result.rejected == 6 and result.created == 1
    assert sorted({e["row"] for e in result.errors}) == [3, 4, 5, 6, 7, 8]
    assert StockLevel.objects.get(store=s.post, item=s.gown).on_hand == D("8")
    assert StockLevel.objects.get(store=s.gate, item=s.mask).on_hand == D("100")


def test_a_keeper_counts_only_the_stores_they_keep(cast):
    s = supplies(cast)
    rows = [
        ["S-GATE-A", "MASK-19083", "10", "", "", "", "初盘"],
        ["S-COMM", "MASK-19083", "10", "", "", "", "初盘"],
    ]
    result = count(s.keeper, cast.street, rows)
    assert result.created == 1 and [e["row"] for e in result.errors] == [4]


DONATION_HEADER = [
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
]


def donate(user, area, rows, dry_run=False):
    with translation.override("en"):
        return run_import(
            DonationResource(user, area),
            xlsx(DONATION_HEADER, rows, "捐赠登记表"),
            "捐赠.xlsx",
            dry_run=dry_run,
        )


def test_donations_are_grouped_by_number_and_registered_once(cast):
    s = supplies(cast)
    rows = [
        [
            "JZ-1",
            "某公司",
            "企业",
            "2026-12-01",
            "九州街道",
            "W-STREET",
            "否",
            "",
            "MASK-19083",
            "1000",
            "5000",
        ],
        ["JZ-1", "某公司", "企业", "2026-12-01", "九州街道", "", "否", "", "资金", "20000", ""],
        [
            "JZ-2",
            "张某",
            "个人",
            "2026-12-02",
            "九州街道",
            "W-STREET",
            "是",
            "九州社区物资点",
            "MASK-KN95",
            "200",
            "600",
        ],
    ]
    result = donate(cast.street_officer, cast.street, rows)
    assert result.created == 3 and result.rejected == 0, result.errors
    first = Donation.objects.get(number="JZ-1")
    assert first.lines.count() == 2 and first.store == s.warehouse
    assert Donation.objects.get(number="JZ-2").directed_to == "九州社区物资点"
    again = donate(cast.street_officer, cast.street, rows)
    assert again.unchanged == 3 and Donation.objects.count() == 2
    assert services.balance_from_ledger(s.warehouse, s.mask) == D("1000")


def test_a_donation_with_one_bad_row_is_refused_whole(cast):
    supplies(cast)
    rows = [
        [
            "JZ-3",
            "某公司",
            "企业",
            "2026-12-01",
            "九州街道",
            "W-STREET",
            "否",
            "",
            "MASK-19083",
            "1000",
            "5000",
        ],
        ["JZ-3", "某公司", "企业", "2026-12-01", "九州街道", "W-STREET", "否", "", "MASK-KN95", "abc", ""],
        ["JZ-4", "某公司", "企业", "2026-12-01", "九州街道", "W-NOPE", "否", "", "MASK-19083", "10", ""],
        ["JZ-5", "某公司", "商户", "2026-12-01", "九州街道", "W-STREET", "是", "", "MASK-19083", "10", ""],
        ["JZ-6", "好心人", "个人", "2026-12-01", "九州街道", "W-STREET", "否", "", "MASK-19083", "10", ""],
    ]
    result = donate(cast.street_officer, cast.street, rows)
    assert result.rejected == 4 and result.created == 1
    assert sorted({e["row"] for e in result.errors}) == [3, 4, 5, 6]
    assert list(Donation.objects.values_list("number", flat=True)) == ["JZ-6"]


def test_the_exports_write_their_rows(cast, tmp_path):
    s = supplies(cast)
    s.stocked()
    req = s.requisition()
    donation = s.donation(money=1000)
    services.allocate(cast.street_officer, donation.lines.get(kind="goods"), 10, "九州社区", "社区缺口罩")
    for name in (
        "supplies-stock",
        "supplies-movements",
        "supplies-requisitions",
        "supplies-donations",
        "supplies-allocation-table",
    ):
        export = EXPORTS[name](cast.street_officer)
        rows = list(export.rows(export.queryset("")))
        assert rows and all(len(row) == len(export.headers) for row in rows), name
    stock = EXPORTS["supplies-stock"](cast.street_officer)
    assert list(stock.rows(stock.queryset(f"store={s.gate.pk}")))[0][:3] == ["S-GATE-A", "MASK-19083", 100.0]
    assert req.pk


def test_the_board_export_reimports_unchanged(cast):
    s = supplies(cast)
    s.stocked(on_hand=40)
    export = EXPORTS["supplies-stock"](cast.street_officer)
    rows = [row[:3] + [row[7], row[9], row[10], ""] for row in export.rows(export.queryset(""))]
    result = count(cast.street_officer, cast.street, rows)
    assert result.unchanged == 1 and result.rejected == 0, result.errors
