"""The file layer of ledger imports and exports (epigrid.core.tabular)."""

import datetime
import io
import time
import zipfile
import zoneinfo
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.utils import translation

from epigrid.core import tabular
from epigrid.core.tabular import (
    CellError,
    Column,
    TableReadError,
    cell_date,
    cell_datetime,
    cell_identifier,
    cell_text,
    error_report_xlsx,
    find_header,
    normalise_header,
    read_rows,
    template_xlsx,
    write_xlsx,
)

FIXTURES = Path(__file__).parent / "fixtures" / "tabular"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

COLUMNS = [
    Column("name", "姓名", ("姓名", "名字"), required=True),
    Column(
        "doc_number",
        "证件号码",
        ("身份证号", "身份证号码", "公民身份号码", "证件号", "证件号码"),
        required=True,
    ),
    Column("phone", "联系电话", ("手机号", "手机号码", "联系方式", "电话")),
    Column("building", "楼栋", ("楼号", "楼栋号")),
    Column("unit", "单元", ("单元号",)),
    Column("room", "房号", ("门牌号", "房间号")),
    Column("residence", "人员类型", ("户籍类型", "人员类别")),
]


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in their source language, whatever translations exist.
    with translation.override("en"):
        yield


def xlsx_bytes(build):
    book = openpyxl.Workbook()
    build(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def header_fields(header, rows=(), **kwargs):
    return find_header([(1, list(header)), *((n, list(r)) for n, r in enumerate(rows, 2))], COLUMNS, **kwargs)


# -- reading ---------------------------------------------------------------------------------------


def test_it_reads_xlsx_with_title_rows_and_merged_cells_keeping_excel_row_numbers():
    def build(book):
        sheet = book.active
        sheet["A1"] = "某街道某社区居民信息登记台账"
        sheet.merge_cells("A1:F2")
        sheet["A3"] = "填报单位：某社区"
        sheet.append(["序号", "姓名", "身份证号", "联系电话", "登记日期", "房号", None, None])  # row 4
        sheet.append([1, "张三", "11010519491231002X", "13800138000", datetime.date(2022, 3, 31), "0502"])
        sheet.append([])  # row 6 blank
        sheet.append([2.0, "  ", 6.20102194501012e17, 13900139000, datetime.datetime(2022, 4, 1, 8, 30), 1.5])
        sheet.append([None, None, None])  # row 8 blank
        sheet.append([None, "王五"])  # row 9

    rows = read_rows(io.BytesIO(xlsx_bytes(build)), "台账.xlsx")

    assert [number for number, _values in rows] == [1, 3, 4, 5, 7, 9]
    assert rows[0][1] == ["某街道某社区居民信息登记台账"]
    assert rows[2][1] == [
        "序号",
        "姓名",
        "身份证号",
        "联系电话",
        "登记日期",
        "房号",
    ]  # trailing blanks trimmed
    assert rows[3][1] == [1, "张三", "11010519491231002X", "13800138000", datetime.date(2022, 3, 31), "0502"]
    seventh = rows[4][1]
    assert seventh[0] == 2 and type(seventh[0]) is int  # whole floats become ints
    assert seventh[1] is None  # a blank text cell is None
    assert seventh[2] == 6.20102194501012e17 and isinstance(seventh[2], float)  # big: stays what it is
    assert seventh[3:] == [13900139000, datetime.datetime(2022, 4, 1, 8, 30), 1.5]
    assert rows[5][1] == [None, "王五"]

    match = find_header(rows, COLUMNS)
    assert (match.row_index, match.row_number) == (2, 4)
    assert match.mapping == {1: "name", 2: "doc_number", 3: "phone", 5: "room"}
    assert match.unknown == ["序号", "登记日期"]


def test_it_reads_the_first_non_empty_visible_sheet():
    def build(book):
        book.active.title = "说明"
        hidden = book.create_sheet("下拉选项", 0)
        hidden.append(["户籍", "流动"])
        hidden.sheet_state = "hidden"
        data = book.create_sheet("数据")
        data["C10"] = "姓名"
        data["D10"] = "证件号码"
        data["C11"] = "张三"
        book.active = 2

    rows = read_rows(xlsx_bytes(build))

    assert rows == [(10, [None, None, "姓名", "证件号码"]), (11, [None, None, "张三"])]


def test_it_reads_old_excel_xls():
    rows = read_rows(FIXTURES / "ledger.xls")

    assert rows == [
        (1, ["某社区居民信息登记台账"]),
        (4, ["姓名", "公民身份号码", "手机号", "登记日期", "门牌号"]),
        (5, ["张三", "11010519491231002X", "13800138000", datetime.date(2022, 3, 31), 502]),
        (7, ["李四", 6.20102194501012e17, None, None, "0101"]),
    ]
    match = find_header(rows, COLUMNS)
    assert match.row_number == 4
    assert match.mapping == {0: "name", 1: "doc_number", 2: "phone", 4: "room"}
    with pytest.raises(CellError):
        cell_identifier(rows[3][1][1])


CSV_TEXT = (
    "人员登记表,,\n姓名,身份证号,手机号\n张三,11010519491231002X,13800138000\n,,\n李四,440524188001010014,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_it_reads_csv_in_the_encodings_excel_saves(encoding):
    rows = read_rows(io.BytesIO(CSV_TEXT.replace("\n", "\r\n").encode(encoding)), "台账.csv")

    assert rows == [
        (1, ["人员登记表"]),
        (2, ["姓名", "身份证号", "手机号"]),
        (3, ["张三", "11010519491231002X", "13800138000"]),
        (5, ["李四", "440524188001010014"]),
    ]


def test_it_reads_gb18030_csv_with_characters_outside_gbk():
    text = "姓名,证件号码\n王𠮷,11010519491231002X\n李䶮,440524188001010014\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")

    rows = read_rows(io.BytesIO(text.encode("gb18030")))

    assert [values[0] for _number, values in rows] == ["姓名", "王𠮷", "李䶮"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "姓名\t证件号码\t备注\n张三\t11010519491231002X\t住3,4楼\n",
            ["张三", "11010519491231002X", "住3,4楼"],
        ),
        ("姓名;证件号码;备注\n张三;11010519491231002X;a,b\n", ["张三", "11010519491231002X", "a,b"]),
        (
            '姓名,证件号码,备注\n张三,11010519491231002X,"甲;乙\t丙,丁"\n',
            ["张三", "11010519491231002X", "甲;乙\t丙,丁"],
        ),
    ],
    ids=["tab", "semicolon", "comma-quoted"],
)
def test_it_sniffs_the_csv_delimiter(text, expected):
    rows = read_rows(io.BytesIO(text.encode("utf-8")))

    assert rows[1] == (2, expected)


def test_it_reads_excel_unicode_text_utf16():
    text = "姓名\t证件号码\r\n张三\t11010519491231002X\r\n"

    rows = read_rows(io.BytesIO(text.encode("utf-16")))  # with BOM, as Excel saves it

    assert rows == [(1, ["姓名", "证件号码"]), (2, ["张三", "11010519491231002X"])]


def test_it_numbers_csv_rows_by_record_not_by_line():
    text = '姓名,备注\n张三,"第一行\n第二行"\n李四,x\n'

    rows = read_rows(io.BytesIO(text.encode("utf-8")))

    assert rows == [(1, ["姓名", "备注"]), (2, ["张三", "第一行\n第二行"]), (3, ["李四", "x"])]


def test_it_tells_the_format_from_the_content_not_the_name():
    workbook = xlsx_bytes(lambda book: book.active.append(["姓名", "证件号码"]))

    assert read_rows(io.BytesIO(workbook), "export.csv") == [(1, ["姓名", "证件号码"])]
    assert read_rows(io.BytesIO("姓名,证件号码\n".encode("gbk")), "导出.xls") == [(1, ["姓名", "证件号码"])]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b" \r\n\t", "The file is empty."),
        (bytes(range(256)) * 8, "is not a spreadsheet"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "is not a spreadsheet"),
        (b"\xff\xd8\xff\xe0\x81\x30\x81\xfe\xfe\xfe\x80\x80\x80", "known text encoding"),
        (b"PK\x03\x04" + bytes(300), "could not be opened as an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "could not be opened as an Excel workbook"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + bytes(100)
            + "EncryptionInfo".encode("utf-16-le")
            + bytes(100),
            "protected by a password",
        ),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "web page"),
        (b",,,\r\n,,\r\n", "contains no data"),
    ],
    ids=[
        "empty",
        "blank",
        "binary",
        "png",
        "undecodable",
        "bad-zip",
        "bad-ole2",
        "encrypted",
        "html",
        "no-data",
    ],
)
def test_it_refuses_files_it_cannot_read(content, message):
    with pytest.raises(TableReadError, match=message):
        read_rows(io.BytesIO(content), "file.xlsx")


def test_it_refuses_a_workbook_whose_sheets_are_all_empty():
    with pytest.raises(TableReadError, match="contains no data"):
        read_rows(xlsx_bytes(lambda book: book.create_sheet("Sheet2")))


def test_it_reads_from_the_start_of_a_file_that_was_already_read():
    upload = io.BytesIO("姓名,证件号码\n".encode())
    upload.read()

    assert read_rows(upload) == [(1, ["姓名", "证件号码"])]


# -- header ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("身份证号", "doc_number"),
        ("公民身份号码", "doc_number"),
        ("证件号码", "doc_number"),
        ("联系电话", "phone"),
        ("手机号", "phone"),
        ("联系方式", "phone"),
        ("楼栋", "building"),
        ("楼号", "building"),
        ("单元", "unit"),
        ("单元号", "unit"),
        ("房号", "room"),
        ("门牌号", "room"),
        ("房间号", "room"),
        ("人员类型", "residence"),
        ("户籍类型", "residence"),
        ("人员类别", "residence"),
        ("联系电话(手机)", "phone"),
        ("联系电话（手机）", "phone"),
        ("*姓名", "name"),
        ("证件号码*", "doc_number"),
        ("姓名：", "name"),
        (" 证件 号码 ", "doc_number"),
        ("联系\n电话", "phone"),
        ("【必填】姓名", "name"),
        ("本人手机号码", "phone"),  # contains a synonym
        ("DOC_NUMBER", "doc_number"),  # the field name, any case
    ],
)
def test_it_matches_headers_by_synonym(header, field):
    match = header_fields(["姓名" if field != "name" else "证件号码", header])

    assert match.mapping[1] == field


def test_it_prefers_the_longest_synonym_a_header_contains():
    columns = [
        Column("name", "姓名", ()),
        Column("phone", "电话", ()),
        Column("emergency", "紧急联系电话", ()),
    ]

    match = find_header([(1, ["姓名", "紧急联系电话号码", "家庭电话"])], columns)

    assert match.mapping == {0: "name", 1: "emergency", 2: "phone"}


def test_it_lists_unknown_columns_and_missing_required_fields():
    match = header_fields(["序号", "联系电话", "楼栋", None, "备注", "房号"])

    assert match.mapping == {1: "phone", 2: "building", 5: "room"}
    assert match.unknown == ["序号", "备注"]
    assert match.missing == ["name", "doc_number"]


def test_it_gives_a_field_to_the_first_column_and_lists_the_others():
    match = header_fields(["姓名", "联系电话(手机)", "手机号", "联系电话(座机)"])

    assert match.mapping == {0: "name", 1: "phone"}
    assert match.duplicates == ["手机号", "联系电话(座机)"]
    assert match.columns_by_field == {"name": 0, "phone": 1}
    assert match.record(["张三", "138"]) == {"name": "张三", "phone": "138"}
    assert match.record(["张三"]) == {"name": "张三", "phone": None}


def test_it_skips_a_title_row_that_mentions_a_header():
    match = header_fields(
        ["姓名", "证件号码", "联系电话"], rows=[["张三", "11010519491231002X", "13800138000"]], scan=20
    )
    assert match.row_number == 1

    rows = [(1, ["居民联系电话登记表"]), (2, ["姓名", "联系电话"]), (3, ["张三", "13800138000"])]
    assert find_header(rows, COLUMNS).row_number == 2


def test_it_refuses_unrecognisable_headers_listing_the_expected_ones():
    rows = [(1, ["某某表"]), (2, ["甲", "乙", "姓名"]), (3, ["1", "2", "3"])]

    with pytest.raises(TableReadError) as caught:
        find_header(rows, COLUMNS)

    message = str(caught.value)
    assert "could not be recognised" in message
    for column in COLUMNS:
        assert column.header in message


def test_it_only_scans_the_first_rows_for_the_header():
    rows = [(n, [f"标题{n}"]) for n in range(1, 4)] + [(4, ["姓名", "证件号码"])]

    assert find_header(rows, COLUMNS, scan=4).row_number == 4
    with pytest.raises(TableReadError):
        find_header(rows, COLUMNS, scan=3)


def test_it_applies_a_mapping_override():
    header = ["名称", "号码", "联系电话(手机)", "联系电话(座机)", "楼栋"]

    match = header_fields(
        header,
        mapping_override={"名称": "name", "号码": "doc_number", "联系电话(座机)": "phone", "楼栋": ""},
    )

    assert match.mapping == {0: "name", 1: "doc_number", 3: "phone"}
    assert match.duplicates == ["联系电话(手机)"]
    assert match.unknown == []  # 楼栋 was set aside by hand
    assert match.missing == []


def test_it_lets_an_override_make_a_header_recognisable():
    with pytest.raises(TableReadError):
        header_fields(["名称", "号码"])

    match = header_fields(["名称", "号码"], mapping_override={"名称": "name", "号码": "doc_number"})

    assert match.mapping == {0: "name", 1: "doc_number"}


def test_it_refuses_an_override_to_an_unknown_field():
    with pytest.raises(ValueError, match="no_such_field"):
        header_fields(["姓名", "证件号码"], mapping_override={"姓名": "no_such_field"})


def test_it_normalises_headers_predictably():
    assert normalise_header("＊联系电话（手机）：") == "联系电话"
    assert normalise_header(" Phone No. ") == "phoneno."
    assert normalise_header("(备注)") == "(备注)"  # nothing but a note: the note is the header


# -- cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("", ""),
        ("  张  三 \n", "张 三"),
        ("ＡＢＣ１２３", "ABC123"),
        ("张\u3000三", "张 三"),
        ("\u200b0012\ufeff", "0012"),
        ("0012", "0012"),  # numbers stored as text are text
        ("6.20102E+17", "6.20102E+17"),
        (12, "12"),
        (12.0, "12"),
        (36.6, "36.6"),
        (True, "TRUE"),
        (Decimal("1.50"), "1.5"),
        (datetime.date(2022, 3, 31), "2022-03-31"),
        (datetime.datetime(2022, 3, 31, 14, 30), "2022-03-31 14:30"),
        (datetime.datetime(2022, 3, 31, 14, 30, 5), "2022-03-31 14:30:05"),
        (datetime.time(8, 0), "08:00"),
    ],
)
def test_it_normalises_cell_text(value, text):
    assert cell_text(value) == text


@pytest.mark.parametrize(
    ("value", "identifier"),
    [
        ("11010519491231002x", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("110105 1949 1231 002X", "11010519491231002X"),
        ("\t440524188001010014 ", "440524188001010014"),
        ("138 0013 8000", "13800138000"),
        ("'11010519491231002X", "11010519491231002X"),
        ('="11010519491231002X"', "11010519491231002X"),
        ("0502", "0502"),
        (502, "502"),  # a small number stored as number is fine
        (502.0, "502"),
        (13800138000, "13800138000"),
        ("e12345678", "E12345678"),  # a passport number is not scientific notation
        (None, ""),
    ],
)
def test_it_normalises_identifiers(value, identifier):
    assert cell_identifier(value) == identifier


@pytest.mark.parametrize(
    "value",
    [
        6.20102194501012e17,
        620102194501012000,
        123456789012345,
        "6.20102E+17",
        "6.2E+17",
        "6.2e+17",
        "４.４E+17",
    ],
)
def test_it_refuses_ids_that_excel_turned_into_numbers(value):
    with pytest.raises(CellError) as caught:
        cell_identifier(value)

    message = str(caught.value)
    assert "Excel stored this ID as a number and lost its last digits" in message
    assert "format the column as Text" in message


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2022, 3, 31),
        datetime.datetime(2022, 3, 31, 14, 30),
        44651,  # Excel serial number
        44651.75,
        20220331,
        "2022-03-31",
        "2022-3-31",
        "2022/3/31",
        "2022/03/31",
        "2022.3.31",
        "2022年3月31日",
        "2022年03月31号",
        "2022 年 3 月 31 日",
        "２０２２－０３－３１",
        "20220331",
        "2022/3/31 0:00",
        "2022-03-31 14:30:05",
    ],
)
def test_it_reads_dates_in_every_format(value):
    assert cell_date(value) == datetime.date(2022, 3, 31)


def test_it_counts_excel_serials_from_1900_with_its_leap_day_bug():
    assert cell_date(1) == datetime.date(1900, 1, 1)
    assert cell_date(59) == datetime.date(1900, 2, 28)
    assert cell_date(61) == datetime.date(1900, 3, 1)
    with pytest.raises(CellError, match="not a real date"):
        cell_date(60)  # 29 February 1900, which Excel counts but never was


@pytest.mark.parametrize("value", [None, "", "   "])
def test_it_reads_empty_dates_as_none(value):
    assert cell_date(value) is None
    assert cell_datetime(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2022-02-30", "not a real date"),
        ("2022年13月1日", "not a real date"),
        (20220230, "not a real date"),
        ("3/31/2022", "is not a date"),  # month-first or day-first: refused, not guessed
        ("31.03.2022", "is not a date"),
        ("2022-03", "is not a date"),
        ("明天", "is not a date"),
        ("2022-3/31", "is not a date"),
        (0, "is not a date"),
        (-5, "is not a date"),
        (12345678, "is not a date"),
        (float("nan"), "is not a date"),
        (True, "is not a date"),
        (datetime.time(8, 0), "is not a date"),
    ],
)
def test_it_refuses_what_is_not_a_date(value, message):
    with pytest.raises(CellError, match=message):
        cell_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.datetime(2022, 3, 31, 14, 30), datetime.datetime(2022, 3, 31, 14, 30)),
        (datetime.date(2022, 3, 31), datetime.datetime(2022, 3, 31)),
        (44651.6041666667, datetime.datetime(2022, 3, 31, 14, 30)),
        ("2022-03-31 14:30", datetime.datetime(2022, 3, 31, 14, 30)),
        ("2022/3/31 14:30:05", datetime.datetime(2022, 3, 31, 14, 30, 5)),
        ("2022-03-31T14:30:00", datetime.datetime(2022, 3, 31, 14, 30)),
        ("2022年3月31日 14时30分", datetime.datetime(2022, 3, 31, 14, 30)),
        ("2022年3月31日14:30", datetime.datetime(2022, 3, 31, 14, 30)),
        ("2022.3.31 8:05", datetime.datetime(2022, 3, 31, 8, 5)),
        ("2022-03-31", datetime.datetime(2022, 3, 31)),
        ("2022-03-31T06:30:00Z", datetime.datetime(2022, 3, 31, 14, 30)),
        ("2022-03-31 14:30:00+08:00", datetime.datetime(2022, 3, 31, 14, 30)),
    ],
)
def test_it_reads_datetimes_as_aware_local_time(value, expected):
    result = cell_datetime(value)

    assert result == expected.replace(tzinfo=SHANGHAI)
    assert result.utcoffset() == datetime.timedelta(hours=8)


def test_it_converts_aware_datetimes_to_local_time():
    utc = datetime.datetime(2022, 3, 31, 6, 30, tzinfo=datetime.UTC)

    assert cell_datetime(utc).replace(tzinfo=None) == datetime.datetime(2022, 3, 31, 14, 30)


@pytest.mark.parametrize(
    ("value", "message"), [("2022-03-31 25:00", "not a real date"), ("14:30", "not a date")]
)
def test_it_refuses_what_is_not_a_datetime(value, message):
    with pytest.raises(CellError, match=message):
        cell_datetime(value)


# -- writing --------------------------------------------------------------------------------------


def test_it_writes_xlsx_that_keeps_codes_and_ids_as_text():
    aware = datetime.datetime(2022, 3, 31, 6, 30, tzinfo=datetime.UTC)
    rows = (
        row
        for row in [
            ["0012", "11010519491231002X", "620102194501012345", 3, 1.5, datetime.date(2022, 3, 31), aware],
            [12, 440524188001010014, None, True, "=1+1", None, None],
            [None, None, None, 6201021945010123, "http://example.com", None, None],
        ]
    )
    out = io.BytesIO()

    count = write_xlsx(
        out, ["编码", "证件号码", "代码", "数量", "备注", "日期", "时间"], rows, text_columns={0, 1, 2}
    )

    assert count == 3
    read = read_rows(io.BytesIO(out.getvalue()))
    assert read[0] == (1, ["编码", "证件号码", "代码", "数量", "备注", "日期", "时间"])
    assert read[1][1] == [
        "0012",
        "11010519491231002X",
        "620102194501012345",
        3,
        1.5,
        datetime.date(2022, 3, 31),
        datetime.datetime(2022, 3, 31, 14, 30),
    ]
    assert read[2][1] == ["12", "440524188001010014", None, True, "=1+1"]  # no formula
    assert read[3][1] == [None, None, None, "6201021945010123", "http://example.com"]  # 16 digits: text

    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b
    assert any(dim.min <= 2 <= dim.max and dim.width >= 20 for dim in sheet.column_dimensions.values())
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].number_format == "@"
    assert sheet["E3"].data_type == "s"


def test_it_writes_xlsx_to_a_path(tmp_path):
    path = tmp_path / "export.xlsx"

    assert write_xlsx(path, ["姓名"], [["张三"], ["李四"]], sheet_name="人员/名单") == 2
    assert read_rows(path) == [(1, ["姓名"]), (2, ["张三"]), (3, ["李四"])]
    assert openpyxl.load_workbook(path).sheetnames == ["人员_名单"]


def test_it_continues_on_a_new_sheet_past_excels_row_limit(monkeypatch):
    monkeypatch.setattr(tabular, "EXCEL_MAX_ROWS", 4)
    out = io.BytesIO()

    count = write_xlsx(out, ["序号"], ([n] for n in range(1, 8)), sheet_name="人员")

    assert count == 7
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["人员", "人员 (2)", "人员 (3)"]
    assert [[c.value for c in row] for row in book["人员 (3)"].iter_rows()] == [["序号"], [7]]


def test_it_writes_an_error_report_the_office_can_fix_and_upload_again():
    source = [
        (1, ["人员登记表"]),
        (3, ["姓名", "身份证号", "联系电话", "楼栋"]),
        (4, ["张三", 6.20102194501012e17, "1380013800", "3"]),
        (6, ["李四", "0012", None, 5, "多出的一格"]),
    ]
    match = find_header(source, COLUMNS)
    rejected = [
        (4, source[2][1], ["证件号码：Excel stored this ID as a number", "联系电话：号码位数不对"]),
        (6, source[3][1], ["证件号码：太短"]),
    ]
    out = io.BytesIO()

    error_report_xlsx(out, source[match.row_index][1], rejected)

    rows = read_rows(io.BytesIO(out.getvalue()))
    assert rows == [
        (1, ["原行号", "姓名", "身份证号", "联系电话", "楼栋", None, "错误原因"]),
        (
            2,
            [
                4,
                "张三",
                6.20102194501012e17,
                "1380013800",
                "3",
                None,
                "证件号码：Excel stored this ID as a number；联系电话：号码位数不对",
            ],
        ),
        (3, [6, "李四", "0012", None, 5, "多出的一格", "证件号码：太短"]),
    ]
    again = find_header(rows, COLUMNS)
    assert again.mapping == {1: "name", 2: "doc_number", 3: "phone", 4: "building"}
    assert again.unknown == ["原行号", "错误原因"]
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet["C2"].number_format == "@"  # a retyped ID stays text
    assert sheet["C2"].value == 6.20102194501012e17  # the original value, as it was


def test_it_does_not_repeat_the_report_columns_when_a_report_is_reported_again():
    header = ["原行号", "姓名", "证件号码", "错误原因"]
    out = io.BytesIO()

    error_report_xlsx(out, header, [(2, [4, "张三", "123", "旧的原因"], ["证件号码：太短"])])

    assert read_rows(io.BytesIO(out.getvalue())) == [
        (1, ["原行号", "姓名", "证件号码", "错误原因"]),
        (2, [2, "张三", "123", "证件号码：太短"]),
    ]


def test_it_writes_a_template_that_find_header_recognises():
    out = io.BytesIO()

    template_xlsx(out, COLUMNS, ["张三", "11010519491231002X", "13800138000", "3", "2", "0502", "户籍"])

    rows = read_rows(io.BytesIO(out.getvalue()))
    assert rows[0] == (1, ["*姓名", "*证件号码", "联系电话", "楼栋", "单元", "房号", "人员类型"])
    assert rows[1] == (2, ["张三", "11010519491231002X", "13800138000", "3", "2", "0502", "户籍"])
    match = find_header(rows, COLUMNS)
    assert match.mapping == {i: column.field for i, column in enumerate(COLUMNS)}
    assert (match.unknown, match.missing) == ([], [])
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet["A1"].comment.text.startswith("Required.")
    assert "身份证号" in sheet["B1"].comment.text
    assert sheet["B2"].number_format == "@"
    assert sheet.freeze_panes == "A2"


# -- limits (issue 7: uploads that kill the worker) -----------------------------------------------

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def hand_xlsx(sheet_data, head=""):
    """The smallest xlsx calamine opens, with one sheet whose <sheetData> is written by hand."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
            '<sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{_MAIN_NS}">{head}<sheetData>{sheet_data}</sheetData></worksheet>',
        )
    return buffer.getvalue()


def text_cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def test_it_refuses_a_sheet_reaching_the_last_cell_of_excel_without_building_it():
    # 1.6 KB; calamine would build A1:XFD1048576 as one block of 512 GB and the process would die.
    workbook = hand_xlsx(
        f'<row r="1">{text_cell("A1", "姓名")}</row><row r="1048576">{text_cell("XFD1048576", "x")}</row>'
    )
    started = time.monotonic()

    with pytest.raises(TableReadError, match="reaches column XFD, past the limit of 200 columns"):
        read_rows(workbook, "台账.xlsx")
    assert time.monotonic() - started < 2


def test_it_refuses_a_sheet_whose_data_reaches_past_the_row_limit(settings):
    settings.EPIGRID_IMPORT_MAX_ROWS = 1000
    workbook = hand_xlsx(
        f'<row r="1">{text_cell("A1", "姓名")}</row><row r="5000"><c r="B5000"><v>1</v></c></row>'
    )

    with pytest.raises(TableReadError, match="reaches row 5,000, past the limit of 1,000 rows"):
        read_rows(workbook)


@pytest.mark.parametrize("kind", ["xlsx", "xls", "csv"])
def test_it_refuses_more_rows_than_the_limit_in_every_format(settings, kind):
    settings.EPIGRID_IMPORT_MAX_ROWS = 5
    content = {
        "xlsx": lambda: xlsx_bytes(lambda book: [book.active.append([f"张{i}", i]) for i in range(6)]),
        "xls": lambda: (FIXTURES / "ledger.xls").read_bytes(),  # data down to row 7
        "csv": lambda: "".join(f"张{i},{i}\n" for i in range(6)).encode(),
    }[kind]()

    with pytest.raises(TableReadError, match="past the limit of 5 rows"):
        read_rows(content)


def test_it_refuses_a_sheet_whose_area_holds_too_many_cells(settings):
    settings.EPIGRID_IMPORT_MAX_CELLS = 100
    workbook = hand_xlsx(
        f'<row r="1">{text_cell("A1", "姓名")}</row><row r="20"><c r="T20"><v>1</v></c></row>'
    )

    with pytest.raises(TableReadError, match="area A1:T20 holds more than 100 cells"):
        read_rows(workbook)


def test_it_places_cells_written_without_references_as_excel_does(settings):
    settings.EPIGRID_IMPORT_MAX_COLUMNS = 5
    workbook = hand_xlsx("<row>" + "<c><v>1</v></c>" * 8 + "</row>")

    with pytest.raises(TableReadError, match="reaches column H, past the limit of 5 columns"):
        read_rows(workbook)


def test_it_ignores_formatted_blank_cells_and_the_declared_dimension():
    # Excel counts formatted blanks in its used range; calamine (and so the limits) does not.
    workbook = hand_xlsx(
        f'<row r="1">{text_cell("A1", "姓名")}</row><row r="1048576"><c r="XFD1048576" s="1"/></row>',
        head='<dimension ref="A1:XFD1048576"/>',
    )

    assert read_rows(workbook) == [(1, ["姓名"])]


def test_it_refuses_a_zip_bomb():
    workbook = hand_xlsx(f'<row r="1">{text_cell("A1", "姓名")}</row>' + " " * 20_000_000)
    assert len(workbook) < 100_000

    with pytest.raises(TableReadError, match="compressed to an unusual degree"):
        read_rows(workbook)


def test_it_refuses_an_xlsx_past_the_size_limit_once_uncompressed(settings):
    settings.EPIGRID_IMPORT_MAX_MB = 1
    rows = "".join(
        f'<row r="{i}"><c r="A{i}"><v>{i * 7919 % 1000003}</v></c></row>' for i in range(1, 40_000)
    )
    workbook = hand_xlsx(rows)
    assert len(workbook) < 1024 * 1024

    with pytest.raises(TableReadError, match="more than 1 MB of data"):
        read_rows(workbook)


def test_it_refuses_a_csv_past_the_size_limit(settings):
    settings.EPIGRID_IMPORT_MAX_MB = 1
    content = "姓名,证件号码\n".encode() + b"x,1\n" * 300_000

    with pytest.raises(TableReadError, match="more than 1 MB of data"):
        read_rows(io.BytesIO(content))


def test_it_refuses_an_xls_with_a_cell_past_the_last_column_of_old_excel():
    # The name 张三 (LABELSST record, row 5, column A) moved to row 65536, column 65536: calamine
    # would build 65536 x 65536 cells (137 GB) as it opens the file.
    content = bytearray((FIXTURES / "ledger.xls").read_bytes())
    record = content.index(b"\xfd\x00\x0a\x00\x04\x00\x00\x00")
    content[record + 4 : record + 8] = b"\xff\xff\xff\xff"

    with pytest.raises(TableReadError, match="reaches column CRXP"):
        read_rows(bytes(content))


def test_it_refuses_spreadsheet_formats_it_does_not_measure():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")

    with pytest.raises(TableReadError, match="cannot be imported"):
        read_rows(buffer.getvalue(), "台账.ods")
