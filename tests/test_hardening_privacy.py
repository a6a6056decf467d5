"""Issue 7: no full ID number or phone, and nothing that narrows one, reaches a role that may not
reveal it, by any path."""

import datetime
import io
import json

import openpyxl
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.audit.models import ObjectChange
from epigrid.control.models import KeyPerson
from epigrid.core.identity import mask_document
from epigrid.core.imports import run_import
from epigrid.core.reasons import COMMON_REASONS
from tests.scoping import make_person

from .test_control_import import rows_for, run, xlsx


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_names_no_out_of_scope_person_in_a_key_person_import(cast):
    stranger = make_person(household=cast.household_b, name="庄波")
    row = rows_for((stranger, stranger, stranger))[0]
    row[1] = "别人"  # a wrong name: the registry's name must not be told
    result, _resource = run(cast, xlsx([row]), user=cast.grid_worker, area=cast.grid_a, dry_run=True)
    assert result.rejected == 1
    message = result.errors[0]["message"]
    assert "庄波" not in message and "another area" in message


def test_it_does_not_tell_a_checkpoint_whether_an_out_of_scope_person_had_an_entry(cast):
    stranger = make_person(household=cast.household_b, name="庄波")
    rows = [rows_for((stranger, stranger, stranger))[0]]
    run(cast, xlsx(rows))  # the community registers the entry
    KeyPerson.objects.update(status=KeyPerson.Status.RELEASED)
    result, _resource = run(cast, xlsx(rows), user=cast.grid_worker, area=cast.grid_a, dry_run=True)
    assert (result.unchanged, result.rejected) == (0, 1)
    assert "another area" in result.errors[0]["message"]


# 1. Edit forms show masked values only.
def test_it_keeps_full_numbers_out_of_the_edit_page(cast):
    person = make_person(household=cast.household_a, phone="+8613912345678")
    for user in (cast.grid_worker, cast.street_officer):
        html = cast.client_for(user).get(f"/people/{person.pk}/edit/").content.decode()
        assert person.doc_number not in html and "13912345678" not in html
        assert person.masked_doc_number in html and "139****5678" in html


def test_it_keeps_the_phone_when_the_masked_value_comes_back(cast):
    person = make_person(household=cast.household_a, phone="+8613912345678")
    client = cast.client_for(cast.grid_worker)
    data = {
        "doc_type": person.doc_type,
        "doc_number": person.masked_doc_number,
        "name": "新名字",
        "phone": "139****5678",
        "residence_type": person.residence_type,
        "household": person.household_id,
    }
    assert client.post(f"/people/{person.pk}/edit/", data).status_code == 302
    person.refresh_from_db()
    assert (person.name, person.phone) == ("新名字", "+8613912345678")
    data["phone"] = "13812345678"
    assert client.post(f"/people/{person.pk}/edit/", data).status_code == 302
    person.refresh_from_db()
    assert person.phone == "+8613812345678" and "*" not in person.doc_number


# 3. What a role without reveal sees together does not narrow a number to a few.
def test_it_shows_the_birth_year_only(cast):
    person = make_person(household=cast.household_a, birth=datetime.date(1941, 5, 11))
    body = _api(cast.grid_worker).get(f"/api/v1/persons/{person.pk}/").json()
    assert body["birth_year"] == 1941 and "1941-05-11" not in json.dumps(body)
    html = cast.client_for(cast.grid_worker).get(f"/people/{person.pk}/").content.decode()
    assert "1941-05-11" not in html and "1941" in html


def test_it_answers_a_grid_workers_long_tail_search_with_nothing(cast):
    person = make_person(household=cast.household_a)
    client = _api(cast.grid_worker)
    ids = lambda q: [r["id"] for r in client.get("/api/v1/persons/", {"q": q}).json()["results"]]  # noqa: E731
    assert ids(person.doc_number[-4:]) == [person.pk]  # what the mask shows
    assert ids(person.doc_number[-6:]) == []  # would tell two hidden digits
    assert ids(person.doc_number) == [person.pk]  # the whole number: a counted lookup
    # a role that may reveal searches any tail
    assert person.pk in [
        r["id"]
        for r in _api(cast.community_officer)
        .get("/api/v1/persons/", {"q": person.doc_number[-6:]})
        .json()["results"]
    ]


def test_it_logs_and_limits_exact_lookups_of_a_role_without_reveal(cast, settings):
    settings.EPIGRID_LOOKUP_LIMITS = (3, 10)
    person = make_person(household=cast.household_a)
    client = _api(cast.grid_worker)
    for _ in range(3):
        assert client.get("/api/v1/persons/", {"q": person.doc_number}).status_code == 200
    refused = client.get("/api/v1/persons/", {"q": person.doc_number})
    assert refused.status_code == 400 and person.doc_number not in refused.content.decode()
    rows = ObjectChange.objects.filter(user=cast.grid_worker)
    assert rows.filter(action="lookup").count() == 3
    alert = rows.get(action="lookup_limit")
    assert person.doc_number not in json.dumps(alert.postchange_data)
    # the district auditor sees the alert
    assert ObjectChange.objects.restrict(cast.auditor, "view").filter(pk=alert.pk).exists()
    # the page search is refused too, with the reason
    html = cast.client_for(cast.grid_worker).get("/people/", {"q": person.doc_number}).content.decode()
    assert f'href="/people/{person.pk}/"' not in html  # no answer, only the refusal
    assert ObjectChange.objects.filter(action="lookup_limit").count() == 2


def test_it_does_not_count_name_searches_or_a_community_officers_lookups(cast, settings):
    settings.EPIGRID_LOOKUP_LIMITS = (1, 1)
    person = make_person(household=cast.household_a)
    for _ in range(3):
        assert _api(cast.grid_worker).get("/api/v1/persons/", {"q": "张"}).status_code == 200
        assert (
            _api(cast.community_officer).get("/api/v1/persons/", {"q": person.doc_number}).status_code == 200
        )
    assert not ObjectChange.objects.filter(action__in=["lookup", "lookup_limit"]).exists()


def test_it_counts_the_registered_answer_of_search_before_create(cast, settings):
    settings.EPIGRID_LOOKUP_LIMITS = (1, 5)
    person = make_person(household=cast.household_a)
    data = {"doc_type": "111", "doc_number": person.doc_number, "name": "X", "area": cast.grid_a.code}
    assert _api(cast.grid_worker).post("/api/v1/persons/", data, format="json").status_code == 409
    assert _api(cast.grid_worker).post("/api/v1/persons/", data, format="json").status_code == 429


def test_it_refuses_an_import_that_tries_candidates_for_a_masked_number(cast, settings):
    from epigrid.core.identity import make_resident_id
    from epigrid.core.tabular import TableReadError
    from epigrid.people.imports import ResidentResource

    settings.EPIGRID_LOOKUP_LIMITS = (5, 10)
    born = datetime.date(1941, 5, 11)
    person = make_person(household=cast.household_a, birth=born)
    region, seq = person.doc_number[:6], int(person.doc_number[14:17])
    # candidates: same first four, same birth year and last four (other days), as an attacker makes
    candidates = []
    for day in range(1, 200):
        other = make_resident_id(region[:4] + f"{day % 100:02d}", born + datetime.timedelta(days=day), seq)
        if other[-4:] == person.doc_number[-4:]:
            candidates.append(other)
    assert len(candidates) >= 6
    rows = [
        [f"名{i}", "居民身份证", c, "", cast.grid_a.code, "1号楼", "1", "101"]
        for i, c in enumerate(candidates)
    ]
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "证件类型", "证件号码", "联系电话", "网格编码", "楼栋", "单元", "房号"])
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    with pytest.raises(TableReadError) as exc:
        run_import(ResidentResource(cast.grid_worker, cast.grid_a), buffer, "居民.xlsx", dry_run=True)
    assert "too many" in str(exc.value) or "过多" in str(exc.value)
    assert ObjectChange.objects.filter(action="lookup_limit", user=cast.grid_worker).exists()


# 4. Short document numbers are masked in proportion.
@pytest.mark.parametrize(
    "number, masked",
    [
        ("620102194105111455", "6201**********1455"),
        ("P89413137", "P******37"),
        ("H123456789", "H*******89"),
        ("AB1234567890", "AB*******890"),
        ("123456", "1****6"),
        ("12345", "*****"),
    ],
)
def test_it_masks_short_documents_in_proportion(number, masked):
    assert mask_document(number) == masked


# 10. Reveal reasons.
@pytest.mark.parametrize("reason", ["\u200b\u200b", "..", "  ", "。。", "a"])
def test_it_refuses_an_empty_reveal_reason(cast, reason):
    person = make_person(household=cast.household_a)
    response = _api(cast.community_officer).post(
        f"/api/v1/persons/{person.pk}/reveal/", {"reason": reason}, format="json"
    )
    assert response.status_code == 400
    page = cast.client_for(cast.community_officer).post(f"/people/{person.pk}/reveal/", {"reason": reason})
    assert page.status_code == 400 and person.doc_number not in page.content.decode()
    assert not ObjectChange.objects.filter(action="reveal").exists()


def test_it_takes_a_picked_reveal_reason(cast):
    person = make_person(household=cast.household_a)
    html = cast.client_for(cast.community_officer).get(f"/people/{person.pk}/").content.decode()
    assert 'name="reason_choice"' in html
    page = cast.client_for(cast.community_officer).post(
        f"/people/{person.pk}/reveal/", {"reason_choice": str(COMMON_REASONS[0]), "reason": ""}
    )
    assert page.status_code == 200 and person.doc_number in page.content.decode()
    assert ObjectChange.objects.get(action="reveal").reason == str(COMMON_REASONS[0])


# 5. The audit log masks personal data at any depth.
def test_it_masks_numbers_typed_into_an_exports_filters_everywhere_in_the_audit_log(
    cast, django_capture_on_commit_callbacks
):
    person = make_person(household=cast.household_a, phone="+8613912345678")
    client = cast.client_for(cast.community_officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/jobs/export/persons/", {"query": f"q={person.doc_number}&phone=13912345678"})
    row = ObjectChange.objects.get(action="export")
    assert person.doc_number in json.dumps(row.postchange_data)  # the log keeps the truth
    admin = cast.client_for(cast.admin)
    page = admin.get("/audit/").content.decode()
    api = json.dumps(_api(cast.admin).get("/api/v1/audit-log/").json(), ensure_ascii=False)
    for body in (page, api):
        assert person.doc_number not in body and "13912345678" not in body
        assert person.masked_doc_number in body
    from epigrid.audit.exports import ObjectChangeExport

    rows = list(ObjectChangeExport(cast.admin).rows(ObjectChange.objects.all()))
    assert person.doc_number not in str(rows) and person.masked_doc_number in str(rows)


def test_it_masks_numbers_someone_typed_into_a_reason(cast):
    person = make_person(household=cast.household_a)
    _api(cast.community_officer).post(
        f"/api/v1/persons/{person.pk}/reveal/", {"reason": f"协查 {person.doc_number}"}, format="json"
    )
    body = json.dumps(_api(cast.admin).get("/api/v1/audit-log/").json(), ensure_ascii=False)
    assert person.doc_number not in body and "协查" in body


# 7. Export rows are filed under the exporter's area.
def test_it_files_export_rows_where_the_district_auditor_sees_them(cast, django_capture_on_commit_callbacks):
    make_person(household=cast.household_a)
    with django_capture_on_commit_callbacks(execute=True):
        cast.client_for(cast.community_officer).post("/jobs/export/persons/", {"query": ""})
    row = ObjectChange.objects.get(action="export")
    assert row.area_path == cast.community.path
    assert ObjectChange.objects.restrict(cast.auditor, "view").filter(pk=row.pk).exists()
    assert not ObjectChange.objects.restrict(cast.grid_worker_b, "view").filter(pk=row.pk).exists()


# 13. An out-of-scope id and a missing one are answered alike.
def test_it_answers_an_out_of_scope_measure_filter_like_a_missing_one(cast):
    from epigrid.control import services as control_services

    person = make_person(household=cast.household_b, name="乙")
    entry, _created = control_services.register_key_person(
        person, "close_contact", cast.grid_b, last_exposure=timezone.localdate() - datetime.timedelta(days=2)
    )
    measure = entry.measures.first()
    client = _api(cast.grid_worker)
    hidden = client.get("/api/v1/tests/", {"measure": measure.pk})
    missing = client.get("/api/v1/tests/", {"measure": 999999})
    assert (hidden.status_code, hidden.json()["results"]) == (missing.status_code, missing.json()["results"])
    assert hidden.status_code == 200


@pytest.mark.parametrize("reason", ["\u200b\u200b", ".."])
def test_it_refuses_an_empty_reason_for_a_full_data_export(cast, reason):
    api = _api(cast.community_officer).post(
        "/api/v1/exports/persons/", {"unmasked": True, "reason": reason}, format="json"
    )
    assert api.status_code == 400
    cast.client_for(cast.community_officer).post("/jobs/export/persons/", {"unmasked": "1", "reason": reason})
    from epigrid.jobs.models import Job

    assert not Job.objects.filter(kind="export").exists()


def test_it_shows_only_the_birth_year_in_the_audit_log(cast):
    person = make_person(household=cast.household_a, birth=datetime.date(1941, 5, 11))
    assert ObjectChange.objects.filter(object_id=person.pk, action="create").exists()
    for body in (
        cast.client_for(cast.auditor).get("/audit/").content.decode(),
        json.dumps(_api(cast.auditor).get("/api/v1/audit-log/").json()),
    ):
        assert "1941-05-11" not in body and "1941" in body


@pytest.mark.parametrize("per_call", [1, 2])
def test_lookups_count_against_the_hour_and_the_day_each(cast, per_call):
    """charge_lookups: one number is counted and logged in one statement, several in a count and
    a write; either way a lookup older than an hour counts only against the day, and a call past
    either limit is refused whole, logged as one lookup_limit row."""
    from epigrid.people.services import LookupLimitReached, charge_lookups

    user = cast.grid_worker
    terms = [f"11010519491231002{n}" for n in range(per_call)]
    charge_lookups(user, terms, limits=(2 * per_call, 3 * per_call))
    rows = ObjectChange.objects.filter(user=user, action="lookup")
    assert rows.count() == per_call
    rows.update(time=timezone.now() - datetime.timedelta(hours=2))  # out of the hour, in the day
    charge_lookups(user, terms, limits=(2 * per_call, 3 * per_call))
    charge_lookups(user, terms, limits=(2 * per_call, 3 * per_call))  # the hour is full now
    with pytest.raises(LookupLimitReached):
        charge_lookups(user, terms, limits=(2 * per_call, 3 * per_call))
    assert rows.count() == 3 * per_call
    assert not any("11010519491231002" in r.object_repr for r in rows)  # masked
    # The day is full too: a fresh hour still refuses.
    rows.update(time=timezone.now() - datetime.timedelta(hours=2))
    with pytest.raises(LookupLimitReached):
        charge_lookups(user, terms, limits=(2 * per_call, 3 * per_call))
    assert rows.count() == 3 * per_call
    assert ObjectChange.objects.filter(user=user, action="lookup_limit").count() == 2
