"""Exports: any list with its filters, masked by default, logged, and re-importable unchanged."""

import io

import openpyxl
import pytest

from epigrid.audit.models import ObjectChange
from epigrid.core.imports import run_import
from epigrid.jobs.models import Job, Status
from epigrid.people.imports import ResidentResource
from epigrid.people.models import Person, Tag
from tests.scoping import make_person


@pytest.fixture
def residents(cast):
    a = make_person(household=cast.household_a, name="张桂英", phone="+8613812345678", notes="独居")
    a.tags.add(Tag.objects.get(code="elderly_alone"))
    b = make_person(household=cast.household_a, name="王磊", residence_type="migrant")
    c = make_person(household=cast.household_b, name="刘洋")
    return a, b, c


def export(cast, user, name, capture, query="", **extra):
    client = cast.client_for(user)
    with capture(execute=True):
        response = client.post(f"/jobs/export/{name}/", {"query": query, **extra})
    job = Job.objects.filter(user=user).order_by("-created").first()
    return client, response, job


def sheet(client, job):
    assert job.status == Status.SUCCEEDED, job.message
    data = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    return rows[0], rows[1:], data


def test_it_exports_the_filtered_list_masked(cast, residents, django_capture_on_commit_callbacks):
    a, _b, c = residents
    client, _response, job = export(
        cast, cast.commander, "persons", django_capture_on_commit_callbacks, query=f"area={cast.grid_a.code}"
    )
    header, rows, _data = sheet(client, job)
    assert len(rows) == 2 and c.name not in [r[0] for r in rows]
    row = next(r for r in rows if r[0] == "张桂英")
    record = dict(zip(header, row, strict=True))
    assert (record["证件号码"], record["联系电话"], record["重点关爱"]) == (
        a.masked_doc_number,
        "138****5678",
        "独居老人",
    )
    assert ObjectChange.objects.filter(action="export", postchange_data__count=2).exists()


def test_it_exports_only_the_users_scope(cast, residents, django_capture_on_commit_callbacks):
    client, _response, job = export(cast, cast.grid_worker, "persons", django_capture_on_commit_callbacks)
    _header, rows, _data = sheet(client, job)
    assert sorted(r[0] for r in rows) == ["张桂英", "王磊"]


def test_it_exports_full_data_with_a_reason_and_logs_the_reveal(
    cast, residents, django_capture_on_commit_callbacks
):
    a = residents[0]
    client, _response, job = export(
        cast,
        cast.community_officer,
        "persons",
        django_capture_on_commit_callbacks,
        unmasked="on",
        reason="上报疾控",
    )
    header, rows, _data = sheet(client, job)
    assert a.doc_number in [r[header.index("证件号码")] for r in rows]
    row = ObjectChange.objects.get(action="reveal", object_id=0)
    assert (row.user, row.reason, row.postchange_data["count"]) == (cast.community_officer, "上报疾控", 3)


def test_it_refuses_full_data_to_a_grid_worker(cast, residents, django_capture_on_commit_callbacks):
    _client, response, job = export(
        cast, cast.grid_worker, "persons", django_capture_on_commit_callbacks, unmasked="on", reason="x1"
    )
    assert response.status_code == 403 and job is None


def test_it_asks_for_a_reason_before_exporting_full_data(cast, residents, django_capture_on_commit_callbacks):
    _client, response, job = export(
        cast, cast.community_officer, "persons", django_capture_on_commit_callbacks, unmasked="on"
    )
    assert response.status_code == 302 and job is None


def test_it_round_trips_an_export_through_the_import_unchanged(
    cast, residents, django_capture_on_commit_callbacks
):
    client, _response, job = export(
        cast,
        cast.community_officer,
        "persons",
        django_capture_on_commit_callbacks,
        unmasked="on",
        reason="核对",
    )
    _header, _rows, data = sheet(client, job)
    before = list(Person.objects.order_by("pk").values())
    result = run_import(
        ResidentResource(cast.community_officer, cast.community),
        io.BytesIO(data),
        "export.xlsx",
        dry_run=False,
    )
    assert (result.created, result.updated, result.unchanged, result.rejected) == (0, 0, 3, 0)
    assert list(Person.objects.order_by("pk").values()) == before


def test_it_exports_households_with_member_counts(cast, residents, django_capture_on_commit_callbacks):
    client, _response, job = export(
        cast, cast.street_officer, "households", django_capture_on_commit_callbacks
    )
    header, rows, _data = sheet(client, job)
    counts = {r[header.index("房号")]: r[header.index("成员数")] for r in rows}
    assert counts == {"101": 2, "202": 1}


def test_it_exports_the_audit_log_masked(cast, residents, django_capture_on_commit_callbacks):
    a = residents[0]
    client, _response, job = export(cast, cast.auditor, "audit", django_capture_on_commit_callbacks)
    _header, rows, _data = sheet(client, job)
    assert rows and a.doc_number not in str(rows) and a.masked_doc_number in str(rows)


def test_it_refuses_an_export_of_a_list_the_user_cannot_see(cast, django_capture_on_commit_callbacks):
    _client, response, _job = export(cast, cast.grid_worker, "audit", django_capture_on_commit_callbacks)
    assert response.status_code == 403
