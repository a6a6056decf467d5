"""Importing a resident ledger on a phone: upload, preview with row errors, error report, confirm.

The live server runs each job inside the request that starts it: tests use django-tasks'
ImmediateBackend (tests/conftest.py) and the live server's requests run in autocommit, so
jobs.services.submit's transaction.on_commit fires at once and the job page opens on the
finished job (the panel's htmx polling is not needed, but would cover a slower job).
"""

import datetime
import io
import re

import openpyxl
from playwright.sync_api import expect

from epigrid.core.identity import make_resident_id
from epigrid.jobs.models import Job, Status
from epigrid.people.models import Person
from tests.browser.conftest import assert_assets_loaded

GOOD_IDS = [
    make_resident_id("620102", datetime.date(1946, 2, 3), 81),
    make_resident_id("620102", datetime.date(1988, 9, 14), 82),
    make_resident_id("430102", datetime.date(2003, 12, 1), 83),
]
BAD_CHECK_DIGIT = "360426199101010072"
HEADER = ["姓名", "公民身份号码", "手机号", "所属网格", "楼号", "单元号", "门牌号"]
ROWS = [  # sheet rows 3 to 7: a title row and the header come first
    ["马秀兰", GOOD_IDS[0], "13812340001", "第一网格", "1号楼", "1", "101"],
    ["杨建华", GOOD_IDS[1], "139 1234 0002", "第一网格", "1号楼", "1", "102"],
    ["何静", GOOD_IDS[2], "", "第二网格", "9号楼", "2", "202"],
    ["赵六", BAD_CHECK_DIGIT, "", "第一网格", "1号楼", "1", "103"],
    ["", make_resident_id("620102", datetime.date(1990, 1, 1), 84), "", "第一网格", "1号楼", "1", "104"],
]


def ledger_xlsx():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["九州社区居民台账（2022年4月）"])
    sheet.merge_cells("A1:G1")
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_it_imports_a_ledger_on_a_phone_with_a_preview_and_an_error_report(
    cast, page, log_in, shot, monkeypatch
):
    log_in(cast.community_officer)
    assert page.url.endswith("/control/today/")  # the community's roll-up
    page.goto("/people/")
    with page.expect_navigation():
        page.get_by_test_id("import-link").click()
    assert page.url.endswith("/jobs/import/residents/")
    assert_assets_loaded(page)

    # The area is found by typing part of its name, not scrolled for.
    form = page.locator("main form[enctype='multipart/form-data']")
    area_box = form.locator(".autocomplete", has=page.locator("#id_area"))
    area_box.locator("input[type=search]").fill("九州社")
    expect(area_box.locator(f'option[value="{cast.community.code}"]')).to_have_count(1)
    page.locator("#id_area").select_option(cast.community.code)
    form.locator("input[type=file]").set_input_files(
        {
            "name": "九州社区台账.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": ledger_xlsx(),
        }
    )
    shot(page, "import_start")
    with page.expect_navigation():
        page.get_by_test_id("import-preview").click()

    preview = Job.objects.get()
    assert page.url.endswith(preview.get_absolute_url())
    panel = page.get_by_test_id("job-panel")
    expect(panel).to_have_attribute("data-status", Status.SUCCEEDED)  # at once, or after polling
    shot(page, "import_preview")
    # Would create, would update, unchanged, rejected, header row.
    values = page.get_by_test_id("job-summary").locator("dd")
    expect(values.nth(0)).to_have_text("3")
    expect(values.nth(3)).to_have_text("2")
    expect(values.nth(4)).to_have_text("2")
    errors = page.get_by_test_id("job-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("td").nth(0)).to_have_text("6")
    expect(errors.nth(0).locator("td").nth(1)).to_have_text("证件号码")
    expect(errors.nth(1).locator("td").nth(0)).to_have_text("7")
    expect(errors.nth(1).locator("td").nth(1)).to_have_text("姓名")
    assert not Person.objects.exists(), "a preview must not write"

    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    report = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header, *lines = [list(row) for row in report.iter_rows(values_only=True)]
    assert header[0] == "原行号" and header[-1] == "错误原因"
    by_row = {int(line[0]): line for line in lines}
    assert sorted(by_row) == [6, 7]
    assert BAD_CHECK_DIGIT in by_row[6] and re.search("校验|check digit", by_row[6][-1])
    assert by_row[7][-1] and by_row[7][1] in (None, "")

    with page.expect_navigation():
        page.get_by_test_id("job-action-confirm").click()
    job = Job.objects.exclude(pk=preview.pk).get()
    assert page.url.endswith(job.get_absolute_url()) and job.params["dry_run"] is False
    expect(page.get_by_test_id("job-panel")).to_have_attribute("data-status", Status.SUCCEEDED)
    expect(page.get_by_test_id("job-summary").locator("dd").nth(0)).to_have_text("3")  # created
    expect(page.get_by_test_id("job-action-confirm")).to_have_count(0)
    shot(page, "import_done")
    assert sorted(Person.objects.values_list("doc_number", flat=True)) == sorted(GOOD_IDS)
    yang = Person.objects.get(doc_number=GOOD_IDS[1])
    assert (yang.area, yang.household.building, yang.household.room, yang.phone) == (
        cast.grid_a,
        cast.building_a,
        "102",
        "+8613912340002",
    )


def test_it_previews_each_row_masked_with_what_happens_to_it(cast, page, log_in, shot):
    """A community officer imports into their community without a grid column (issue 8): the
    grid comes from the building, however its name is written; the preview lists the rows."""
    ids = [make_resident_id("620102", datetime.date(1950, 1, 1), n) for n in (91, 92, 93)]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "公民身份号码", "手机号", "楼号", "单元号", "门牌号"])
    sheet.append(["马秀兰", ids[0], "13812340001", "一号楼", "1", "101"])  # 1号楼, grid A
    sheet.append(["杨建华", ids[1], "", "9栋", "2", "202"])  # 9号楼, grid B
    sheet.append(["何静", ids[2], "", "新7号楼", "1", "101"])  # new: which of the two grids?
    buffer = io.BytesIO()
    workbook.save(buffer)

    log_in(cast.community_officer)
    page.goto("/jobs/import/residents/")
    form = page.locator("main form[enctype='multipart/form-data']")
    area_box = form.locator(".autocomplete", has=page.locator("#id_area"))
    area_box.locator("input[type=search]").fill("九州社")
    expect(area_box.locator(f'option[value="{cast.community.code}"]')).to_have_count(1)
    page.locator("#id_area").select_option(cast.community.code)
    form.locator("input[type=file]").set_input_files(
        {"name": "台账.xlsx", "mimeType": "application/octet-stream", "buffer": buffer.getvalue()}
    )
    with page.expect_navigation():
        page.get_by_test_id("import-preview").click()
    expect(page.get_by_test_id("job-panel")).to_have_attribute("data-status", Status.SUCCEEDED)
    assert_assets_loaded(page)
    expect(page.get_by_test_id("job-count")).to_have_text("3 / 3")
    rows = page.get_by_test_id("job-rows").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-action", "create")
    expect(rows.nth(0)).to_contain_text("6201**********" + ids[0][-4:])
    expect(rows.nth(0)).to_contain_text("138****0001")
    expect(rows.nth(0)).to_contain_text("第一网格")
    expect(rows.nth(0)).to_contain_text("“一号楼”即已登记的楼栋 1号楼")
    expect(rows.nth(1)).to_contain_text("第二网格")
    expect(rows.nth(2)).to_have_attribute("data-action", "rejected")
    expect(rows.nth(2)).to_contain_text("新7号楼")
    expect(rows.nth(2).get_by_test_id("row-action")).to_have_text("有错误未导入")
    body = page.locator("main").inner_text()
    assert not any(number in body for number in ids) and "13812340001" not in body
    shot(page, "import_preview_rows")

    with page.expect_navigation():
        page.get_by_test_id("job-action-confirm").click()
    expect(page.get_by_test_id("job-panel")).to_have_attribute("data-status", Status.SUCCEEDED)
    expect(page.get_by_test_id("job-panel")).not_to_contain_text("正在写入")
    assert Person.objects.get(doc_number=ids[0]).household.building == cast.building_a
    assert Person.objects.get(doc_number=ids[1]).household.building == cast.building_b
    assert not Person.objects.filter(doc_number=ids[2]).exists()
