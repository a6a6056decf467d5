"""The isolation-point ledger 隔离点台账 (issue #11, decision 0024 addendum): the export in the
offices' columns, masked unless the role may reveal, within the user's sites; the import
"isolation-stays" finding or registering the person, allocating and checking in through the
services, the same file twice changing nothing, bad rows with the sheet's row numbers."""

import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from epigrid.audit.models import ObjectChange
from epigrid.control import services as control_services
from epigrid.core.identity import display_phone, make_resident_id, mask_document, mask_phone
from epigrid.core.imports import run_import
from epigrid.isolation import services
from epigrid.isolation.exports import HEADERS, household_address
from epigrid.isolation.imports import StayResource, parse_address
from epigrid.isolation.models import Room, Stay
from epigrid.jobs.models import Job, Status
from epigrid.people.models import Person
from tests.isolation_cast import isolation
from tests.test_testing_sweeps import xlsx

PHONE = "+8613812345678"


@pytest.fixture
def iso(cast):
    return isolation(cast)


def stay_in(iso, person, room, staff=None):
    stay = services.allocate(staff or iso.staff_a, person, room)
    return services.check_in(staff or iso.staff_a, stay)


def export(cast, user, capture, query="", **extra):
    client = cast.client_for(user)
    with capture(execute=True):
        response = client.post("/jobs/export/isolation-stays/", {"query": query, **extra})
    job = Job.objects.filter(user=user).order_by("-created").first()
    return client, response, job


def sheet(client, job):
    assert job.status == Status.SUCCEEDED, job.message
    data = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    return list(rows[0]), [dict(zip(rows[0], r, strict=True)) for r in rows[1:]], data


# -- export ----------------------------------------------------------------------------------------


def test_the_export_has_the_offices_columns_in_full_for_a_role_that_may_reveal(
    cast, iso, django_capture_on_commit_callbacks
):
    person = iso.person(name="李雷", phone=PHONE)
    stay_in(iso, person, iso.room())
    left = iso.person(name="韩梅梅")
    services.check_out(iso.staff_a, stay_in(iso, left, iso.room(number="102")))
    client, _response, job = export(
        cast, cast.commander, django_capture_on_commit_callbacks, unmasked="on", reason="上报指挥部"
    )
    header, rows, _data = sheet(client, job)
    assert header == HEADERS
    by_name = {r["姓名"]: r for r in rows}
    row = by_name["李雷"]
    assert (row["所在区"], row["酒店"], row["房间号"]) == ("城关区", "第一网格隔离酒店", "101")
    checked_in = timezone.localtime(Stay.objects.get(person=person).checked_in_at)
    assert row["入住时间"] == checked_in.strftime("%Y-%m-%d %H:%M")
    assert (row["身份证"], row["联系方式"]) == (person.doc_number, display_phone(PHONE))
    assert row["性别"] == {"M": "男", "F": "女"}[person.sex]
    assert (row["街道"], row["社区"], row["楼号单元房间号"]) == ("九州街道", "九州社区", "1号楼1单元101")
    assert row["解除隔离日期"] is None  # still in, no centralized measure: no date to give
    checked_out = timezone.localtime(Stay.objects.get(person=left).checked_out_at)
    assert by_name["韩梅梅"]["解除隔离日期"] == checked_out.strftime("%Y-%m-%d")


def test_the_release_date_of_a_current_stay_is_its_measures_planned_end(
    cast, iso, django_capture_on_commit_callbacks
):
    person = iso.person(name="李雷")
    entry, _created = control_services.register_key_person(person, "close_contact", cast.grid_a)
    stay = services.allocate(iso.staff_a, person, iso.room(), entry=entry)
    assert stay.measure.planned_end is not None
    client, _response, job = export(cast, cast.commander, django_capture_on_commit_callbacks)
    _header, rows, _data = sheet(client, job)
    assert rows[0]["解除隔离日期"] == stay.measure.planned_end.isoformat()
    assert rows[0]["入住时间"] is None  # allocated, not arrived yet


def test_the_export_is_masked_for_site_staff_without_the_reveal_right(
    cast, iso, django_capture_on_commit_callbacks
):
    person = iso.person(name="李雷", phone=PHONE)
    stay_in(iso, person, iso.room())
    client, _response, job = export(cast, iso.staff_a, django_capture_on_commit_callbacks)
    _header, rows, data = sheet(client, job)
    assert rows[0]["身份证"] == mask_document(person.doc_number) != person.doc_number
    assert rows[0]["联系方式"] == mask_phone(PHONE) != display_phone(PHONE)
    assert rows[0]["姓名"] == "李雷"  # the staff call their persons by name: names are not masked
    assert person.doc_number.encode() not in data and b"13812345678" not in data
    # Asking for full data without the right is refused outright, not quietly masked.
    _client, response, refused = export(
        cast, iso.staff_b, django_capture_on_commit_callbacks, unmasked="on", reason="x1"
    )
    assert response.status_code == 403 and refused is None


def test_the_export_holds_only_the_users_sites(cast, iso, django_capture_on_commit_callbacks):
    stay_in(iso, iso.person(name="李雷"), iso.room())
    stay_in(iso, iso.person(cast.grid_b, name="王芳"), iso.room(cast.grid_b), staff=iso.staff_b)
    for user, names in (
        (iso.staff_b, ["王芳"]),
        (iso.official_a, ["李雷"]),
        (cast.commander, ["李雷", "王芳"]),
    ):
        client, _response, job = export(cast, user, django_capture_on_commit_callbacks)
        _header, rows, _data = sheet(client, job)
        assert sorted(r["姓名"] for r in rows) == sorted(names), user


def test_the_site_pages_link_to_the_ledger(cast, iso):
    site = iso.site()
    client = cast.client_for(iso.staff_a)
    assert "/isolation/stays/" in client.get(f"/isolation/sites/{site.pk}/").content.decode()
    assert 'data-testid="ledger-link"' in client.get("/isolation/").content.decode()
    assert 'data-testid="export-form"' in client.get(f"/isolation/stays/?site={site.pk}").content.decode()


# -- import ----------------------------------------------------------------------------------------

HEADER = [
    "所在区",
    "酒店",
    "房间号",
    "入住时间",
    "姓名",
    "性别",
    "身份证",
    "联系方式",
    "街道",
    "社区",
    "楼号单元房间号",
    "解除隔离日期",
    "备注",
]
SITE = "第一网格隔离酒店"


def line(person_name, number, room="101", site=SITE, address="", at="2022-11-20 14:30", note=""):
    return [
        "城关区",
        site,
        room,
        at,
        person_name,
        "",
        number,
        "13812345678",
        "九州街道",
        "九州社区",
        address,
        "",
        note,
    ]


def run(user, area, fileobj, dry_run=False):
    with translation.override("en"):
        return run_import(StayResource(user, area), fileobj, "隔离点台账.xlsx", dry_run=dry_run)


def test_it_reads_the_address_as_the_offices_write_it():
    assert parse_address("3号楼2单元502") == ("3号楼", "2", "502")
    assert parse_address("3号楼502室") == ("3号楼", "", "502")
    assert parse_address("3-2-502") == ("3", "2", "502")
    assert parse_address("") is None
    # What the export writes, the import reads back.
    assert parse_address(household_address("1", "1", "101")) == ("1号楼", "1", "101")


def test_it_imports_stays_and_a_second_run_changes_nothing(cast, iso):
    iso.site()
    known = iso.person(name="李雷")
    new_number = make_resident_id("620102", known.birth_date.replace(year=1990), 901)
    rows = [line("李雷", known.doc_number), line("新来人", new_number, room="102", address="1号楼1单元101")]
    first = run(cast.admin, cast.district, xlsx(HEADER, rows))
    assert (first.created, first.rejected, first.errors) == (2, 0, [])
    stays = {s.person.name: s for s in Stay.objects.select_related("person", "room")}
    assert {n: (s.room.number, s.status) for n, s in stays.items()} == {
        "李雷": ("101", "checked_in"),
        "新来人": ("102", "checked_in"),
    }
    assert stays["李雷"].person == known  # searched before created: the registered person
    newcomer = Person.objects.get(doc_number=new_number)
    assert newcomer.household == cast.household_a  # registered through the resident ledger
    assert set(Room.objects.filter(number__in=["101", "102"]).values_list("status", flat=True)) == {
        "occupied"
    }
    logged = ObjectChange.objects.count()
    second = run(cast.admin, cast.district, xlsx(HEADER, rows))
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, 2, 0)
    assert Stay.objects.count() == 2 and ObjectChange.objects.count() == logged


def test_bad_rows_are_reported_with_their_row_numbers_and_never_written(cast, iso):
    iso.site()
    iso.site(cast.grid_b)
    taken = iso.person(name="占用人")
    stay_in(iso, taken, iso.room(number="103"))
    good = iso.person(name="李雷")
    bad_check_digit = good.doc_number[:-1] + ("0" if good.doc_number[-1] != "0" else "1")
    others = [iso.person(name=f"人{n}") for n in range(3)]
    rows = [
        line("李雷", good.doc_number),  # row 3: fine
        line("错号人", bad_check_digit, room="102"),  # row 4: bad check digit
        line("人0", others[0].doc_number, site="不存在的酒店"),  # row 5: unknown site
        line("人1", others[1].doc_number, room="999"),  # row 6: unknown room
        line("人2", others[2].doc_number, room="103"),  # row 7: room taken
    ]
    result = run(cast.commander, cast.district, xlsx(HEADER, rows))
    assert (result.created, result.rejected) == (1, 4)
    by_row = {e["row"]: e for e in result.errors}
    assert sorted(by_row) == [4, 5, 6, 7]
    assert by_row[4]["column"] == "身份证"
    assert by_row[5]["column"] == "酒店" and "不存在的酒店" in by_row[5]["message"]
    assert by_row[6]["column"] == "房间号" and "999" in by_row[6]["message"]
    assert by_row[7]["column"] == "房间号" and "taken" in by_row[7]["message"]
    assert set(Stay.objects.values_list("person__name", flat=True)) == {"占用人", "李雷"}
    assert not Room.objects.filter(number="999").exists()


def test_a_site_outside_the_users_sites_is_unknown(cast, iso):
    iso.site(cast.grid_b)
    person = iso.person(name="李雷")
    result = run(
        iso.staff_a, cast.district, xlsx(HEADER, [line("李雷", person.doc_number, site="第二网格隔离酒店")])
    )
    assert (result.created, result.rejected) == (0, 1)
    assert result.errors[0]["row"] == 3 and result.errors[0]["column"] == "酒店"


def test_two_rows_for_one_room_keep_the_first(cast, iso):
    iso.site()
    a, b = iso.person(name="甲"), iso.person(name="乙")
    result = run(
        cast.commander, cast.district, xlsx(HEADER, [line("甲", a.doc_number), line("乙", b.doc_number)])
    )
    assert (result.created, result.rejected) == (1, 1)
    assert result.errors[0]["row"] == 4 and "row 3" in result.errors[0]["message"]


def test_a_dry_run_writes_nothing(cast, iso):
    iso.site()
    person = iso.person(name="李雷")
    result = run(cast.commander, cast.district, xlsx(HEADER, [line("李雷", person.doc_number)]), dry_run=True)
    assert (result.created, result.rejected) == (1, 0)
    assert not Stay.objects.exists()
    assert Room.objects.get(site=iso.site(), number="101").status == "free"
    # The preview masks the ID number like every ledger's.
    assert person.doc_number not in json.dumps(result.rows, ensure_ascii=False)


def test_the_command_imports_the_ledger(cast, iso, tmp_path, capsys):
    iso.site()
    person = iso.person(name="李雷")
    path = tmp_path / "隔离点台账.xlsx"
    path.write_bytes(xlsx(HEADER, [line("李雷", person.doc_number)]).getvalue())
    call_command("import", "isolation-stays", str(path), "--area", cast.district.code, "--dry-run", "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 1 and not Stay.objects.exists()
    call_command("import", "isolation-stays", str(path), "--area", cast.district.code, "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 1
    assert Stay.objects.get().status == "checked_in"


def test_the_upload_page_previews_masked_then_imports_on_confirm(
    cast, iso, django_capture_on_commit_callbacks
):
    iso.site()
    person = iso.person(name="李雷")
    client = cast.client_for(iso.staff_a)
    assert client.get("/jobs/import/isolation-stays/template.xlsx").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/jobs/import/isolation-stays/",
            {"area": cast.district.code, "file": xlsx(HEADER, [line("李雷", person.doc_number)])},
        )
    preview = Job.objects.get()
    assert preview.status == Status.SUCCEEDED and preview.result["created"] == 1
    html = client.get(preview.get_absolute_url()).content.decode()
    assert person.doc_number not in html and not Stay.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/jobs/{preview.pk}/confirm/")
    stay = Stay.objects.get()
    assert (stay.person, stay.room.number, stay.status, stay.allocated_by) == (
        person,
        "101",
        "checked_in",
        iso.staff_a,
    )


def test_a_person_registered_outside_the_users_area_is_refused_without_being_shown(cast, iso):
    """A site's staff granted only their grid cannot put a person of another grid in a room by file:
    the row says the person is registered elsewhere, as the resident ledger does, and shows nothing
    of them."""
    from epigrid.accounts.models import Grant, User

    staff = User.objects.create_user("iso_grid_a", password="x")
    Grant.objects.create(user=staff, role="isolation_staff", area=cast.grid_a)
    iso.site().staff.add(staff)
    outsider = iso.person(grid=cast.grid_b, name="韩梅梅")
    result = run(staff, cast.grid_a, xlsx(HEADER, [line("韩梅梅", outsider.doc_number)]))
    assert (result.created, result.rejected) == (0, 1)
    assert result.errors[0]["column"] == "身份证"
    assert not Stay.objects.filter(person=outsider).exists()
