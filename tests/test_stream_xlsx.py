"""The bulk export writer produces workbooks Excel readers open, with types kept."""

import datetime

import openpyxl
import pytest

from epigrid.core import tabular
from epigrid.core.tabular import read_rows, stream_xlsx

HEADERS = ["姓名", "证件号码", "房号", "出生日期", "登记时间", "人数", "备注"]


def _write(tmp_path, rows, **kw):
    path = tmp_path / "export.xlsx"
    count = stream_xlsx(path, HEADERS, rows, sheet_name="居民台账", text_columns={1, 2}, **kw)
    return path, count


def test_it_keeps_text_numbers_and_dates(tmp_path):
    row = [
        "张三",
        "620102194501010012",
        "0502",
        datetime.date(1945, 1, 1),
        datetime.datetime(2022, 4, 1, 9, 30),
        3,
        "A & B <c>",
    ]
    path, count = _write(tmp_path, [row])
    ws = openpyxl.load_workbook(path).active
    values = [c.value for c in ws[2]]
    assert count == 1 and ws.title == "居民台账"
    assert values[:3] == ["张三", "620102194501010012", "0502"]
    assert values[3] == datetime.datetime(1945, 1, 1) and values[4] == datetime.datetime(2022, 4, 1, 9, 30)
    assert values[5:] == [3, "A & B <c>"]
    assert [c.value for c in ws[1]] == HEADERS and ws.freeze_panes == "A2"


def test_it_is_read_back_by_the_import_reader(tmp_path):
    path, _count = _write(tmp_path, [["李四", "11010519491231002X", "101", None, None, 1, ""]])
    with open(path, "rb") as fileobj:
        rows = read_rows(fileobj, "export.xlsx")
    assert rows[1] == (2, ["李四", "11010519491231002X", "101", None, None, 1])


def test_it_drops_characters_xml_cannot_hold(tmp_path):
    path, _count = _write(tmp_path, [["王\x00五\x0b", "1", "1", None, None, None, "行1\n行2"]])
    ws = openpyxl.load_workbook(path).active
    assert ws["A2"].value == "王五" and ws["G2"].value == "行1\n行2"


def test_it_continues_on_a_new_sheet_past_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "EXCEL_MAX_ROWS", 4)
    path, count = _write(tmp_path, ([f"人{i}", str(i), "1", None, None, i, ""] for i in range(5)))
    wb = openpyxl.load_workbook(path)
    assert count == 5 and len(wb.sheetnames) == 2
    assert [ws.max_row for ws in wb.worksheets] == [4, 3]  # header + 3, header + 2


@pytest.mark.parametrize("big", [10**15, 620102194501010012])
def test_it_writes_numbers_excel_would_round_as_text(tmp_path, big):
    path, _count = _write(tmp_path, [["x", "1", "1", None, None, big, ""]])
    assert openpyxl.load_workbook(path).active["F2"].value == str(big)
