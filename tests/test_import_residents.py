"""The resident ledger through the one import pipeline: messy files, exact row errors,
idempotent re-import, scope, jobs and the command line."""

import datetime
import io
import json

import openpyxl
import pytest
from django.core.management import call_command

from epigrid.areas.models import Building, Household
from epigrid.audit.models import ObjectChange
from epigrid.core.identity import make_resident_id
from epigrid.core.imports import MappingNeeded, run_import
from epigrid.jobs.models import Job, Status
from epigrid.people.imports import ResidentResource
from epigrid.people.models import Person

ID1 = make_resident_id("620102", datetime.date(1941, 3, 8), 11)  # born before 1983: must pass
ID2 = make_resident_id("620102", datetime.date(1985, 7, 1), 22)
ID3 = make_resident_id("430102", datetime.date(2001, 1, 9), 33)
HEADER = [
    "序号",
    "姓名",
    "公民身份号码",
    "手机号",
    "所属网格",
    "楼号",
    "单元号",
    "门牌号",
    "户籍类型",
    "备注",
    "填表人",
]


def xlsx(rows, title=True):
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append(["九州社区居民台账（2022年4月）"])
        ws.merge_cells("A1:K1")
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "台账.xlsx"
    return buffer


def good_rows():
    return [
        [1, "张桂英", ID1, "13812345678", "第一网格", "1号楼", "1", "101", "户籍", "", "李"],
        [2, "王磊", ID2, "139 1234 5678", "第一网格", "1号楼", "1", "102", "流动", "新到", "李"],
        [3, "刘洋", ID3, "", "第二网格", "9号楼", "2单元", "202", "", "", "李"],
    ]


def run(cast, fileobj, user=None, area=None, dry_run=False, **kw):
    user = user or cast.community_officer
    return run_import(
        ResidentResource(user, area or cast.community), fileobj, "台账.xlsx", dry_run=dry_run, **kw
    )


def test_it_previews_without_writing(cast):
    result = run(cast, xlsx(good_rows()), dry_run=True)
    assert (result.created, result.updated, result.rejected, result.header_row) == (3, 0, 0, 2)
    assert not Person.objects.exists() and not Household.objects.filter(room="102").exists()


def test_it_imports_residents_with_their_households(cast):
    result = run(cast, xlsx(good_rows()))
    assert result.created == 3
    wang = Person.objects.get(doc_number=ID2)
    assert (wang.household.building, wang.household.unit, wang.household.room) == (
        cast.building_a,
        "1",
        "102",
    )
    assert (wang.area, wang.phone, wang.residence_type, wang.notes) == (
        cast.grid_a,
        "+8613912345678",
        "migrant",
        "新到",
    )
    assert Person.objects.get(doc_number=ID3).household == cast.household_b  # "2单元" is unit 2


def test_it_lists_ignored_columns(cast):
    assert set(run(cast, xlsx(good_rows()), dry_run=True).unknown_columns) == {"序号", "填表人"}


def test_it_reports_bad_rows_with_their_sheet_row_numbers(cast):
    rows = [
        *good_rows(),
        [
            4,
            "",
            make_resident_id("620102", datetime.date(1990, 1, 1), 44),
            "",
            "第一网格",
            "1号楼",
            "1",
            "103",
            "",
            "",
            "",
        ],
        [5, "赵六", "360426199101010072", "", "第一网格", "1号楼", "1", "104", "", "", ""],
        [6, "钱七", 6.20102194501012e17, "", "第一网格", "1号楼", "1", "105", "", "", ""],
        [
            7,
            "孙八",
            make_resident_id("620102", datetime.date(1990, 1, 1), 55),
            "",
            "620199001001001",
            "1号楼",
            "1",
            "106",
            "",
            "",
            "",
        ],
        [
            8,
            "周九",
            make_resident_id("620102", datetime.date(1990, 1, 1), 66),
            "12345",
            "第一网格",
            "1号楼",
            "1",
            "107",
            "",
            "",
            "",
        ],
    ]
    result = run(cast, xlsx(rows))
    assert (result.created, result.rejected) == (3, 5)
    by_row = {e["row"]: e for e in result.errors}
    assert sorted(by_row) == [6, 7, 8, 9, 10]
    assert by_row[6]["column"] == "姓名"
    assert by_row[7]["column"] == "证件号码"
    assert "number" in by_row[8]["message"].lower() or "数字" in by_row[8]["message"]
    assert by_row[9]["column"] == "网格"
    assert by_row[10]["column"] == "联系电话"
    assert Person.objects.count() == 3


def test_it_counts_a_repeated_row_once(cast):
    rows = good_rows()
    result = run(cast, xlsx([*rows, rows[0]]))
    assert (result.created, result.unchanged) == (3, 1)
    assert Person.objects.filter(doc_number=ID1).count() == 1


def test_it_rejects_a_repeat_with_different_details(cast):
    rows = good_rows()
    changed = list(rows[0])
    changed[1] = "张贵英"
    result = run(cast, xlsx([*rows, changed]))
    assert result.rejected == 1 and result.errors[0]["row"] == 6


def test_it_creates_nothing_the_second_time(cast):
    run(cast, xlsx(good_rows()))
    audit_rows = ObjectChange.objects.count()
    result = run(cast, xlsx(good_rows()))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert ObjectChange.objects.count() == audit_rows


def test_it_updates_a_changed_row_and_logs_it(cast):
    run(cast, xlsx(good_rows()))
    rows = good_rows()
    rows[1][3] = "13712345678"
    rows[1][7] = "108"
    result = run(cast, xlsx(rows))
    assert (result.updated, result.unchanged) == (1, 2)
    wang = Person.objects.get(doc_number=ID2)
    assert (wang.phone, wang.household.room) == ("+8613712345678", "108")
    change = ObjectChange.objects.filter(object_id=wang.pk, action="update").latest("id")
    assert (
        change.prechange_data["phone"] == "+8613912345678"
        and change.postchange_data["phone"] == "+8613712345678"
    )


def test_it_logs_imported_rows_as_the_importing_user(cast):
    from epigrid.core.context import change_context

    with change_context(user=cast.community_officer, source="import"):
        run(cast, xlsx(good_rows()))
    row = ObjectChange.objects.get(content_type__model="person", action="create", object_repr="王磊")
    assert (row.user, row.source) == (cast.community_officer, "import")


def test_it_rejects_rows_for_a_grid_outside_the_users_scope(cast):
    result = run(cast, xlsx(good_rows()), user=cast.grid_worker, area=cast.grid_a)
    assert result.created == 2 and [e["row"] for e in result.errors] == [5]


def test_it_does_not_touch_a_person_registered_in_another_area(cast):
    run(cast, xlsx(good_rows()))
    rows = [[1, "刘洋改", ID3, "", "", "1号楼", "1", "101", "", "", ""]]
    result = run(cast, xlsx(rows), user=cast.grid_worker, area=cast.grid_a)
    assert result.rejected == 1 and result.errors[0]["column"] == "证件号码"
    assert Person.objects.get(doc_number=ID3).name == "刘洋"


def test_it_reads_a_gbk_csv(cast):
    lines = [",".join(HEADER), ",".join(str(v) for v in good_rows()[0])]
    data = io.BytesIO("\r\n".join(lines).encode("gbk"))
    result = run_import(
        ResidentResource(cast.community_officer, cast.community), data, "台账.csv", dry_run=True
    )
    assert (result.created, result.rejected) == (1, 0)


def test_it_asks_for_a_mapping_when_required_columns_are_missing(cast):
    wb = openpyxl.Workbook()
    wb.active.append(["名字", "证件", "楼", "房"])
    wb.active.append(["张桂英", ID1, "1号楼", "101"])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    with pytest.raises(MappingNeeded) as exc:
        run(cast, buffer, area=cast.grid_a)
    assert "doc_number" in exc.value.missing
    buffer.seek(0)
    result = run(
        cast,
        buffer,
        area=cast.grid_a,
        mapping_override={"证件": "doc_number", "楼": "building", "房": "room"},
    )
    assert result.created == 1


def test_it_previews_and_confirms_through_the_pages(cast, django_capture_on_commit_callbacks):
    client = cast.client_for(cast.community_officer)
    rows = [*good_rows(), [9, "", ID1[:-1] + "0", "", "第一网格", "1号楼", "1", "109", "", "", ""]]
    upload = xlsx(rows)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/jobs/import/residents/", {"area": cast.community.code, "file": upload})
    preview = Job.objects.get()
    assert response.url == preview.get_absolute_url() and preview.status == Status.SUCCEEDED
    assert (preview.result["created"], preview.result["rejected"]) == (3, 1)
    assert not Person.objects.exists()
    report = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get(f"/jobs/{preview.pk}/download/").streaming_content))
    )
    values = [[c.value for c in row] for row in report.active.iter_rows()]
    assert any(6 in row for row in values) and any(
        "校验" in str(v) or "check digit" in str(v) for row in values for v in row
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/jobs/{preview.pk}/confirm/")
    assert Person.objects.count() == 3
    assert Job.objects.filter(params__dry_run=False, status=Status.SUCCEEDED).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/jobs/{preview.pk}/confirm/")  # a double click, a retried request
    assert Job.objects.filter(params__dry_run=False).count() == 1
    assert again.url == Job.objects.get(params__dry_run=False).get_absolute_url()


def test_it_refuses_the_import_page_to_roles_that_cannot_add_persons(cast):
    assert cast.client_for(cast.lab).get("/jobs/import/residents/").status_code == 403


def test_it_offers_a_template_the_pipeline_reads(cast):
    response = cast.client_for(cast.community_officer).get("/jobs/import/residents/template.xlsx")
    data = io.BytesIO(b"".join(response.streaming_content))
    result = run_import(ResidentResource(cast.community_officer, cast.grid_a), data, "t.xlsx", dry_run=True)
    assert (result.created, result.rejected) == (1, 0)


def test_it_prints_json_from_the_command_line(cast, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(xlsx([*good_rows(), [4, "", ID1, "", "", "", "", "", "", "", ""]]).getvalue())
    call_command("import", "residents", str(path), "--area", cast.community.code, "--json")
    data = json.loads(capsys.readouterr().out)
    assert (data["created"], data["rejected"], data["errors"][0]["row"]) == (3, 1, 6)


def test_it_exits_2_when_the_file_cannot_be_read(tmp_path, cast, capsys):
    path = tmp_path / "garbage.xlsx"
    path.write_bytes(b"\x00\x01not a spreadsheet")
    with pytest.raises(SystemExit) as exc:
        call_command("import", "residents", str(path), "--area", cast.community.code, "--json")
    assert exc.value.code == 2 and "error" in json.loads(capsys.readouterr().out)


def test_it_creates_buildings_it_has_not_seen(cast):
    rows = [[1, "张桂英", ID1, "", "第一网格", "新5号楼", "", "1", "", "", ""]]
    run(cast, xlsx(rows))
    assert Building.objects.filter(area=cast.grid_a, name="新5号楼").exists()


# -- issue 8: imports at the level users work at ------------------------------------------------
def run_en(cast, fileobj, **kw):
    from django.utils import translation

    with translation.override("en"):  # messages and notes are asserted in their msgid form
        return run(cast, fileobj, **kw)


def without_grid(rows):
    return [[*row[:4], "", *row[5:]] for row in rows]


def test_it_takes_the_grid_from_the_building_when_the_sheet_names_none(cast):
    result = run_en(cast, xlsx(without_grid(good_rows())))  # a community officer, the community
    assert (result.created, result.rejected) == (3, 0), result.errors
    assert Person.objects.get(doc_number=ID2).area == cast.grid_a  # 1号楼 is in grid A
    assert Person.objects.get(doc_number=ID3).household == cast.household_b  # 9号楼 in grid B


def test_it_puts_a_new_building_in_the_only_grid_of_a_community(cast):
    from epigrid.accounts.models import Grant
    from epigrid.areas.models import Area, Level

    community = Area.objects.create(
        code="620102001002", name="东岗社区", level=Level.COMMUNITY, parent=cast.street
    )
    grid = Area.objects.create(code="620102001002001", name="东岗一网格", level=Level.GRID, parent=community)
    Grant.objects.create(user=cast.community_officer, role="community_officer", area=community)
    rows = [[1, "张桂英", ID1, "", "", "新5号楼", "", "1", "", "", ""]]
    result = run_en(cast, xlsx(rows), area=community)
    assert result.created == 1, result.errors
    assert Person.objects.get(doc_number=ID1).household.building.area == grid


def test_it_asks_for_the_grid_only_of_a_new_building_in_a_community_of_several_grids(cast):
    rows = [
        [1, "张桂英", ID1, "", "", "新5号楼", "", "1", "", "", ""],
        [2, "王磊", ID2, "", "", "1号楼", "1", "102", "", "", ""],
    ]
    result = run_en(cast, xlsx(rows))
    assert (result.created, result.rejected) == (1, 1)
    assert (result.errors[0]["row"], result.errors[0]["column"]) == (3, "网格")
    assert "新5号楼" in result.errors[0]["message"]


def test_it_asks_for_the_grid_of_a_building_name_two_grids_have(cast):
    Building.objects.create(area=cast.grid_b, name="1栋")
    result = run_en(cast, xlsx(without_grid(good_rows()[:1])))
    assert result.rejected == 1 and result.errors[0]["column"] == "网格"
    assert "第一网格" in result.errors[0]["message"] and "第二网格" in result.errors[0]["message"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("1", "1"),
        ("01", "1"),
        ("1号楼", "1"),
        ("一号楼", "1"),
        ("1栋", "1"),
        ("1幢", "1"),
        ("1号", "1"),
        ("第一栋", "1"),
        ("1#楼", "1"),
        ("１号楼", "1"),
        (" 1 号楼", "1"),
        ("十二号楼", "12"),
        ("二十一栋", "21"),
        ("A座", "a"),
        ("新5号楼", "新5"),
        ("教学楼", "教学楼"),
        ("号楼", "号楼"),
    ],
)
def test_it_gives_one_key_to_the_ways_offices_write_a_building(name, key):
    from epigrid.areas.models import normalise_building_name

    assert normalise_building_name(name) == key


def test_it_matches_a_building_however_the_row_writes_it(cast):
    rows = [
        [
            i,
            name,
            make_resident_id("620102", datetime.date(1990, 1, 1), 40 + i),
            "",
            "第一网格",
            building,
            "1",
            "101",
            "",
            "",
            "",
        ]
        for i, (name, building) in enumerate(
            [("甲", "1"), ("乙", "一号楼"), ("丙", "1栋"), ("丁", "1幢")], start=1
        )
    ]
    preview = run_en(cast, xlsx(rows), dry_run=True)
    assert [r["notes"] for r in preview.rows][1][0].startswith("一号楼")  # "一号楼 is building 1号楼"
    result = run_en(cast, xlsx(rows))
    assert result.created == 4 and Building.objects.filter(area=cast.grid_a).count() == 1
    assert set(Person.objects.values_list("household__building", flat=True)) == {cast.building_a.pk}
    assert Household.objects.filter(building=cast.building_a, unit="1", room="101").count() == 1
    rows[0][5] = "1号楼"  # the same ledger written another way changes nothing
    again = run_en(cast, xlsx(rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_it_stores_the_building_key_on_save_and_in_bulk_writes(cast):
    from epigrid.core.imports import bulk_insert

    assert cast.building_a.name_key == "1"
    cast.building_a.name = "二号楼"
    cast.building_a.save(update_fields=["name"])
    cast.building_a.refresh_from_db()
    assert cast.building_a.name_key == "2"
    (bulk,) = bulk_insert(Building, [Building(area=cast.grid_b, name="第三幢")])
    assert Building.objects.get(pk=bulk.pk).name_key == "3"


def test_it_fills_the_key_of_buildings_stored_before_keys_existed(cast):
    import importlib

    from django.apps import apps

    Building.objects.update(name_key="")
    migration = importlib.import_module("epigrid.areas.migrations.0003_building_name_key")
    migration.fill_name_keys(apps, None)
    assert set(Building.objects.values_list("name", "name_key")) == {("1号楼", "1"), ("9号楼", "9")}


def test_it_previews_the_first_rows_masked_with_what_happens_to_each(cast):
    rows = [
        [
            i,
            f"居民{i}",
            make_resident_id("620102", datetime.date(1950 + i, 2, 3), i),
            f"1381234{i:04d}",
            "第一网格",
            "1号楼",
            "1",
            f"{i}",
            "",
            "",
            "",
        ]
        for i in range(1, 61)
    ]
    rows[1][5] = "新7号楼"
    rows[2][1] = ""  # rejected
    result = run_en(cast, xlsx(rows), dry_run=True)
    assert len(result.rows) == 50 and [r["row"] for r in result.rows] == list(range(3, 53))
    first = dict(result.rows[0]["cells"])
    assert first["证件号码"] == "6201**********" + rows[0][2][-4:]
    assert (first["Birth year"], first["联系电话"]) == ("1951", "138****0001")
    assert result.rows[0]["action"] == "create" and result.rows[0]["notes"] == [
        "New household: 1号楼 1单元 1"
    ]
    assert result.rows[1]["notes"][0] == "New building: 第一网格 新7号楼"
    assert result.rows[2]["action"] == "rejected" and result.rows[2]["notes"]
    assert dict(result.counts) == {"New buildings": 1, "New households": 60 - 1}
    stored = json.dumps(result.as_dict(), ensure_ascii=False)
    assert not any(row[2] in stored or row[3] in stored for row in rows)
    assert "1951-02-03" not in stored


def test_it_previews_a_person_of_another_area_only_as_registered_elsewhere(cast):
    from tests.scoping import make_person

    other = make_person(household=cast.household_b, name="登记名")
    rows = [[1, "表格名", other.doc_number, "", "", "1号楼", "1", "101", "", "", ""]]
    result = run_en(cast, xlsx(rows), user=cast.grid_worker, area=cast.grid_a, dry_run=True)
    (row,) = result.rows
    assert row["action"] == "rejected" and len(row["notes"]) == 1 and "another area" in row["notes"][0]
    stored = json.dumps(result.as_dict(), ensure_ascii=False)
    assert "登记名" not in stored and "第二网格" not in stored and other.doc_number not in stored
