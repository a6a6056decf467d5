"""The key-person ledger (重点人员排查登记表) through the one import pipeline: messy files, exact
row errors, plans under the active protocol, idempotent re-import, scope and refused changes."""

import datetime
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import translation

from epigrid.areas.models import Area, Household, Level
from epigrid.audit.models import ObjectChange
from epigrid.control import services
from epigrid.control.imports import (
    CATEGORY_LABELS,
    KeyPersonResource,
    format_team,
    parse_category,
    parse_measures,
    parse_team,
)
from epigrid.control.models import KeyPerson, Protocol
from epigrid.core.identity import make_resident_id
from epigrid.core.imports import run_import
from epigrid.core.tabular import CellError
from epigrid.people.models import Person
from tests.scoping import make_person

HEADER = [
    "序号",
    "姓名",
    "身份证号码",
    "联系电话",
    "现住址",
    "来源地",
    "抵达时间",
    "交通方式",
    "车次/航班号",
    "人员类别",
    "管控措施",
    "包保责任人",
    "末次暴露时间",
    "备注",
]
TEAM = "街道：张三 社区:李四 网格员:王五 医生:赵六 民警:钱七"
D = datetime.date


def xlsx(rows, header=HEADER):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["九州社区重点人员排查登记表（2022年4月）"])
    ws.merge_cells("A1:N1")
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


@pytest.fixture
def people(cast):
    contact = make_person(household=cast.household_a, name="密接甲")
    arrival = make_person(household=cast.household_a, name="来返乙")
    secondary = make_person(household=cast.household_b, name="次密丙")
    return contact, arrival, secondary


def rows_for(people):
    contact, arrival, secondary = people
    return [
        [
            1,
            "密接甲",
            contact.doc_number,
            "13812345678",
            "1号楼1单元101",
            "",
            "",
            "",
            "",
            "密接",
            "集中隔离",
            "王五",
            "2022年4月2日",
            "同楼栋",
        ],
        [
            2,
            "来返乙",
            arrival.doc_number,
            "",
            "1号楼1单元101",
            "上海市浦东新区",
            "2022-04-02 14:30",
            "火车",
            "G1234",
            "高风险区来（返）人员",
            "7天集中隔离",
            "",
            "",
            "",
        ],
        [
            3,
            "次密丙",
            secondary.doc_number,
            "",
            "9号楼2单元202",
            "",
            "",
            "",
            "",
            "密接的密接",
            "",
            TEAM,
            datetime.datetime(2022, 4, 3, 9, 15),
            "",
        ],
    ]


def run(cast, fileobj, user=None, area=None, dry_run=False):
    resource = KeyPersonResource(user or cast.community_officer, area or cast.community)
    with translation.override("en"):  # messages are asserted in their msgid form
        result = run_import(resource, fileobj, "重点人员排查登记表.xlsx", dry_run=dry_run)
    return result, resource


def steps(entry):
    return [(m.kind, m.start, m.planned_end) for m in entry.measures.order_by("sequence")]


def test_it_previews_without_writing(cast, people):
    result, _resource = run(cast, xlsx(rows_for(people)), dry_run=True)
    assert (result.created, result.updated, result.rejected, result.header_row) == (3, 0, 0, 2)
    assert set(result.unknown_columns) == {"序号"}
    assert not KeyPerson.objects.exists()


def test_it_imports_the_ledger_with_plans_under_the_active_protocol(cast, people):
    contact, arrival, secondary = people
    result, _resource = run(cast, xlsx(rows_for(people)))
    assert (result.created, result.rejected) == (3, 0), result.errors
    entry = KeyPerson.objects.get(person=contact)
    assert (entry.protocol.code, entry.category, entry.last_exposure, entry.area, entry.grid_worker) == (
        "v9",
        "close_contact",
        D(2022, 4, 2),
        cast.grid_a,
        "王五",
    )
    # 第九版: a close contact has 7 days centralized from the day after the exposure, then 3 days at home.
    assert steps(entry) == [
        ("centralized", D(2022, 4, 3), D(2022, 4, 9)),
        ("home_monitoring", D(2022, 4, 10), D(2022, 4, 12)),
    ]
    came = KeyPerson.objects.get(person=arrival)
    assert (came.category, came.arrival, came.origin, came.transport) == (
        "high_risk_arrival",
        D(2022, 4, 2),
        "上海市浦东新区",
        "火车 G1234",
    )
    assert steps(came) == [("centralized", D(2022, 4, 3), D(2022, 4, 9))]
    third = KeyPerson.objects.get(person=secondary)
    assert (third.category, third.last_exposure, third.area) == (
        "secondary_contact",
        D(2022, 4, 3),
        cast.grid_b,
    )
    assert (third.street_cadre, third.community_cadre, third.grid_worker, third.doctor, third.police) == (
        "张三",
        "李四",
        "王五",
        "赵六",
        "钱七",
    )


def test_it_reports_bad_rows_with_their_sheet_row_numbers(cast, people):
    other_community = Area.objects.create(
        code="620102001002", name="东岗社区", level=Level.COMMUNITY, parent=cast.street
    )
    other_grid = Area.objects.create(
        code="620102001002001", name="东岗一网格", level=Level.GRID, parent=other_community
    )
    outsider = make_person(area=other_grid, name="外区丁")
    stranger = make_resident_id("620102", D(1975, 6, 1), 777)
    rows = [
        *rows_for(people),
        [4, "错号戊", "360426199101010072", "", "", "", "", "", "", "密接", "", "", "2022-04-02", ""],
        [5, "外区丁", outsider.doc_number, "", "", "", "", "", "", "密接", "", "", "2022-04-02", ""],
        rows_for(people)[0],  # the same row again: one entry
        [7, "生人己", stranger, "", "", "", "", "", "", "密接", "", "", "2022-04-02", ""],
        [8, "密接甲", people[1].doc_number, "", "", "", "", "", "", "密接", "", "", "2022-04-02", ""],
        [
            9,
            "庚",
            make_resident_id("620102", D(1980, 1, 1), 778),
            "",
            "",
            "",
            "",
            "",
            "",
            "阳性",
            "",
            "",
            "",
            "",
        ],
        [
            10,
            "辛",
            make_resident_id("620102", D(1980, 1, 1), 779),
            "",
            "",
            "",
            "",
            "",
            "",
            "密接",
            "",
            "",
            "2022-13-01",
            "",
        ],
        [
            11,
            "壬",
            make_resident_id("620102", D(1980, 1, 1), 780),
            "",
            "",
            "",
            "",
            "",
            "",
            "密接",
            "",
            "张三、李四",
            "",
            "",
        ],
    ]
    result, _resource = run(cast, xlsx(rows))
    assert (result.created, result.unchanged, result.rejected) == (3, 1, 7)
    by_row = {e["row"]: e for e in result.errors}
    assert sorted(by_row) == [6, 7, 9, 10, 11, 12, 13]
    assert by_row[6]["column"] == "证件号"  # bad check digit
    assert by_row[7]["column"] == "证件号" and "another area" in by_row[7]["message"]
    assert by_row[9]["column"] == "证件号" and "not in the registry" in by_row[9]["message"]
    assert by_row[9]["message"].count("、") == 3  # 网格、楼栋、单元、房号
    assert by_row[10]["column"] == "姓名" and "来返乙" in by_row[10]["message"]
    assert by_row[11]["column"] == "人员类别"
    assert by_row[12]["column"] == "末次暴露时间"
    assert by_row[13]["column"] == "包保责任人"
    assert KeyPerson.objects.count() == 3 and not Person.objects.filter(doc_number=stranger).exists()


def test_it_rejects_persons_outside_a_grid_workers_scope(cast, people):
    result, _resource = run(cast, xlsx(rows_for(people)), user=cast.grid_worker, area=cast.grid_a)
    assert (result.created, result.rejected) == (2, 1)
    assert result.errors[0]["row"] == 5 and "another area" in result.errors[0]["message"]
    assert not KeyPerson.objects.filter(person=people[2]).exists()


def test_it_creates_nothing_the_second_time(cast, people):
    run(cast, xlsx(rows_for(people)))
    entries = list(KeyPerson.objects.order_by("pk").values())
    audit_rows = ObjectChange.objects.count()
    result, _resource = run(cast, xlsx(rows_for(people)))
    assert (result.created, result.updated, result.unchanged, result.rejected) == (0, 0, 3, 0)
    assert list(KeyPerson.objects.order_by("pk").values()) == entries
    assert ObjectChange.objects.count() == audit_rows


def test_it_updates_the_descriptive_fields_of_the_open_entry_and_logs_it(cast, people):
    run(cast, xlsx(rows_for(people)))
    entry = KeyPerson.objects.get(person=people[1])
    entry.notes = "页面记录：已电话随访"
    entry.save()
    rows = rows_for(people)
    rows[1][5] = "上海市闵行区"
    rows[1][11] = "医生:赵六"
    rows[1][13] = "已转运"
    result, _resource = run(cast, xlsx(rows))
    assert (result.updated, result.unchanged) == (1, 2)
    entry.refresh_from_db()
    assert (entry.origin, entry.doctor, entry.notes) == (
        "上海市闵行区",
        "赵六",
        "页面记录：已电话随访\n已转运",
    )
    change = ObjectChange.objects.filter(object_id=entry.pk, action="update").latest("id")
    assert (change.prechange_data["origin"], change.postchange_data["origin"]) == (
        "上海市浦东新区",
        "上海市闵行区",
    )
    assert steps(entry) == [("centralized", D(2022, 4, 3), D(2022, 4, 9))]


def test_it_refuses_a_category_change(cast, people):
    run(cast, xlsx(rows_for(people)))
    rows = rows_for(people)
    rows[0][9] = "次密接"
    result, _resource = run(cast, xlsx(rows))
    assert (result.rejected, result.updated) == (1, 0)
    error = result.errors[0]
    assert (error["row"], error["column"]) == (3, "人员类别")
    assert "密切接触者" in error["message"] and "re-plans" in error["message"]
    assert KeyPerson.objects.get(person=people[0]).category == "close_contact"


def test_it_refuses_a_changed_anchor_date_but_takes_another_date(cast, people):
    run(cast, xlsx(rows_for(people)))
    rows = rows_for(people)
    rows[0][12] = "2022-04-05"  # the close contact's plan counts from the last exposure
    rows[0][6] = "2022-03-30"  # an arrival date is information for a close contact
    result, _resource = run(cast, xlsx(rows))
    assert result.rejected == 1 and result.errors[0]["column"] == "末次暴露时间"
    rows[0][12] = "2022-04-02"
    result, _resource = run(cast, xlsx(rows))
    assert (result.rejected, result.updated) == (0, 1)
    entry = KeyPerson.objects.get(person=people[0])
    assert (entry.last_exposure, entry.arrival) == (D(2022, 4, 2), D(2022, 3, 30))


def test_it_rejects_a_category_the_active_protocol_no_longer_manages(cast, people):
    services.activate(Protocol.objects.get(code="twenty"))
    result, _resource = run(cast, xlsx(rows_for(people)))
    assert (result.created, result.rejected) == (2, 1)
    error = result.errors[0]
    assert (error["row"], error["column"]) == (5, "人员类别") and "二十条" in error["message"]
    # 二十条: a close contact has 5 days centralized, then 3 days of home isolation.
    assert steps(KeyPerson.objects.get(person=people[0])) == [
        ("centralized", D(2022, 4, 3), D(2022, 4, 7)),
        ("home_isolation", D(2022, 4, 8), D(2022, 4, 10)),
    ]


def test_it_registers_a_person_not_yet_in_the_registry_with_the_place_columns(cast):
    number = make_resident_id("310115", D(1990, 2, 3), 123)
    header = ["姓名", "证件号", "电话", "网格", "楼栋", "单元", "房号", "人员类别", "抵达时间", "来源地"]
    rows = [
        ["外来甲", number, "13912345678", "第一网格", "5号楼", "3", "301", "入境人员", "2022/4/1", "香港"]
    ]
    result, _resource = run(cast, xlsx(rows, header=header))
    assert (result.created, result.rejected) == (1, 0), result.errors
    person = Person.objects.get(doc_number=number)
    assert (person.name, person.phone, person.area) == ("外来甲", "+8613912345678", cast.grid_a)
    assert Household.objects.filter(building__name="5号楼", unit="3", room="301", area=cast.grid_a).exists()
    entry = KeyPerson.objects.get(person=person)
    assert (entry.category, entry.arrival, entry.area) == ("inbound", D(2022, 4, 1), cast.grid_a)
    assert len(steps(entry)) == 2


def test_it_keeps_a_released_entry_released_when_the_old_ledger_comes_again(cast, people):
    run(cast, xlsx(rows_for(people)))
    entry = KeyPerson.objects.get(person=people[0])
    services.release(entry, "期满解除")
    result, _resource = run(cast, xlsx(rows_for(people)))
    assert (result.created, result.unchanged) == (0, 3)
    assert KeyPerson.objects.filter(person=people[0]).count() == 1
    rows = rows_for(people)
    rows[0][12] = "2022-05-20"  # a new exposure: a new entry
    result, _resource = run(cast, xlsx(rows))
    assert result.created == 1
    assert KeyPerson.objects.filter(person=people[0], status="open").get().last_exposure == D(2022, 5, 20)


def test_it_warns_about_a_measure_that_contradicts_the_plan_without_rejecting(cast, people):
    rows = rows_for(people)
    rows[0][10] = "居家隔离"
    rows[1][10] = "住院治疗"
    result, resource = run(cast, xlsx(rows), dry_run=True)
    assert (result.created, result.rejected) == (3, 0)
    assert [(w["row"], w["column"]) for w in resource.warnings] == [(3, "管控措施"), (4, "管控措施")]
    assert "集中隔离医学观察+居家健康监测" in resource.warnings[0]["message"]
    assert result.as_dict()["warnings"] == resource.warnings  # shown on the job page


def test_it_refuses_an_open_entry_handed_over_out_of_the_area(cast, people):
    run(cast, xlsx(rows_for(people)))
    services.hand_over(KeyPerson.objects.get(person=people[0]), cast.grid_b, "搬家")
    result, _resource = run(cast, xlsx(rows_for(people)), user=cast.grid_worker, area=cast.grid_a)
    assert result.errors[0]["row"] == 3 and "hand the entry over" in result.errors[0]["message"]


def test_it_imports_through_the_command_line(cast, people, tmp_path):
    path = tmp_path / "重点人员.xlsx"
    path.write_bytes(xlsx(rows_for(people)).getvalue())
    out = io.StringIO()
    call_command("import", "keypersons", str(path), "--area", cast.community.code, "--json", stdout=out)
    assert json.loads(out.getvalue())["created"] == 3


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("确诊", "confirmed"),
        ("疑似病例", "suspected"),
        ("发热", "fever"),
        ("密接", "close_contact"),
        ("密切接触者", "close_contact"),
        ("次密接", "secondary_contact"),
        ("密接的密接", "secondary_contact"),
        ("高风险区来（返）人员", "high_risk_arrival"),
        ("中风险地区来返", "medium_risk_arrival"),
        ("低风险区来返人员", "low_risk_arrival"),
        ("境外入境人员", "inbound"),
        ("时空伴随者", "spacetime_companion"),
        ("高风险岗位人员", "risk_occupation"),
        ("其他", "other"),
    ],
)
def test_it_reads_the_category_names_offices_use(text, category):
    assert parse_category(text) == category


def test_it_reads_back_every_exported_category_name():
    assert {parse_category(label) for label in CATEGORY_LABELS.values()} == set(CATEGORY_LABELS)


def test_it_reads_the_team_labelled_or_as_a_single_name():
    assert parse_team(TEAM) == {
        "street_cadre": "张三",
        "community_cadre": "李四",
        "grid_worker": "王五",
        "doctor": "赵六",
        "police": "钱七",
    }
    assert parse_team("王五") == {"grid_worker": "王五"}
    assert parse_team("网格员: 王五 13912345678") == {"grid_worker": "王五 13912345678"}
    assert parse_team(format_team(parse_team(TEAM))) == parse_team(TEAM)
    for bad in ("张三、李四", "志愿者:孙八", "街道:张三 街道:李四"):
        with pytest.raises(CellError):
            parse_team(bad)


def test_it_reads_measures_with_days_and_ignores_bare_numbers():
    assert parse_measures("7天集中隔离+3天居家健康监测") == (("centralized", "home_monitoring"), ())
    assert parse_measures("7+3") == ((), ())
    assert parse_measures("住院") == ((), ("住院",))


def test_it_previews_and_confirms_the_ledger_as_jobs_through_the_api(
    cast, people, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from epigrid.jobs.models import Status

    client = APIClient()
    client.force_authenticate(cast.community_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/keypersons/",
            {"file": xlsx(rows_for(people)), "area": cast.community.code},
            format="multipart",
        )
    preview = client.get(response["Location"]).json()
    assert (preview["status"], preview["result"]["created"]) == (Status.SUCCEEDED, 3)
    assert not KeyPerson.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/jobs/{preview['id']}/confirm/")
    job = client.get(response["Location"]).json()
    assert (job["status"], job["result"]["created"]) == (Status.SUCCEEDED, 3)
    change = ObjectChange.objects.filter(content_type__model="keyperson", action="create").first()
    assert (change.user, change.source) == (cast.community_officer, "job")


def test_it_offers_a_template_with_the_ledgers_columns(cast):
    response = cast.client_for(cast.community_officer).get("/jobs/import/keypersons/template.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["*姓名", "证件类型", "*证件号"] and "*人员类别" in header and "包保责任人" in header
    assert parse_category(sheet.cell(2, header.index("*人员类别") + 1).value) == "close_contact"
    assert parse_team(sheet.cell(2, header.index("包保责任人") + 1).value)["police"] == "孙八"


# -- issue 8: bulk writes, preview rows, the grid from the building ------------------------------
def test_it_writes_what_register_key_person_writes(cast, people):
    from django.contrib.contenttypes.models import ContentType

    from epigrid.audit.models import Transition
    from epigrid.control.models import ControlMeasure
    from epigrid.core.context import change_context

    contact, arrival, secondary = people
    rows = rows_for(people)[:1]
    with change_context(user=cast.community_officer, source="import"), translation.override("en"):
        run(cast, xlsx(rows))
        services.register_key_person(
            arrival,
            "close_contact",
            cast.grid_a,
            last_exposure=D(2022, 4, 2),
            notes="同楼栋",
            grid_worker="王五",
        )
    imported, registered = (KeyPerson.objects.get(person=p) for p in (contact, arrival))

    def entry_values(entry):
        values = KeyPerson.objects.filter(pk=entry.pk).values().get()
        return {k: v for k, v in values.items() if k not in ("id", "person_id", "created", "last_updated")}

    def measure_values(entry):
        return [
            {k: v for k, v in m.items() if k not in ("id", "key_person_id", "created", "last_updated")}
            for m in ControlMeasure.objects.filter(key_person=entry).order_by("sequence").values()
        ]

    def log(entry):
        measures = list(ControlMeasure.objects.filter(key_person=entry).order_by("sequence"))
        rows = []
        for obj in (entry, *measures):
            change = ObjectChange.objects.get(
                content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
            )
            data = {
                k: v
                for k, v in change.postchange_data.items()
                if k not in ("id", "person_id", "key_person_id")
            }
            described = change.object_repr.replace(entry.person.name, "")
            rows.append((change.action, change.user, change.source, change.area_path, described, data))
        return rows

    assert entry_values(imported) == entry_values(registered)
    assert measure_values(imported) == measure_values(registered) and len(measure_values(imported)) == 2
    assert log(imported) == log(registered)
    assert Transition.objects.count() == 0  # register_key_person writes no history rows either


def test_it_writes_the_entries_in_a_few_statements_whatever_their_number(cast, django_assert_max_num_queries):
    persons = [make_person(household=cast.household_a, name=f"人{i}") for i in range(40)]
    rows = [
        [i, p.name, p.doc_number, "", "", "", "", "", "", "密接", "", "", "2022-04-02", ""]
        for i, p in enumerate(persons)
    ]
    resource = KeyPersonResource(cast.community_officer, cast.community)
    outcomes, problems = resource.plan_rows(
        [
            (
                n,
                resource.clean_row(
                    dict(
                        zip(
                            ["name", "doc_number", "category", "last_exposure"],
                            [r[1], r[2], r[9], r[12]],
                            strict=True,
                        )
                    )
                ),
            )
            for n, r in enumerate(rows, start=3)
        ]
    )
    assert len(outcomes) == 40 and not problems
    with django_assert_max_num_queries(20):  # one entry at a time took about 10 a row
        resource.write(outcomes)
    assert KeyPerson.objects.count() == 40


def test_it_keeps_an_entry_opened_between_the_preview_and_the_write(cast, people):
    resource = KeyPersonResource(cast.community_officer, cast.community)
    contact = people[0]
    original_plan = resource.plan_rows

    def plan_then_someone_registers(cleaned_rows):
        planned = original_plan(cleaned_rows)
        services.register_key_person(contact, "secondary_contact", cast.grid_a)  # a page, meanwhile
        return planned

    resource.plan_rows = plan_then_someone_registers
    with translation.override("en"):
        result = run_import(resource, xlsx(rows_for(people)), "k.xlsx", dry_run=False)
    assert result.created == 3  # as planned; the person keeps the entry the page made
    assert KeyPerson.objects.get(person=contact).category == "secondary_contact"
    assert KeyPerson.objects.count() == 3


def test_it_previews_the_rows_masked_with_what_happens_to_each(cast, people):
    number = make_resident_id("310115", D(1990, 2, 3), 123)
    header = ["姓名", "证件号", "电话", "楼栋", "单元", "房号", "人员类别", "抵达时间"]
    rows = [
        ["外来甲", number, "13912345678", "5号楼", "3", "301", "入境人员", "2022/4/1"],
        ["密接甲", people[0].doc_number, "", "", "", "", "密接", ""],
    ]
    run(cast, xlsx(rows_for(people)))
    result, _resource = run(cast, xlsx(rows, header=header), dry_run=True)
    new, known = result.rows
    assert new["action"] == "rejected" and "5号楼" in new["notes"][0]  # a new building: which grid?
    assert known["action"] == "unchanged" or known["action"] == "update"
    assert dict(known["cells"])["人员类别"] == "密切接触者"
    stored = json.dumps(result.as_dict(), ensure_ascii=False)
    assert number not in stored and "13912345678" not in stored and people[0].doc_number not in stored
    assert dict(new["cells"])["证件号码"] == number[:4] + "*" * 10 + number[-4:]


def test_it_registers_a_new_person_in_the_grid_of_their_building(cast):
    number = make_resident_id("310115", D(1990, 2, 3), 123)
    header = ["姓名", "证件号", "楼栋", "单元", "房号", "人员类别", "抵达时间"]
    rows = [["外来甲", number, "一号楼", "1", "301", "入境人员", "2022/4/1"]]
    preview, _resource = run(cast, xlsx(rows, header=header), dry_run=True)
    (row,) = preview.rows
    assert row["action"] == "create"
    assert row["notes"] == [
        "Registers a new resident",
        "一号楼 is building 1号楼",
        "New household: 1号楼 1单元 301",
    ]
    assert dict(preview.counts) == {"New residents": 1, "New buildings": 0, "New households": 1}
    result, _resource = run(cast, xlsx(rows, header=header))
    assert result.created == 1, result.errors
    person = Person.objects.get(doc_number=number)
    assert (person.area, person.household.building) == (cast.grid_a, cast.building_a)
    assert KeyPerson.objects.get(person=person).area == cast.grid_a
