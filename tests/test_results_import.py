"""The lab's LIS export through the one import pipeline (ledger "lab-results", keyed by a lab):
header synonyms, row errors with the sheet's row numbers, nothing half-written, the same file twice,
GBK CSV, xls/xlsx, the command line (--lab, --json) and the upload pages for a lab's staff."""

import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from epigrid.core.imports import run_import
from epigrid.jobs.models import Job, Status
from epigrid.results.imports import LabResultResource
from epigrid.results.models import Result, TubeResult
from tests.test_results_helpers import csv_bytes, lab


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def rl(cast):
    return lab(cast)


def lis_xlsx(rows, header=("样本编号", "检测结果", "ORF1ab", "N基因 Ct", "检测时间", "报告时间")):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["市疾控中心实验室 核酸检测结果（LIS导出）"])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def run(rl, data, name="lis.xlsx", dry_run=False, user=None):
    resource = LabResultResource(user or rl.tp.lab_user, rl.tp.lab_a)
    return run_import(resource, data, name, dry_run=dry_run)


def test_it_imports_a_lis_export_and_the_same_file_twice_changes_nothing(rl):
    tubes = rl.delivered(tubes=3)
    rows = [
        (tubes[0].barcode, "阴", "", "", "", ""),
        (tubes[1].barcode, "混管可疑阳性", 33.2, "34.10", "", ""),
        (tubes[2].barcode, "无效", "", "", "", ""),
    ]
    first = run(rl, lis_xlsx(rows))
    assert (first.created, first.updated, first.unchanged, first.rejected) == (3, 0, 0, 0)
    assert dict(TubeResult.objects.values_list("tube__barcode", "result")) == {
        tubes[0].barcode: "negative",
        tubes[1].barcode: "pooled_positive",
        tubes[2].barcode: "invalid",
    }
    assert str(TubeResult.objects.get(tube=tubes[1]).ct_n) == "34.10"
    second = run(rl, lis_xlsx(rows))
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, 3, 0)
    assert TubeResult.objects.count() == 3


def test_bad_rows_are_rejected_with_the_sheets_row_numbers_and_good_rows_are_written_whole(cast, rl):
    good = rl.delivered(tubes=2)
    (elsewhere,) = rl.delivered(cast.grid_b)  # delivered to lab B
    rows = [
        (good[0].barcode, "阴性", "", "", "2022-04-02 08:00", ""),  # row 3
        ("NOSUCH0001", "阴性", "", "", "", ""),  # row 4: unknown tube
        (elsewhere.barcode, "阴性", "", "", "", ""),  # row 5: another lab's tube
        (good[1].barcode, "弱阳?", "", "", "", ""),  # row 6: unreadable result
        (good[1].barcode, "阴性", 50, "", "", ""),  # row 7: Ct out of range
        (good[1].barcode, "阴性", "", "", "", "昨天下午"),  # row 8: bad date
    ]
    result = run(rl, lis_xlsx(rows))
    assert (result.created, result.rejected) == (1, 5)
    errors = {(e["row"], e["column"]): e["message"] for e in result.errors}
    assert errors[(4, "条码")] == "No tube has the barcode NOSUCH0001."
    assert errors[(5, "条码")] == f"Tube {elsewhere.barcode} was not delivered to 市疾控中心实验室."
    assert errors[(6, "检测结果")].startswith("“弱阳?” is not a result.")
    assert errors[(7, "ORF1ab Ct")] == "The Ct value 50.00 is outside 0–45."
    assert "not a date and time" in errors[(8, "报告时间")]
    assert list(TubeResult.objects.values_list("tube__barcode", flat=True)) == [good[0].barcode]


def test_a_dry_run_writes_nothing(rl):
    (tube,) = rl.delivered()
    result = run(rl, lis_xlsx([(tube.barcode, "阴性", "", "", "", "")]), dry_run=True)
    assert result.created == 1 and not TubeResult.objects.exists()
    assert result.rows[0]["cells"][:2] == [["条码", tube.barcode], ["检测结果", "Negative"]]


def test_a_contradiction_in_a_file_needs_the_reason_column(rl):
    (tube,) = rl.delivered()
    rl.record(tube, "阴性")
    refused = run(rl, lis_xlsx([(tube.barcode, "阳性", "", "", "", "")]))
    assert refused.rejected == 1 and refused.errors[0]["column"] == "检测结果"
    assert "a correction needs a reason" in refused.errors[0]["message"]
    header = ("条码", "结果", "ORF1ab Ct", "N Ct", "检测时间", "报告时间", "更正原因")
    corrected = run(rl, lis_xlsx([(tube.barcode, "阳性", 30, 31, "", "", "复核后更正")], header=header))
    assert (corrected.updated, corrected.rejected) == (1, 0)
    assert TubeResult.objects.get().corrections.get().reason == "复核后更正"


@pytest.mark.parametrize(
    "header",
    [
        ("条码", "结果", "ORF1ab Ct", "N Ct", "检测时间", "报告时间"),
        ("试管编码", "检测结果", "ORF1ab基因Ct值", "N基因Ct值", "检测日期", "报告日期"),
        ("管码", "核酸检测结果", "ORF1ab", "N", "上机时间", "审核时间"),
        ("Barcode", "Result", "ORF1ab Ct", "N Ct", "Tested", "Reported"),
    ],
)
def test_it_reads_the_headers_lis_exports_use(rl, header):
    (tube,) = rl.delivered()
    result = run(rl, lis_xlsx([(tube.barcode, "negative", 35, 36, "", "")], header=header))
    assert (result.created, result.rejected, result.unknown_columns) == (1, 0, [])
    assert TubeResult.objects.get().ct_n == 36


def test_it_reads_a_gbk_csv(rl):
    tubes = rl.delivered(tubes=2)
    data = csv_bytes(
        [
            ["样本编号", "检测结果", "报告时间"],
            [tubes[0].barcode, "阴性", ""],
            [tubes[1].barcode, "混阳", ""],
        ],
        encoding="gbk",
    )
    result = run(rl, io.BytesIO(data), name="lis.csv")
    assert (result.created, result.rejected) == (2, 0)
    assert TubeResult.objects.filter(result=Result.POOLED_POSITIVE).count() == 1


def test_the_command_imports_into_a_lab_and_answers_json(rl, tmp_path, capsys):
    tubes = rl.delivered(tubes=2)
    path = tmp_path / "lis.xlsx"
    path.write_bytes(
        lis_xlsx([(tubes[0].barcode, "阴性", "", "", "", ""), ("NOSUCH0001", "阴性")]).getvalue()
    )
    call_command("import", "lab-results", str(path), "--lab", "LABA", "--dry-run", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
        "errors": [{"row": 4, "column": "条码", "message": "No tube has the barcode NOSUCH0001."}],
    }
    assert not TubeResult.objects.exists()
    call_command("import", "lab-results", str(path), "--lab", "LABA", "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 1
    call_command("import", "lab-results", str(path), "--lab", "LABA", "--json")
    assert json.loads(capsys.readouterr().out)["unchanged"] == 1
    assert TubeResult.objects.count() == 1


def test_the_command_needs_the_lab_and_a_lab_of_the_user(rl, tmp_path):
    path = tmp_path / "lis.xlsx"
    path.write_bytes(lis_xlsx([("X", "阴性")]).getvalue())
    with pytest.raises(CommandError, match="needs --lab"):
        call_command("import", "lab-results", str(path), "--area", "620102")
    with pytest.raises(CommandError, match="no lab LABA in scope"):
        call_command("import", "lab-results", str(path), "--lab", "LABA", "--user", "lab_b")


def test_a_labs_staff_previews_and_imports_on_the_upload_page(rl, django_capture_on_commit_callbacks):
    (tube,) = rl.delivered()
    client = rl.cast.client_for(rl.tp.lab_user)
    page = client.get("/jobs/import/lab-results/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="lab"' in body and "LABA" in body and "LABB" not in body
    upload = lis_xlsx([(tube.barcode, "阴性", "", "", "", ""), ("NOSUCH0001", "阴性")])
    upload.name = "lis.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/jobs/import/lab-results/", {"lab": "LABA", "file": upload})
    preview = Job.objects.get()
    assert response.status_code == 302 and preview.status == Status.SUCCEEDED, preview.result
    assert (preview.result["created"], preview.result["rejected"]) == (1, 1)
    assert preview.params["lab"] == "LABA"
    assert client.get(f"/jobs/{preview.pk}/download/").status_code == 200  # the error report
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/jobs/{preview.pk}/confirm/")
    job = Job.objects.get(params__dry_run=False)
    assert job.status == Status.SUCCEEDED and job.result["created"] == 1
    stored = TubeResult.objects.get()
    assert stored.source == "import" and stored.job == job and stored.recorded_by == rl.tp.lab_user


def test_the_upload_page_refuses_another_labs_code_and_roles_without_results(cast, rl):
    upload = lis_xlsx([("X", "阴性")])
    upload.name = "lis.xlsx"
    response = cast.client_for(rl.tp.lab_user).post(
        "/jobs/import/lab-results/", {"lab": "LABB", "file": upload}
    )
    assert response.status_code == 200 and not Job.objects.exists()
    assert cast.client_for(cast.grid_worker).get("/jobs/import/lab-results/").status_code == 403
    assert cast.client_for(rl.tp.lab_user).get("/jobs/import/residents/").status_code == 403


def _both_ways(rl, monkeypatch, data, name, **kwargs):
    """The file's outcome through the file lane and through the row path (dry runs: nothing written)."""
    from epigrid.results import filelane

    lane = run(rl, data, name, dry_run=True, **kwargs).as_dict()
    with monkeypatch.context() as patched:
        patched.setattr(filelane, "applies", lambda resource: False)
        rows = run(rl, data, name, dry_run=True, **kwargs).as_dict()
    return lane, rows


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv", "txt"])
def test_the_file_lane_answers_as_the_row_path_does(cast, rl, monkeypatch, fmt):
    """On PostgreSQL a whole file goes set-based (results.filelane); every row must get the row
    path's outcome, message and sheet row number, and the preview the same rows."""
    from django.db import connection

    tubes = rl.delivered(tubes=5)
    (elsewhere,) = rl.delivered(cast.grid_b)
    rl.record(tubes[3], "阴性")
    rl.record(tubes[4], "待检")
    rows = [
        (tubes[0].barcode.lower(), "阴", "", "", "2022-04-02 08:00", ""),  # lower case: upper-cased
        (tubes[1].barcode, "混管阳性", "31.5", "32", "", ""),
        (tubes[0].barcode, "阴性", "", "", "", ""),  # the same tube and result again
        (tubes[1].barcode, "阴性", "", "", "", ""),  # the same tube, another result
        ("NOSUCH0001", "阴性", "", "", "", ""),
        (elsewhere.barcode, "阴性", "", "", "", ""),
        (tubes[2].barcode, "弱阳?", "99", "", "", "昨天下午"),  # three problems in one row
        ("", "", "", "", "", ""),  # blank: skipped
        (tubes[3].barcode, "阳性", "", "", "", ""),  # a contradiction without a reason
        (tubes[4].barcode, "阴性", "", "", "", ""),  # pending → final
        ("ＡＢ－１２", "阴性", "", "", "", ""),  # full-width: normalised, then unknown
        (tubes[2].barcode, "阴性", "", "", "2022-04-02 09:00", "2022-04-02 08:00"),  # tested after reported
    ]
    header = ("样本编号", "检测结果", "ORF1ab", "N基因 Ct", "检测时间", "报告时间")
    if fmt == "csv":
        data = csv_bytes([header, *rows])
    elif fmt == "txt":  # Excel's "Unicode text": UTF-16, tab-delimited
        data = "\r\n".join("\t".join(row) for row in [header, *rows]).encode("utf-16")
    else:
        data = lis_xlsx(rows)
    if fmt == "xlsx":
        data = data.getvalue()
    lane, row_path = _both_ways(rl, monkeypatch, data, f"lis.{fmt}")
    assert lane == row_path
    assert (lane["created"], lane["updated"], lane["unchanged"], lane["rejected"]) == (2, 1, 1, 7)
    if connection.vendor == "postgresql":  # and it did go the other way there
        from epigrid.results import filelane

        calls = []
        monkeypatch.setattr(filelane._Lane, "run", lambda self: calls.append(1) or None)
        run(rl, data, f"lis.{fmt}", dry_run=True)
        assert calls == [1]


@pytest.mark.django_db
def test_a_file_the_lane_cannot_take_whole_goes_the_row_path(rl):
    """Ragged rows (a missing trailing column) do not fit COPY: the row path reads them."""
    tubes = rl.delivered(tubes=2)
    text = f"样本编号,检测结果,ORF1ab\n{tubes[0].barcode},阴性,\n{tubes[1].barcode},阴性\n"
    result = run(rl, text.encode(), "lis.csv")
    assert (result.created, result.rejected) == (2, 0)
    assert TubeResult.objects.count() == 2


@pytest.mark.django_db
def test_a_tube_another_writer_stored_after_the_plan_is_kept_and_the_rest_written(cast, rl, monkeypatch):
    """The file lane plans, then inserts without ON CONFLICT; a tube whose result another writer
    stored in between makes that INSERT fail: the lane inserts the rest, keeps the other writer's
    result and decides that row again the row path's way (here: a contradiction, refused)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the file lane is PostgreSQL's")
    from epigrid.results import filelane

    tubes = rl.delivered(tubes=3)
    decide = filelane._Lane._decide

    def decide_then_another_writer(self):
        counts = decide(self)
        rl.record(tubes[1], "阳性")  # as the batch API would, between the plan and the write
        return counts

    monkeypatch.setattr(filelane._Lane, "_decide", decide_then_another_writer)
    rows = [(t.barcode, "阴性", "", "", "", "") for t in tubes]
    result = run(rl, lis_xlsx(rows))
    assert dict(TubeResult.objects.values_list("tube__barcode", "result")) == {
        tubes[0].barcode: "negative",
        tubes[1].barcode: "positive",
        tubes[2].barcode: "negative",
    }
    assert (result.created, result.rejected) == (2, 1)
    assert result.errors[0]["row"] == 4  # the title row, the header, then the tubes
