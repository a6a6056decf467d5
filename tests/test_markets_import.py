"""The ledgers of shops and markets through the one import pipeline: outlets (the export
re-imports unchanged, masked phones keep the phone on record), the shop staff ledger (persons found
by document, never registered or retyped by it), the wildlife ledger; bad rows with their row
numbers and nothing half-written; the exports masked for a role without the reveal right."""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from epigrid.core.imports import run_import
from epigrid.jobs.models import Job
from epigrid.markets.imports import OutletResource, StaffResource, WildlifeResource
from epigrid.markets.models import Outlet, ShopStaff, WildlifeCheck
from epigrid.people.models import Person
from tests.markets_cast import markets
from tests.scoping import make_person
from tests.test_testing_sweeps import xlsx

pytestmark = pytest.mark.django_db

OUTLET_HEADER = ["区域编码", "网点名称", "类型", "地址", "经营者", "联系人", "联系电话", "每日报送", "备注"]
STAFF_HEADER = ["区域编码", "门店名称", "姓名", "证件类型", "证件号码", "岗位", "健康状况", "最近联系日期"]
WILDLIFE_HEADER = ["区域编码", "场所", "物种", "数量", "检查日期", "检查人", "备注"]


def run(resource, user, area, fileobj, dry_run=False):
    with translation.override("en"):
        return run_import(resource(user, area), fileobj, "台账.xlsx", dry_run=dry_run)


def test_outlets_import_and_a_second_run_changes_nothing(cast):
    rows = [
        [
            "620102001001001",
            "九州永辉超市",
            "超市",
            "九州大道1号",
            "永辉超市",
            "刘经理",
            "13912340000",
            "是",
            "",
        ],
        ["620102001001002", "二网格菜市场", "农贸市场", "", "", "", "", "否", ""],
    ]
    first = run(OutletResource, cast.community_officer, cast.community, xlsx(OUTLET_HEADER, rows))
    assert (first.created, first.rejected) == (2, 0), first.errors
    outlet = Outlet.objects.get(name="九州永辉超市")
    assert (outlet.kind, outlet.phone, outlet.area) == ("supermarket", "+8613912340000", cast.grid_a)
    assert not Outlet.objects.get(name="二网格菜市场").monitored
    second = run(OutletResource, cast.community_officer, cast.community, xlsx(OUTLET_HEADER, rows))
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)


def test_bad_outlet_rows_are_reported_and_nothing_is_written(cast):
    rows = [
        ["620102001001001", "好超市", "超市", "", "", "", "", "是", ""],
        ["620102001001001", "", "超市", "", "", "", "", "是", ""],
        ["620102001001001", "坏类型", "夜市", "", "", "", "", "是", ""],
        ["620102001001001", "坏电话", "超市", "", "", "", "12345", "是", ""],
        ["999999", "外区超市", "超市", "", "", "", "", "是", ""],
        ["620102001001001", "新店", "超市", "", "", "", "139****0000", "是", ""],
    ]
    result = run(OutletResource, cast.community_officer, cast.community, xlsx(OUTLET_HEADER, rows))
    assert (result.created, result.rejected) == (1, 5)
    assert sorted({e["row"] for e in result.errors}) == [4, 5, 6, 7, 8]
    assert list(Outlet.objects.values_list("name", flat=True)) == ["好超市"]


def test_a_grid_worker_cannot_import_into_another_grid(cast):
    rows = [["620102001001002", "二网格超市", "超市", "", "", "", "", "是", ""]]
    result = run(OutletResource, cast.grid_worker, cast.community, xlsx(OUTLET_HEADER, rows))
    assert (result.created, result.rejected) == (0, 1)


def test_the_outlet_export_masks_phones_and_reimports_unchanged(cast, django_capture_on_commit_callbacks):
    m = markets(cast)
    rows = _export(cast.client_for(cast.grid_worker), "markets-outlets", django_capture_on_commit_callbacks)
    assert rows[0][:2] == ("区域编码", "网点名称")
    mine = [r for r in rows[1:] if r[1] == m.supermarket.name][0]
    assert mine[6] == "138****2222"
    assert not any("13811112222" in str(c) for r in rows for c in r)
    result = run(
        OutletResource,
        cast.community_officer,
        cast.community,
        xlsx(OUTLET_HEADER, [list(r[:9]) for r in rows[1:]]),
    )
    assert (result.created, result.updated, result.rejected) == (0, 0, 0), result.errors
    m.supermarket.refresh_from_db()
    assert m.supermarket.phone == "+8613811112222"


def test_staff_import_links_registry_persons_and_refuses_strangers(cast):
    m = markets(cast)
    person = make_person(household=cast.household_a, name="郑收银")
    rows = [
        [
            "620102001001001",
            m.supermarket.name,
            "郑收银",
            "",
            person.doc_number,
            "收银员",
            "正常",
            "2026-03-01",
        ],
        ["620102001001001", m.supermarket.name, "陌生人", "", "11010519491231002X", "收银员", "正常", ""],
        ["620102001001001", m.supermarket.name, "错名字", "", person.doc_number, "理货", "正常", ""],
        ["620102001001001", "不存在的店", "郑收银", "", person.doc_number, "", "", ""],
        ["620102001001001", m.supermarket.name, "郑收银", "", "123", "", "", ""],
        ["620102001001001", m.supermarket.name, "郑收银", "", person.doc_number, "", "很好", ""],
    ]
    result = run(StaffResource, cast.community_officer, cast.community, xlsx(STAFF_HEADER, rows))
    assert (result.created, result.rejected) == (1, 5)
    assert sorted({e["row"] for e in result.errors}) == [4, 5, 6, 7, 8]
    # The valid row is written (decision 0007); no stranger is registered by the ledger.
    assert ShopStaff.objects.get().person == person
    assert not Person.objects.filter(name="陌生人").exists()


def test_staff_import_writes_the_valid_rows_and_reruns_unchanged(cast):
    m = markets(cast)
    person = make_person(household=cast.household_a, name="郑收银")
    rows = [
        [
            "620102001001001",
            m.supermarket.name,
            "郑收银",
            "",
            person.doc_number,
            "收银员",
            "正常",
            "2026-03-01",
        ]
    ]
    first = run(StaffResource, cast.community_officer, cast.community, xlsx(STAFF_HEADER, rows))
    assert first.created == 1, first.errors
    row = ShopStaff.objects.get()
    assert (row.person, row.position, row.health) == (person, "收银员", "normal")
    second = run(StaffResource, cast.community_officer, cast.community, xlsx(STAFF_HEADER, rows))
    assert (second.created, second.unchanged) == (0, 1)


def test_the_staff_export_masks_documents(cast, django_capture_on_commit_callbacks):
    m = markets(cast)
    person = make_person(household=cast.household_a, name="冯员工", phone="+8613512345678")
    ShopStaff.objects.create(outlet=m.supermarket, person=person)
    rows = _export(cast.client_for(cast.grid_worker), "markets-staff", django_capture_on_commit_callbacks)
    text = " ".join(str(c) for r in rows for c in r)
    assert person.doc_number not in text and "13512345678" not in text
    assert rows[1][4] == person.masked_doc_number


def test_wildlife_import_with_bad_rows(cast):
    rows = [
        ["620102001001001", "九州养殖场", "孔雀", 12, "2026-03-01", "李四", ""],
        ["620102001001001", "九州养殖场", "梅花鹿", "-3", "2026-03-01", "李四", ""],
        ["620102001001001", "九州养殖场", "", 3, "2026-03-01", "李四", ""],
        ["620102001001001", "九州养殖场", "野猪", 3, "", "李四", ""],
    ]
    result = run(WildlifeResource, cast.community_officer, cast.community, xlsx(WILDLIFE_HEADER, rows))
    assert (result.created, result.rejected) == (1, 3)
    assert sorted({e["row"] for e in result.errors}) == [4, 5, 6]
    assert WildlifeCheck.objects.get().count == 12
    again = run(WildlifeResource, cast.community_officer, cast.community, xlsx(WILDLIFE_HEADER, rows[:1]))
    assert again.unchanged == 1


def _export(client, name, capture):
    with capture(execute=True):
        assert client.post(reverse("jobs:export_start", args=[name]), {"query": ""}).status_code == 302
    job = Job.objects.filter(kind="export").order_by("-created").first()
    assert job.status == "succeeded", job.result
    return list(
        load_workbook(io.BytesIO(job.output_file.open("rb").read())).active.iter_rows(values_only=True)
    )
