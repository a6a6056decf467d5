"""Lab results pages: scoping through the generic mixins (lab A's staff vs lab B's, the command
centre), the result's page with its persons masked and corrections, the correction form, the
turnaround page, the Excel export (re-imports unchanged), navigation and the person panel."""

import io

import openpyxl
import pytest

from epigrid.core.imports import run_import
from epigrid.jobs.models import Job, Status
from epigrid.results.imports import LabResultResource
from epigrid.results.models import ResultCorrection, TubeResult
from epigrid.testing.models import Sample
from tests.scoping import ScopedViewTests, assert_no_full_numbers
from tests.test_results_api import _result
from tests.test_results_helpers import lab


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def rl(cast):
    return lab(cast)


class _ResultPages(ScopedViewTests):
    model = TubeResult
    list_url = "/results/"

    def make_object(self, cast, grid):
        return _result(cast, grid)

    def list_text(self, obj):
        return obj.tube.barcode

    def edit_data(self, cast, obj):
        return {"result": "positive", "reason": "复核为阳性"}


class TestResultPagesForLabs(_ResultPages):
    viewer = "lab_user"
    outsider = "lab_user_b"
    unrevealing = "lab_user"
    readonly_user = "commander"


class TestResultPagesForTheCommandCentre(_ResultPages):
    viewer = "street_officer"
    outsider = "lab_user_b"
    unrevealing = "lab_user"
    readonly_user = "community_officer"


def test_the_result_page_lists_the_tubes_persons_masked_and_its_corrections(cast, rl):
    (tube,) = rl.delivered(persons=2)
    Sample.objects.filter(tube=tube).first().person.__class__.objects.update(phone="+8613812345678")
    rl.record(tube, "阴性")
    rl.record(tube, "混阳", reason="复核后更正")
    obj = TubeResult.objects.get()
    body = cast.client_for(cast.community_officer).get(obj.get_absolute_url()).content.decode()
    assert 'data-testid="tube-persons"' in body and "138****5678" in body and "grid_worker" in body
    assert "复核后更正" in body
    assert_no_full_numbers(body)
    lab_body = cast.client_for(rl.tp.lab_user).get(obj.get_absolute_url()).content.decode()
    assert 'data-testid="tube-persons"' not in lab_body  # a lab sees results, not persons
    assert 'data-testid="correct-link"' in lab_body


def test_the_correction_form_refuses_without_a_reason_and_records_with_one(cast, rl):
    obj = _result(cast, cast.grid_a)
    client = cast.client_for(rl.tp.lab_user)
    url = f"/results/{obj.pk}/correct/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"result": "positive", "reason": ""}).status_code == 200
    assert client.post(url, {"result": "positive", "reason": "复核阳性"}).status_code == 302
    assert ResultCorrection.objects.get().reason == "复核阳性"
    assert client.post(url, {"result": "positive", "reason": "复核阳性"}).status_code == 302
    assert ResultCorrection.objects.count() == 1


def test_the_list_filters_by_result_and_late(cast, rl):
    tubes = rl.delivered(tubes=2)
    rl.record(tubes[0], "阴性")
    rl.record(tubes[1], "混阳")
    client = cast.client_for(cast.commander)
    body = client.get("/results/?result=pooled_positive").content.decode()
    assert tubes[1].barcode in body and tubes[0].barcode not in body
    assert tubes[0].barcode not in client.get("/results/?late=true").content.decode()


def test_the_turnaround_page_shows_each_grouping(cast, rl):
    (tube,) = rl.delivered()
    rl.record(tube, "阴性")
    response = cast.client_for(cast.commander).get("/results/turnaround/")
    body = response.content.decode()
    assert response.status_code == 200
    for key in ("campaign", "point", "lab"):
        assert f'data-testid="turnaround-{key}"' in body
    assert "市疾控中心实验室" in body
    assert cast.client_for(cast.grid_worker).get("/results/turnaround/").status_code == 403


def test_the_export_writes_the_filtered_results_and_reimports_unchanged(
    cast, rl, django_capture_on_commit_callbacks
):
    tubes = rl.delivered(tubes=2)
    rl.record(tubes[0], "阴性", ct_orf1ab="38.5")
    rl.record(tubes[1], "无效")
    client = cast.client_for(rl.tp.lab_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/jobs/export/lab-results/", {"query": ""}).status_code == 302
    job = Job.objects.get(user=rl.tp.lab_user)
    assert job.status == Status.SUCCEEDED, job.message
    content = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("条码", "检测结果", "ORF1ab Ct")
    assert {r[0]: r[1] for r in rows[1:]} == {tubes[0].barcode: "阴性", tubes[1].barcode: "无效"}
    again = run_import(
        LabResultResource(rl.tp.lab_user, rl.tp.lab_a), io.BytesIO(content), "x.xlsx", dry_run=True
    )
    assert (again.unchanged, again.rejected, again.created) == (2, 0, 0), again.errors


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        ("lab_user", True),
        ("commander", True),
        ("street_officer", True),
        ("grid_worker", False),
        ("sampler", False),
    ],
)
def test_the_navigation_offers_results_to_roles_that_see_them(cast, rl, user, shown):
    body = (
        cast.client_for(getattr(cast, user) if hasattr(cast, user) else getattr(rl.tp.rnd, user))
        .get("/jobs/")
        .content.decode()
    )
    assert ('href="/results/"' in body) is shown


def test_the_person_page_shows_the_latest_result_to_the_grid_worker(cast, rl):
    (tube,) = rl.delivered()
    rl.record(tube, "混阳")
    person = Sample.objects.get(tube=tube).person
    body = cast.client_for(cast.grid_worker).get(person.get_absolute_url()).content.decode()
    assert 'data-testid="result-panel"' in body and "pending single-tube retest" in body
