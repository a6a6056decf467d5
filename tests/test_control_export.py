"""The key-person ledger export: masked by default, the plan with its steps, bulk queries, and a
full-data export that re-imports unchanged."""

import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from epigrid.audit.models import ObjectChange
from epigrid.control import services
from epigrid.control.exports import KeyPersonExport
from epigrid.control.imports import KeyPersonResource
from epigrid.control.models import ControlMeasure, KeyPerson
from epigrid.core.imports import run_import
from epigrid.core.tabular import stream_xlsx
from epigrid.jobs.models import Job, Status
from tests.scoping import make_person

D = datetime.date


@pytest.fixture
def entries(cast):
    contact = make_person(household=cast.household_a, name="密接甲", phone="+8613812345678")
    arrival = make_person(household=cast.household_a, name="来返乙")
    other = make_person(household=cast.household_b, name="次密丙")
    a, _ = services.register_key_person(
        contact, "close_contact", cast.grid_a, last_exposure=D(2022, 4, 2), grid_worker="王五", doctor="赵六"
    )
    b, _ = services.register_key_person(
        arrival,
        "high_risk_arrival",
        cast.grid_a,
        arrival=D(2022, 4, 2),
        origin="上海市浦东新区",
        transport="火车 G1234",
        notes="同车厢",
    )
    c, _ = services.register_key_person(other, "secondary_contact", cast.grid_b, last_exposure=D(2022, 4, 3))
    services.release(c, "期满解除")
    return a, b, c


def job_sheet(cast, user, capture, query=""):
    client = cast.client_for(user)
    with capture(execute=True):
        client.post("/jobs/export/keypersons/", {"query": query})
    job = Job.objects.filter(user=user).order_by("-created").first()
    assert job.status == Status.SUCCEEDED, job.message
    data = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def direct_export(user, unmasked=False, query=""):
    """The export's own file, written as the job writes it (full data is asked of the class here)."""
    export = KeyPersonExport(user, unmasked=unmasked)
    buffer = io.BytesIO()
    stream_xlsx(buffer, export.headers, export.rows(export.queryset(query)), text_columns=export.text_columns)
    return buffer.getvalue()


def test_it_exports_the_ledger_masked_with_its_plan(cast, entries, django_capture_on_commit_callbacks):
    a, _b, _c = entries
    header, rows = job_sheet(
        cast, cast.commander, django_capture_on_commit_callbacks, f"area={cast.grid_a.code}"
    )
    assert "证件号" in header and "第1步计划结束" in header
    assert sorted(r["姓名"] for r in rows) == ["密接甲", "来返乙"]
    row = next(r for r in rows if r["姓名"] == "密接甲")
    assert (row["证件号"], row["电话"]) == (a.person.masked_doc_number, "138****5678")
    assert a.person.doc_number not in str(rows)
    assert (row["人员类别"], row["管控措施"], row["包保责任人"], row["方案"], row["状态"]) == (
        "密切接触者",
        "集中隔离医学观察+居家健康监测",
        "网格员:王五 医生:赵六",
        "第九版",
        "管控中",
    )
    assert (row["第1步措施"], row["第1步开始"].date(), row["第1步计划结束"].date()) == (
        "集中隔离医学观察",
        D(2022, 4, 3),
        D(2022, 4, 9),
    )
    assert (row["第1步检测日"], row["第2步措施"], row["第2步计划结束"].date()) == (
        "04-03、04-04、04-05、04-07、04-09",
        "居家健康监测",
        D(2022, 4, 12),
    )
    assert row["第3步措施"] is None
    assert ObjectChange.objects.filter(action="export", postchange_data__count=2).exists()


def test_it_exports_only_the_users_scope_and_released_entries_too(
    cast, entries, django_capture_on_commit_callbacks
):
    _header, rows = job_sheet(cast, cast.grid_worker_b, django_capture_on_commit_callbacks)
    assert [(r["姓名"], r["状态"], r["当前措施"]) for r in rows] == [("次密丙", "已解除", None)]


def test_it_gives_full_data_only_where_the_user_may_reveal_persons(cast, entries):
    assert not KeyPersonExport(cast.grid_worker, unmasked=True).queryset("").exists()
    assert KeyPersonExport(cast.community_officer, unmasked=True).queryset("").count() == 3


def test_it_reads_steps_in_bulk_whatever_the_number_of_entries(cast, entries):
    export = KeyPersonExport(cast.commander)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            list(export.rows(export.queryset("")))
        return len(captured)

    queries()  # the user's scope is read once and cached
    few = queries()
    for n in range(5):
        person = make_person(household=cast.household_a, name=f"增{n}")
        services.register_key_person(person, "close_contact", cast.grid_a, last_exposure=D(2022, 4, 2))
    assert queries() == few


def test_it_round_trips_a_full_data_export_through_the_import_unchanged(cast, entries):
    data = direct_export(cast.community_officer, unmasked=True)
    before = (
        list(KeyPerson.objects.order_by("pk").values()),
        list(ControlMeasure.objects.order_by("pk").values()),
    )
    resource = KeyPersonResource(cast.community_officer, cast.community)
    result = run_import(resource, io.BytesIO(data), "export.xlsx", dry_run=False)
    assert (result.created, result.updated, result.unchanged, result.rejected) == (0, 0, 3, 0), result.errors
    assert resource.warnings == []
    after = (
        list(KeyPerson.objects.order_by("pk").values()),
        list(ControlMeasure.objects.order_by("pk").values()),
    )
    assert after == before


def test_it_cannot_re_import_a_masked_export(cast, entries):
    data = direct_export(cast.community_officer)
    resource = KeyPersonResource(cast.community_officer, cast.community)
    result = run_import(resource, io.BytesIO(data), "export.xlsx", dry_run=True)
    assert result.rejected == 3 and "证件号" in {e["column"] for e in result.errors}


def test_it_exports_full_data_through_the_page_for_a_role_that_may_reveal(
    cast, entries, django_capture_on_commit_callbacks
):
    a, _b, _c = entries
    client = cast.client_for(cast.community_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/jobs/export/keypersons/", {"query": "", "unmasked": "on", "reason": "上报疾控"}
        )
    job = Job.objects.filter(user=cast.community_officer).order_by("-created").first()
    assert response.status_code == 302 and job.status == Status.SUCCEEDED and job.params["unmasked"]
    data = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    cells = [
        c for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True) for c in row
    ]
    assert a.person.doc_number in cells
