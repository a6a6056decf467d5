"""The requester's list 协查人员名单 through the shared pipeline into a request: bad rows (check
digit, Excel-mangled number, phone, date, category, the same document twice) reported with the
sheet's row numbers and never half written, the same file twice changing nothing, the upload page
and `epigrid import assist-persons --request`. And the reply list 协查反馈表 out, masked unless
revealed."""

import datetime
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from epigrid.assistance import services
from epigrid.assistance.exports import HEADERS
from epigrid.assistance.imports import AssistPersonResource
from epigrid.assistance.models import AssistPerson
from epigrid.audit.models import ObjectChange
from epigrid.core.identity import make_resident_id, mask_document
from epigrid.core.imports import run_import
from epigrid.jobs.models import Job, Status
from tests.scoping import make_person
from tests.test_assistance_cast import assist, outsider_id, row_of

HEADER = ["序号", "姓名", "证件号码", "联系电话", "协查原因", "末次暴露时间", "住址", "备注"]


def xlsx(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["天水市协查人员名单（第57号）"])  # a title row above the header, as offices send
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def line(name, number, phone="13812345678", category="密接", day="2022-11-18", address="雁滩路1号", note=""):
    return ["1", name, number, phone, category, day, address, note]


def run(user, request, fileobj, dry_run=False):
    with translation.override("en"):
        return run_import(AssistPersonResource(user, request), fileobj, "协查名单.xlsx", dry_run=dry_run)


@pytest.fixture
def aid(cast):
    return assist(cast)


def test_it_imports_the_list_and_a_second_run_changes_nothing(cast, aid):
    request = aid.request()
    resident = make_person(household=cast.household_b, name="李雷")
    rows = [line("李雷", resident.doc_number), line("外地人", outsider_id(), category="时空伴随者")]
    first = run(cast.commander, request, xlsx(rows))
    assert (first.created, first.rejected, first.errors) == (2, 0, [])
    by_name = {p.name: p for p in request.persons.all()}
    assert by_name["李雷"].area == cast.grid_b and by_name["外地人"].area == cast.district
    assert by_name["外地人"].category == "spacetime_companion"
    assert by_name["李雷"].exposure_on == datetime.date(2022, 11, 18)
    assert by_name["李雷"].phone == "+8613812345678"
    logged = ObjectChange.objects.count()
    second = run(cast.commander, request, xlsx(rows))
    assert (second.created, second.unchanged, second.rejected) == (0, 2, 0)
    assert request.persons.count() == 2 and ObjectChange.objects.count() == logged


def test_bad_rows_are_reported_with_their_row_numbers_and_never_written(cast, aid):
    request = aid.request()
    good = outsider_id()
    bad_check_digit = good[:-1] + ("0" if good[-1] != "0" else "1")
    twice = outsider_id()
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    rows = [
        line("好人", good),  # row 3: fine
        line("错号", bad_check_digit),  # row 4: bad check digit
        line("科学计数", 6.10113198506e17),  # row 5: Excel turned the ID into a number
        line("坏电话", outsider_id(), phone="12345"),  # row 6
        line("坏日期", outsider_id(), day="2022-13-45"),  # row 7
        line("将来", outsider_id(), day=tomorrow),  # row 8
        line("不知类别", outsider_id(), category="路人"),  # row 9
        line("重复", twice),  # row 10
        line("重复", twice, phone="13912345678"),  # row 11: same document, other details
    ]
    result = run(cast.commander, request, xlsx(rows))
    by_row = {e["row"]: e for e in result.errors}
    assert sorted(by_row) == [4, 5, 6, 7, 8, 9, 11], result.errors
    assert {by_row[4]["column"], by_row[5]["column"]} == {"证件号码"}
    assert by_row[6]["column"] == "联系电话" and by_row[7]["column"] == "末次暴露时间"
    assert by_row[8]["column"] == "末次暴露时间" and by_row[9]["column"] == "人员类别"
    assert "row 10" in by_row[11]["message"]
    assert (result.created, result.rejected) == (2, 7)
    assert sorted(request.persons.values_list("name", flat=True)) == ["好人", "重复"]


def test_a_dry_run_writes_nothing(cast, aid):
    request = aid.request()
    result = run(cast.commander, request, xlsx([line("好人", outsider_id())]), dry_run=True)
    assert result.created == 1 and not request.persons.exists()


def test_an_answered_row_is_never_touched_by_a_file(cast, aid):
    person = make_person(household=cast.household_a, name="李雷")
    request = aid.request(rows=[row_of(person)])
    row = services.answer_not_here(cast.commander, request.persons.get(), "left", "已离开")
    result = run(cast.commander, request, xlsx([line("李雷", person.doc_number, address="别处")]))
    assert (result.created, result.unchanged) == (0, 1)
    assert AssistPerson.objects.get(pk=row.pk).status == "left"


def test_the_region_code_never_rejects_a_row(cast, aid):
    request = aid.request()
    elderly = make_resident_id("620102", datetime.date(1950, 1, 1), 3)  # stdnum's region check refuses it
    assert run(cast.commander, request, xlsx([line("老人", elderly)])).created == 1


def test_the_command_imports_into_a_request(cast, aid, tmp_path, capsys):
    request = aid.request()
    path = tmp_path / "协查名单.xlsx"
    path.write_bytes(xlsx([line("好人", outsider_id())]).getvalue())
    call_command("import", "assist-persons", str(path), "--request", str(request.pk), "--dry-run", "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 1 and not request.persons.exists()
    call_command("import", "assist-persons", str(path), "--request", str(request.pk), "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 1 and request.persons.count() == 1


def test_the_upload_page_previews_masked_then_imports_on_confirm(
    cast, aid, django_capture_on_commit_callbacks
):
    request = aid.request(area=cast.street)
    number = outsider_id()
    client = cast.client_for(cast.street_officer)
    assert client.get("/jobs/import/assist-persons/template.xlsx").status_code == 200
    page = client.get("/jobs/import/assist-persons/").content.decode()
    assert str(request) in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/jobs/import/assist-persons/", {"request": str(request.pk), "file": xlsx([line("好人", number)])}
        )
    preview = Job.objects.get()
    assert preview.status == Status.SUCCEEDED and preview.result["created"] == 1
    assert number not in client.get(preview.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/jobs/{preview.pk}/confirm/")
    assert request.persons.get().doc_number == number


def test_a_request_outside_the_users_scope_is_not_offered(cast, aid):
    request = aid.request(area=cast.district)
    client = cast.client_for(cast.street_officer)
    assert client.get("/jobs/import/assist-persons/").status_code == 403  # nothing to import into
    aid.request(area=cast.street)
    assert str(request) not in client.get("/jobs/import/assist-persons/").content.decode()
    response = client.post(
        "/jobs/import/assist-persons/",
        {"request": str(request.pk), "file": xlsx([line("好人", outsider_id())])},
    )
    assert response.status_code == 200 and not Job.objects.exists()  # the form refuses the choice


# -- the reply list --------------------------------------------------------------------------------


def reply(cast, user, capture, request, **extra):
    client = cast.client_for(user)
    with capture(execute=True):
        response = client.post("/jobs/export/assist-reply/", {"query": f"request={request.pk}", **extra})
    job = Job.objects.filter(user=user).order_by("-created").first()
    return client, response, job


def sheet(client, job):
    assert job.status == Status.SUCCEEDED, job.message
    data = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    return list(rows[0]), [dict(zip(rows[0], r, strict=True)) for r in rows[1:]], data


def half_answered(cast, aid):
    found = make_person(household=cast.household_a, name="李雷")
    request = aid.request(rows=[row_of(found), row_of(name="查无"), row_of(name="待查")])
    first, second, _third = request.persons.order_by("number")
    services.answer_found(cast.grid_worker, first, note="已转运集中隔离")
    services.answer_not_here(cast.commander, second, "no_such_person", "该地址无此人")
    return request, found


def test_the_reply_list_has_the_requesters_columns(cast, aid, django_capture_on_commit_callbacks):
    request, found = half_answered(cast, aid)
    client, _response, job = reply(
        cast, cast.commander, django_capture_on_commit_callbacks, request, unmasked="on", reason="回复天水市"
    )
    header, rows, _data = sheet(client, job)
    assert header == HEADERS
    by_name = {r["姓名"]: r for r in rows}
    assert [r["序号"] for r in rows] == [1, 2, 3]
    assert by_name["李雷"]["证件号码"] == found.doc_number
    assert by_name["李雷"]["核查结果"] == "已找到，已落实管控"
    assert by_name["李雷"]["落实措施"] == "集中隔离医学观察"
    assert by_name["李雷"]["管控地点/社区"] == "九州社区·第一网格"
    assert by_name["李雷"]["落实时间"] and by_name["李雷"]["备注"] == "已转运集中隔离"
    assert (by_name["查无"]["核查结果"], by_name["查无"]["备注"]) == ("查无此人", "该地址无此人")
    assert by_name["待查"]["核查结果"] == "核查中" and not by_name["待查"]["落实措施"]


def test_the_reply_list_is_masked_without_the_reveal_right(cast, aid, django_capture_on_commit_callbacks):
    request, found = half_answered(cast, aid)
    client, _response, job = reply(cast, cast.auditor, django_capture_on_commit_callbacks, request)
    _header, rows, data = sheet(client, job)
    assert {r["证件号码"] for r in rows} >= {mask_document(found.doc_number)}
    for number in request.persons.values_list("doc_number", flat=True):
        assert number.encode() not in data
    _client, response, refused = reply(
        cast, cast.auditor, django_capture_on_commit_callbacks, request, unmasked="on", reason="想看看"
    )
    assert response.status_code == 403
