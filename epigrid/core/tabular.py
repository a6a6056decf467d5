"""The file layer of every ledger (台账) import and export: read xlsx, xls and CSV, find the header
row, turn cells into clean values, and write exports, error reports and templates.

Model-free on purpose (core imports no epigrid app): the import pipeline builds on these functions.

Reading: the format is told by the file's content, never by its name (offices rename files, and
some systems save CSV as ".xls"). python-calamine reads xlsx and xls; CSV is decoded as UTF-8
(with or without BOM) or else GB18030, a superset of the GBK that Chinese Excel saves. Row numbers
are the ones Excel shows, so a message about "row 7" sends the office to row 7.

Limits (docs/decisions/0013-upload-limits-and-dead-workers.md): calamine builds a sheet as one
dense block from A1 to its last cell, so a 2 KB xlsx with cells at A1 and XFD1048576 asks for 512 GB
and the process dies. Before calamine sees a file, check_workbook measures what it would build (the
cells of the sheet XML, the cell records of an xls, the real uncompressed size of every zip part)
and refuses past EPIGRID_IMPORT_MAX_ROWS / _COLUMNS / _CELLS / _MB with a message for the office.

Cells: every import goes through cell_text / cell_identifier / cell_date / cell_datetime, which
raise CellError with a message meant for the office. An ID that Excel turned into a number has lost
its last digits for good: cell_identifier says so and never guesses them back.

Writing: XlsxWriter in constant-memory mode, so an export of a million rows stays small in memory.
Strings are never turned into formulas, links or numbers.
"""

import contextlib
import csv
import dataclasses
import datetime
import functools
import html
import io
import itertools
import math
import operator
import os
import posixpath
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import python_calamine
import xlsxwriter
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

__all__ = [
    "ERROR_COLUMN",
    "ROW_NUMBER_COLUMN",
    "CellError",
    "Column",
    "HeaderMatch",
    "TableReadError",
    "cell_date",
    "cell_datetime",
    "cell_identifier",
    "cell_text",
    "error_report_xlsx",
    "find_header",
    "normalise_header",
    "read_rows",
    "template_xlsx",
    "stream_xlsx",
    "write_xlsx",
]

# The extra columns of an error report (a re-uploaded report just has them as unknown columns).
ROW_NUMBER_COLUMN = "原行号"
ERROR_COLUMN = "错误原因"
REASON_SEPARATOR = "；"

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_SHEET_NAME = 31


class TableReadError(Exception):
    """The file cannot be read at all; str(exc) is a message for the office."""


class CellError(ValueError):
    """One cell's value is unusable; str(exc) is a message for the office."""


# -- reading ---------------------------------------------------------------------------------------

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # xlsx, xlsm, xlsb, ods (an empty zip too)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # xls (and password-protected xlsx)
_ENCRYPTED_OLE2 = "EncryptionInfo".encode("utf-16-le")  # the stream of an encrypted xlsx
_WEB_PAGE_STARTS = (b"<!doctype", b"<html", b"<table", b"<?xml", b"<head", b"<meta", b"mime-version")
_CSV_DELIMITERS = (",", "\t", ";")  # in order of preference when the sniff is a tie


def read_rows(fileobj, filename=""):
    """Every non-empty row of the first non-empty sheet as (sheet row number, values).

    Row numbers are 1-based as Excel shows them, counting the rows above the header and the
    merged title cells. Values are as the file holds them: str, int, float, bool, date, datetime,
    time (a time-only cell) or None; blank cells are None, trailing blank cells are dropped.
    Whole-number floats that are exact in a double (below 2**53) are ints, as openpyxl gives them;
    bigger ones stay floats, so a mangled ID still looks like what it is. CSV values are str.

    fileobj is a binary file object (read from its start when it can seek), bytes, or a path.
    filename is only used to word error messages; the format is told by the content.
    Files past the import limits (Limits) are refused before they are read.
    """
    limits = Limits.from_settings()
    data = _read_bytes(fileobj, limits.bytes + 1)
    name = os.path.basename(str(filename or ""))
    if not data or (len(data) < 4096 and not data.strip()):
        raise TableReadError(_("The file is empty."))
    if len(data) > limits.bytes:
        raise TableReadError(_too_large_message(limits))
    if data.startswith(_ZIP_MAGIC):
        rows = _read_workbook(data, name, limits)
    elif data.startswith(_OLE2_MAGIC):
        try:
            rows = _read_workbook(data, name, limits)
        except TableReadError:
            if _ENCRYPTED_OLE2 in data:  # an encrypted xlsx is an OLE2 file with this stream
                raise TableReadError(_password_message()) from None
            raise
    else:
        rows = _read_csv(data, name, limits)
    if not rows:
        raise TableReadError(_("The file contains no data."))
    return rows


def _read_bytes(fileobj, size=-1):
    """At most `size` bytes (all with -1): a file past the limit is refused without reading it all."""
    if isinstance(fileobj, bytes | bytearray | memoryview):
        return bytes(fileobj)
    if isinstance(fileobj, str | os.PathLike):
        with open(fileobj, "rb") as handle:
            return handle.read(size)
    if hasattr(fileobj, "seek"):
        with contextlib.suppress(OSError, ValueError):
            fileobj.seek(0)
    data = fileobj.read(size)
    if isinstance(data, str):  # a text-mode file: take it as UTF-8
        data = data.encode("utf-8")
    return data


def _password_message():
    return _("The file is protected by a password. Remove the password in Excel, save and upload it again.")


def _not_a_table_message(name):
    if name:
        return _("“%(name)s” is not a spreadsheet: upload an Excel file (.xlsx or .xls) or a CSV file.") % {
            "name": name
        }
    return _("The file is not a spreadsheet: upload an Excel file (.xlsx or .xls) or a CSV file.")


def _damaged_message(name):
    if name:
        return _(
            "“%(name)s” could not be opened as an Excel workbook: it may be damaged. Open it in Excel, "
            "save it as .xlsx and upload it again."
        ) % {"name": name}
    return _(
        "The file could not be opened as an Excel workbook: it may be damaged. Open it in Excel, "
        "save it as .xlsx and upload it again."
    )


def _read_workbook(data, name, limits):
    extents = check_workbook(data, name, limits)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise TableReadError(_password_message()) from None
    except Exception:  # calamine raises a variety of errors for damaged or foreign zip/OLE2 files
        raise TableReadError(_damaged_message(name)) from None
    try:
        metadata = workbook.sheets_metadata
        worksheets = [
            i for i, meta in enumerate(metadata) if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        visible = [i for i in worksheets if metadata[i].visible == python_calamine.SheetVisibleEnum.Visible]
        # The office sees the visible sheets; hidden ones (drop-down lists and the like) come last.
        for index in visible + [i for i in worksheets if i not in visible]:
            limits.check(*extents.of(metadata[index].name))  # before calamine builds the sheet
            sheet = workbook.get_sheet_by_index(index)
            if sheet.end is not None:  # the same check on what calamine built, before Python lists
                limits.check(sheet.end[0] + 1, sheet.end[1] + 1)
            rows = _clean_rows(enumerate(sheet.to_python(skip_empty_area=False), 1))
            if rows:
                return rows
        return []
    except TableReadError:
        raise
    except python_calamine.PasswordError:
        raise TableReadError(_password_message()) from None
    except Exception:
        raise TableReadError(_damaged_message(name)) from None
    finally:
        workbook.close()


_BIG_FLOAT = float(2**53)


def _clean_rows(numbered):
    """Blank cells to None, whole floats to int, trailing blanks and empty rows dropped (in place)."""
    rows = []
    for number, values in numbered:
        for index, value in enumerate(values):
            if value.__class__ is str:
                if not value or value.isspace():
                    values[index] = None
            elif value.__class__ is float and value.is_integer() and -_BIG_FLOAT < value < _BIG_FLOAT:
                values[index] = int(value)
        while values and values[-1] is None:
            values.pop()
        if values:
            rows.append((number, values))
    return rows


def read_csv_text(fileobj, filename=""):
    """A CSV file as read_rows decodes it: (text, delimiter), or None when the file is a workbook
    (xlsx/xls). For ledgers that hand the text to the database whole (COPY … FORMAT csv)."""
    limits = Limits.from_settings()
    data = _read_bytes(fileobj, limits.bytes + 1)
    name = os.path.basename(str(filename or ""))
    if not data or (len(data) < 4096 and not data.strip()):
        raise TableReadError(_("The file is empty."))
    if len(data) > limits.bytes:
        raise TableReadError(_too_large_message(limits))
    if data.startswith(_ZIP_MAGIC) or data.startswith(_OLE2_MAGIC):
        return None
    text = _csv_text(data, name)
    return text, _sniff_delimiter(text)


def clean_values(values):
    """One row's cells as read_rows gives them (blank → None, trailing blanks dropped); [] for a
    row read_rows would skip."""
    rows = _clean_rows([(0, list(values))])
    return rows[0][1] if rows else []


def _read_csv(data, name, limits):
    text = _csv_text(data, name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        return _clean_rows(limits.checked(enumerate(reader, 1)))
    except csv.Error:
        raise TableReadError(_not_a_table_message(name)) from None


def _csv_text(data, name):
    """The decoded text of a CSV file (UTF-8, GBK or Excel's UTF-16 "Unicode text"), BOM removed;
    TableReadError when it is a web page, binary or not text."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_WEB_PAGE_STARTS):
        raise TableReadError(
            _(
                "The file is a web page or XML file saved under a spreadsheet name, not a real Excel file. "
                "Open it in Excel, choose Save As, pick Excel Workbook (.xlsx) and upload that file."
            )
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16, tab-delimited
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise TableReadError(_not_a_table_message(name)) from None
    else:
        if b"\x00" in data[:8192]:
            raise TableReadError(_not_a_table_message(name))
        text = _decode_text(data, name)
    sample = text[:8192]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if controls > len(sample) // 100:
        raise TableReadError(_not_a_table_message(name))
    return text.removeprefix("\ufeff")


def _decode_text(data, name):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableReadError(
        _(
            "The file is neither an Excel file nor a CSV file in a known text encoding (UTF-8 or GBK). "
            "Open it in Excel, save it as .xlsx and upload it again."
        )
        if not name
        else _(
            "“%(name)s” is neither an Excel file nor a CSV file in a known text encoding (UTF-8 or GBK). "
            "Open it in Excel, save it as .xlsx and upload it again."
        )
        % {"name": name}
    )


def _sniff_delimiter(text):
    """The delimiter that splits the most of the first lines, then the most consistently."""
    lines = [line for line in text[:65536].splitlines() if line.strip()][:50]
    best, best_score = ",", (0, 0)
    for delimiter in _CSV_DELIMITERS:
        try:
            counts = [len(record) for record in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        split = [count for count in counts if count > 1]
        modal = max((split.count(count) for count in set(split)), default=0)
        score = (len(split), modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# -- limits ---------------------------------------------------------------------------------------
# calamine turns a sheet into one dense block of 32-byte cells from A1 to the last cell with a
# value, and Python lists on top: the extent, not the data, decides the memory. So the extent is
# measured from the file itself, without calamine, and refused before calamine builds it.
# See docs/decisions/0013-upload-limits-and-dead-workers.md.

_MAX_COMPRESSION_RATIO = 100  # real xlsx parts deflate 10-20 times; a zip bomb 1,000 times
_RATIO_FLOOR = 1 << 20  # parts smaller than this may compress as well as they like
_MAX_ZIP_MEMBERS = 10_000
_SCAN_CHUNK = 1 << 22


@dataclass(frozen=True)
class Limits:
    """How much one imported file may hold (settings EPIGRID_IMPORT_MAX_*)."""

    rows: int = 200_000
    columns: int = 200
    cells: int = 10_000_000  # rows x columns of the area from A1 to the last cell
    megabytes: int = 300  # of a CSV file, or of an xlsx once uncompressed

    @classmethod
    def from_settings(cls):
        return cls(
            rows=getattr(settings, "EPIGRID_IMPORT_MAX_ROWS", cls.rows),
            columns=getattr(settings, "EPIGRID_IMPORT_MAX_COLUMNS", cls.columns),
            cells=getattr(settings, "EPIGRID_IMPORT_MAX_CELLS", cls.cells),
            megabytes=getattr(settings, "EPIGRID_IMPORT_MAX_MB", cls.megabytes),
        )

    @property
    def bytes(self):
        return self.megabytes * 1024 * 1024

    def check(self, rows, columns):
        """Refuse a sheet whose data reaches row `rows` and column number `columns`."""
        if columns > self.columns:
            raise TableReadError(
                _(
                    "The data reaches column %(column)s, past the limit of %(limit)s columns. "
                    "Delete any columns to the right of your data and upload the file again."
                )
                % {"column": _column_name(columns), "limit": f"{self.columns:,}"}
            )
        if rows > self.rows:
            raise TableReadError(
                _(
                    "The data reaches row %(row)s, past the limit of %(limit)s rows for one file. "
                    "Split the file, or delete any rows below your data, and upload it again."
                )
                % {"row": f"{rows:,}", "limit": f"{self.rows:,}"}
            )
        if rows * columns > self.cells:
            raise TableReadError(
                _(
                    "The sheet's area A1:%(corner)s holds more than %(limit)s cells. "
                    "Split the file, or delete any rows and columns outside your data, and upload it again."
                )
                % {"corner": f"{_column_name(columns)}{rows}", "limit": f"{self.cells:,}"}
            )

    def checked(self, numbered):
        """(row number, values) passed through, refused as soon as one is past the limits (trailing
        blank values do not count, as calamine leaves out blank cells)."""
        for number, values in numbered:
            width = len(values)
            while width and not values[width - 1]:
                width -= 1
            self.check(number, width)
            yield number, values


def _column_name(number):
    name = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def _column_number(letters):
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _too_large_message(limits):
    return _("The file holds more than %(limit)s MB of data. Split it into smaller files.") % {
        "limit": f"{limits.megabytes:,}"
    }


def _bomb_message():
    return _(
        "The file is compressed to an unusual degree and was not opened. Open it in Excel, save it "
        "as .xlsx and upload it again."
    )


def _foreign_format_message():
    return _(
        "The file is a spreadsheet format that cannot be imported (such as .xlsb or .ods). Open it, "
        "save it as .xlsx and upload it again."
    )


@dataclass
class Extents:
    """Where the data of each sheet ends, as (rows, columns), before any sheet is read."""

    by_name: dict = dataclasses.field(default_factory=dict)
    fallback: tuple = (0, 0)  # for a sheet not found by name: the largest of all

    def of(self, sheet_name):
        return self.by_name.get(sheet_name, self.fallback)


def check_workbook(data, name, limits):
    """Measure an xlsx or xls file without calamine; refuse it past `limits`. Returns Extents."""
    if data.startswith(_ZIP_MAGIC):
        return _check_xlsx(data, name, limits)
    try:
        stream = _ole_stream(data)
    except (ValueError, struct.error):
        raise TableReadError(_damaged_message(name)) from None
    # No workbook stream (an encrypted xlsx) or an encrypted one: calamine tells which.
    extent = (_biff_extent(stream) if stream is not None else None) or (0, 0)
    limits.check(*extent)  # calamine builds every sheet of an xls as it opens it
    return Extents(fallback=extent)


def _check_xlsx(data, name, limits):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise TableReadError(_damaged_message(name)) from None
    names = {info.filename for info in members}
    if "xl/workbook.xml" not in names:
        if names & {"xl/workbook.bin", "content.xml"}:
            raise TableReadError(_foreign_format_message())
        raise TableReadError(_damaged_message(name))
    if len(members) > _MAX_ZIP_MEMBERS or any(
        info.file_size > _RATIO_FLOOR and info.file_size > _MAX_COMPRESSION_RATIO * info.compress_size
        for info in members
    ):
        raise TableReadError(_bomb_message())
    if sum(info.file_size for info in members) > limits.bytes:
        raise TableReadError(_too_large_message(limits))
    try:
        return _measure_xlsx(archive, members, limits)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, OSError, EOFError, ValueError):
        # a bad CRC or a size the zip directory lied about, an unknown compression, an encrypted part
        raise TableReadError(_damaged_message(name)) from None


def _measure_xlsx(archive, members, limits):
    """Decompress every part once, counting the real bytes (the sizes the zip directory declares
    can lie) and measuring the extent of the worksheets."""
    sheets = _xlsx_sheet_parts(archive)
    # Every XML part is measured, so a sheet the relationships do not lead to is still covered
    # (by the largest extent); parts without cells cost a regex search that finds nothing.
    worksheets = {info.filename for info in members if info.filename.lower().endswith(".xml")}
    budget = [limits.bytes]
    extents = {}
    for info in members:
        if info.filename in worksheets:
            extents[info.filename] = _worksheet_extent(archive, info, budget, limits)
        else:
            for _block in _metered(archive, info, budget, limits):
                pass
    by_name = {sheet: extents[part] for sheet, part in sheets.items() if part in extents}
    largest = (
        max((e[0] for e in extents.values()), default=0),
        max((e[1] for e in extents.values()), default=0),
    )
    return Extents(by_name, largest)


def _metered(archive, info, budget, limits):
    with archive.open(info) as stream:
        while block := stream.read(_SCAN_CHUNK):
            budget[0] -= len(block)
            if budget[0] < 0:
                raise TableReadError(_too_large_message(limits))
            yield block


_XML_ATTR = r"""\s{}=["']([^"']*)["']"""


def _xlsx_sheet_parts(archive):
    """Sheet name -> zip part, from xl/workbook.xml and its relationships (as calamine finds them)."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for attrs in re.findall(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>", rels):
        rel_id = re.search(_XML_ATTR.format("Id").encode(), attrs)
        target = re.search(_XML_ATTR.format("Target").encode(), attrs)
        if rel_id and target:
            path = html.unescape(target[1].decode("utf-8", "replace"))
            path = path[1:] if path.startswith("/") else posixpath.normpath(posixpath.join("xl", path))
            targets[rel_id[1]] = path
    parts = {}
    for attrs in re.findall(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>", workbook):
        sheet_name = re.search(_XML_ATTR.format("name").encode(), attrs)
        rel_id = re.search(_XML_ATTR.format(r"[\w.-]+:id").encode(), attrs)
        if sheet_name and rel_id and rel_id[1] in targets:
            parts[html.unescape(sheet_name[1].decode("utf-8", "replace"))] = targets[rel_id[1]]
    return parts


@functools.cache
def _sheet_patterns(prefix):
    p = re.escape(prefix)
    # A cell with a value: <c r="AB12" ...>...</c>. Self-closing ones (<c r="Z9" s="1"/>, a
    # formatted blank) hold nothing and calamine leaves them out of the sheet's extent.
    value_cell = re.compile(rb"<" + p + rb"""c(?=[\s>])(?:[^>]*?\sr=["']([A-Za-z]*)(\d*)["'])?[^>]*(?<!/)>""")
    element = re.compile(rb"<" + p + rb"(row|c)(?=[\s/>])([^>]*)>")
    return value_cell, element


_CELL_REF = re.compile(rb"""\sr=["']([A-Za-z]*)(\d*)["']""")
_ROOT = re.compile(rb"<([\w.-]+:)?worksheet[\s>]")


def _worksheet_extent(archive, info, budget, limits):
    """(last row, last column) holding a value, read from the cells' references: the <dimension>
    element is not used (calamine ignores it, and Excel counts formatted blanks in it)."""
    last_row = last_column = 0
    without_reference, prefix, carry = False, None, b""
    for block in itertools.chain(_metered(archive, info, budget, limits), (b"",)):
        data = carry + block
        if prefix is None:
            root = _ROOT.search(data[:65536])
            prefix = root[1] if root and root[1] else b""
        cut = data.rfind(b"<") if block else len(data)
        if block and cut <= 0 and len(data) > _SCAN_CHUNK:
            raise ValueError("one tag of megabytes: not a worksheet")
        data, carry = data[: max(cut, 0)], data[max(cut, 0) :]
        found = _sheet_patterns(prefix)[0].findall(data)
        columns = set(map(operator.itemgetter(0), found))
        rows = set(map(operator.itemgetter(1), found))
        if b"" in columns or b"" in rows:
            without_reference = True
        elif found:
            last_row = max(last_row, *map(int, rows))
            last_column = max(last_column, *map(_column_number, columns))
    if without_reference:  # cells placed by their order, as some writers leave r out: count them
        return _counted_extent(archive, info, prefix or b"")
    return last_row, last_column


def _counted_extent(archive, info, prefix):
    """The extent of a sheet whose rows or cells lack a reference, placing each one as calamine
    does: after the previous one (the part was already measured, so it is read unmetered)."""
    element = _sheet_patterns(prefix)[1]
    last_row = last_column = row = column = 0
    carry = b""
    with archive.open(info) as stream:
        while True:
            block = stream.read(_SCAN_CHUNK)
            data = carry + block
            cut = data.rfind(b"<") if block else len(data)
            data, carry = data[: max(cut, 0)], data[max(cut, 0) :]
            for kind, attrs in element.findall(data):
                ref = _CELL_REF.search(attrs)
                if kind == b"row":
                    row, column = (int(ref[2]) if ref and ref[2] else row + 1), 0
                    continue
                column = _column_number(ref[1]) if ref and ref[1] else column + 1
                if not attrs.endswith(b"/"):
                    last_row = max(last_row, int(ref[2]) if ref and ref[2] else row)
                    last_column = max(last_column, column)
            if not block:
                return last_row, last_column


# Old Excel (xls): an OLE2 compound file holding the "Workbook" stream of BIFF records.
_OLE_END_OF_CHAIN = 0xFFFFFFFE


def _ole_stream(data, names=("Workbook", "Book")):
    """The bytes of the workbook stream of an OLE2 file, or None if it has none; ValueError or
    struct.error when the file is not a sound OLE2 file."""
    sector_shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if sector_shift not in (9, 12) or mini_shift != 6:
        raise ValueError("not an OLE2 sector size")
    size = 1 << sector_shift
    directory_start = struct.unpack_from("<I", data, 0x30)[0]
    mini_cutoff, minifat_start, _count, difat_start, _count = struct.unpack_from("<5I", data, 0x38)
    sectors = max(0, (len(data) - size) // size)

    def sector(number):
        if number >= sectors:
            raise ValueError("sector past the end of the file")
        return data[(number + 1) * size : (number + 2) * size]

    def chain(start, table, read):
        parts, number = [], start
        while number != _OLE_END_OF_CHAIN:
            if number >= len(table) or len(parts) > len(table):
                raise ValueError("broken sector chain")
            parts.append(read(number))
            number = table[number]
        return b"".join(parts)

    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    for _step in range(sectors):  # the DIFAT chain lists the FAT sectors past the first 109
        if difat_start >= sectors:
            break
        entries = struct.unpack(f"<{size // 4}I", sector(difat_start))
        fat_sectors += entries[:-1]
        difat_start = entries[-1]
    fat = []
    for number in fat_sectors:
        if number < sectors:
            fat += struct.unpack(f"<{size // 4}I", sector(number))
    directory = chain(directory_start, fat, sector)
    entries = [
        (
            directory[offset : offset + max(0, min(directory[offset + 0x40], 64) - 2)].decode(
                "utf-16-le", "replace"
            ),
            directory[offset + 0x42],
            *struct.unpack_from("<II", directory, offset + 0x74),
        )
        for offset in range(0, len(directory) - 127, 128)
    ]
    root = next((entry for entry in entries if entry[1] == 5), None)
    for wanted in names:
        for entry_name, kind, start, length in entries:
            if kind != 2 or entry_name != wanted:
                continue
            if length >= mini_cutoff or root is None:
                return chain(start, fat, sector)[:length]
            mini = chain(root[2], fat, sector)
            minifat_bytes = chain(minifat_start, fat, sector)
            minifat = struct.unpack(f"<{len(minifat_bytes) // 4}I", minifat_bytes)
            return chain(start, minifat, lambda n, mini=mini: mini[n * 64 : (n + 1) * 64])[:length]
    return None


# BIFF records that give a cell a value (blank ones, BLANK and MULBLANK, calamine leaves out).
_BIFF_VALUE_CELLS = {0x0006, 0x0203, 0x0204, 0x0205, 0x027E, 0x00D6, 0x00FD, 0x0206, 0x0406}
_BIFF_MULRK, _BIFF_FILEPASS = 0x00BD, 0x002F


def _biff_extent(stream):
    """(last row, last column) holding a value in any sheet of a BIFF stream, or None when the
    stream is encrypted (its records then say nothing)."""
    last_row = last_column = position = 0
    end = len(stream) - 4
    while position <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        if kind == _BIFF_FILEPASS:
            return None
        if length >= 4 and kind in _BIFF_VALUE_CELLS and body + 4 <= len(stream):
            row, column = struct.unpack_from("<HH", stream, body)
            last_row, last_column = max(last_row, row + 1), max(last_column, column + 1)
        elif kind == _BIFF_MULRK and length >= 6 and body + length <= len(stream):
            row = struct.unpack_from("<H", stream, body)[0]
            column = struct.unpack_from("<H", stream, body + length - 2)[0]
            last_row, last_column = max(last_row, row + 1), max(last_column, column + 1)
        position = body + length
    return last_row, last_column


# -- header ---------------------------------------------------------------------------------------


@dataclass
class Column:
    """A column a ledger expects."""

    field: str  # e.g. "doc_number"
    header: str  # canonical Chinese header, e.g. "证件号码"
    synonyms: tuple[str, ...] = ()  # e.g. ("身份证号", "公民身份号码")
    required: bool = False


@dataclass
class HeaderMatch:
    row_index: int  # index into the list returned by read_rows
    row_number: int  # sheet row number of the header
    mapping: dict[int, str]  # column index -> field
    unknown: list[str]  # header texts that matched nothing (listed to the user, ignored)
    missing: list[str]  # fields of required columns not found
    # Header texts that matched a field an earlier column already has (listed, ignored).
    duplicates: list[str] = dataclasses.field(default_factory=list)

    @property
    def columns_by_field(self):
        """field -> column index."""
        return {name: index for index, name in self.mapping.items()}

    def record(self, values):
        """field -> raw value of one row (None where the row is shorter than the header)."""
        return {name: values[index] if index < len(values) else None for index, name in self.mapping.items()}


_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>|《[^《》]*》")
_HEADER_MARKS = "*:：※"


def normalise_header(value):
    """The form in which headers and synonyms are compared.

    NFKC (full-width to half-width), no whitespace, case-folded, without bracketed notes such as
    "(手机)" or "（必填）" and without leading/trailing "*" and ":" marks.
    """
    text = "".join(cell_text(value).split()).casefold().strip(_HEADER_MARKS)
    without_notes = _BRACKETED.sub("", text).strip(_HEADER_MARKS)
    return without_notes or text


class _Matcher:
    def __init__(self, columns, mapping_override):
        fields = {column.field for column in columns}
        self.exact = {}
        for column in columns:
            for text in (column.header, *column.synonyms, column.field):
                self.exact.setdefault(normalise_header(text), column.field)
        self.exact.pop("", None)
        # Longest synonym first: "header contains synonym" picks the most specific one.
        self.contained = sorted(
            ((text, name) for text, name in self.exact.items() if len(text) >= 2),
            key=lambda item: -len(item[0]),
        )
        # By the header text as shown, else by its normalised form: "联系电话(手机)" and
        # "联系电话(座机)" normalise alike but can be mapped apart by hand.
        self.override = {}
        for header, name in (mapping_override or {}).items():
            if name and name not in fields:
                raise ValueError(f"mapping_override maps {header!r} to unknown field {name!r}")
            self.override[cell_text(header)] = name or None

    def match(self, values):
        texts = [cell_text(value) for value in values]
        keys = [normalise_header(text) for text in texts]
        mapping, taken, duplicates = {}, set(), []

        def assign(index, name):
            if name in taken:
                duplicates.append(texts[index])
            else:
                mapping[index] = name
                taken.add(name)

        pending = [i for i, key in enumerate(keys) if key]
        if self.override:
            chosen = {i: self.override[texts[i]] for i in pending if texts[i] in self.override}
            by_key = {}
            for text, name in self.override.items():
                if text not in texts:
                    by_key.setdefault(normalise_header(text), name)
            for i in pending:
                if i not in chosen and keys[i] in by_key:
                    chosen[i] = by_key[keys[i]]
            for i in sorted(chosen):
                if chosen[i]:
                    assign(i, chosen[i])
            pending = [i for i in pending if i not in chosen]
        rest = []
        for i in pending:
            name = self.exact.get(keys[i])
            if name:
                assign(i, name)
            else:
                rest.append(i)
        unknown = []
        for i in rest:
            name = next((name for text, name in self.contained if text in keys[i]), None)
            if name:
                assign(i, name)
            else:
                unknown.append(texts[i])
        return mapping, unknown, duplicates


def find_header(rows, columns, scan=20, mapping_override=None):
    """Find the header row among the first `scan` rows and map its columns to fields.

    The header row is the one matching the most distinct fields (at least 2, or 1 for a
    one-column ledger); the earliest wins a tie, so title rows above it are skipped. A header
    cell matches a column when, normalised (see normalise_header), it equals the column's header,
    one of its synonyms or its field name; failing that, when it contains one of them (the longest
    that it contains decides). Each field goes to the first column that claims it; later claims
    are listed in `duplicates`. mapping_override {header text: field} is applied first; a field of
    "" or None ignores that column.
    """
    matcher = _Matcher(columns, mapping_override)
    need = min(2, len(columns)) or 1
    best = None
    for index, (number, values) in enumerate(rows[:scan]):
        mapping, unknown, duplicates = matcher.match(values)
        if len(mapping) >= need and (best is None or len(mapping) > len(best[2])):
            best = (index, number, mapping, unknown, duplicates)
    if best is None:
        raise TableReadError(
            _(
                "The column headers could not be recognised: none of the first %(scan)d rows has at least "
                "two of the expected headers. Expected headers: %(headers)s."
            )
            % {"scan": scan, "headers": "、".join(column.header for column in columns)}
        )
    index, number, mapping, unknown, duplicates = best
    found = set(mapping.values())
    missing = [column.field for column in columns if column.required and column.field not in found]
    return HeaderMatch(index, number, mapping, unknown, missing, duplicates)


# -- cells ----------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def cell_text(value):
    """Normalised text of a cell.

    None -> ""; text: NFKC (full-width to half-width), invisible characters dropped, stripped,
    inner whitespace runs collapsed to one space; 12.0 -> "12"; dates -> ISO ("2022-03-31",
    "2022-03-31 14:30"); booleans -> "TRUE"/"FALSE" as Excel shows them.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).translate(_INVISIBLE)
        return " ".join(text.split())
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, datetime.datetime):
        if value.second or value.microsecond:
            return value.isoformat(sep=" ", timespec="seconds")
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="seconds" if value.second else "minutes")
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?E[+-]?\d+$")


def _lost_digits(shown):
    return CellError(
        _(
            "Excel stored this ID as a number and lost its last digits (the cell holds %(value)s). "
            "The digits cannot be recovered: format the column as Text, type the IDs in again and "
            "upload the file again."
        )
        % {"value": shown}
    )


def cell_identifier(value):
    """Text of an ID, document number or phone: like cell_text, without any whitespace, upper-case.

    Raises CellError when Excel has turned a long number into a number: an int or whole float of
    15 digits or more, or text in scientific notation such as "6.20102E+17". A leading apostrophe
    and the ="..." wrapping that some exports use to keep Excel off a number are removed.
    """
    if isinstance(value, bool):
        return cell_text(value)
    if isinstance(value, int):
        if len(str(abs(value))) >= 15:
            raise _lost_digits(str(value))
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        if abs(value) >= 1e14:
            raise _lost_digits(f"{value:.6G}")
        return str(int(value))
    text = "".join(cell_text(value).split()).upper()
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        text = text[2:-1]
    text = text.removeprefix("'")
    if _SCIENTIFIC.match(text) and ("." in text or "+" in text):
        raise _lost_digits(text)
    return text


_DATE_TEXT = re.compile(
    r"""^(?P<y>\d{4})
    (?:(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})
      |年(?P<m2>\d{1,2})月(?P<d2>\d{1,2})[日号]?
      |(?P<m3>\d{2})(?P<d3>\d{2}))
    (?:(?:T|\s*)(?P<H>\d{1,2})(?::|时|点)(?P<M>\d{1,2})
      (?::(?P<S>\d{1,2})(?P<f>\.\d+)?|分(?:(?P<S2>\d{1,2})秒)?)?
      (?P<tz>Z|[+-]\d{2}:?\d{2})?)?$""",
    re.VERBOSE,
)
_AROUND_MARKS = re.compile(r"\s*([年月日号时点分秒:/.-])\s*")

# Excel's 1900 date system: serial 1 is 1900-01-01, and serial 60 is the 29 February 1900 that
# never was (kept for Lotus 1-2-3 compatibility). Plausible serials run to 2100-12-31.
_SERIAL_MAX = 73416
_YYYYMMDD_MIN, _YYYYMMDD_MAX = 19000101, 21001231


def _not_a_date(value, with_time=False):
    shown = cell_text(value)
    if with_time:
        return CellError(
            _("“%(value)s” is not a date and time. Write it like 2022-03-31 14:30.") % {"value": shown}
        )
    return CellError(_("“%(value)s” is not a date. Write dates like 2022-03-31.") % {"value": shown})


def _not_a_real_date(value):
    return CellError(_("“%(value)s” is not a real date.") % {"value": cell_text(value)})


def _from_number(value, with_time):
    """A naive datetime from an Excel serial number or a yyyymmdd number."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _not_a_date(value, with_time)
    if (isinstance(value, int) or value.is_integer()) and _YYYYMMDD_MIN <= value <= _YYYYMMDD_MAX:
        number = int(value)
        try:
            return datetime.datetime(number // 10000, number // 100 % 100, number % 100)
        except ValueError:
            raise _not_a_real_date(value) from None
    if not 1 <= value < _SERIAL_MAX:
        raise _not_a_date(value, with_time)
    if 60 <= value < 61:
        raise _not_a_real_date(value)
    days = int(value)
    seconds = round((value - days) * 86400)
    base = datetime.datetime(1899, 12, 31) if value < 60 else datetime.datetime(1899, 12, 30)
    return base + datetime.timedelta(days=days, seconds=seconds)


def _from_text(text, value, with_time):
    """(naive or aware datetime, whether a time was given) from date text."""
    match = _DATE_TEXT.match(_AROUND_MARKS.sub(r"\1", text))
    if not match:
        raise _not_a_date(value, with_time)
    parts = match.groupdict()
    month = parts["m"] or parts["m2"] or parts["m3"]
    day = parts["d"] or parts["d2"] or parts["d3"]
    try:
        result = datetime.datetime(
            int(parts["y"]),
            int(month),
            int(day),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
            int(parts["S"] or parts["S2"] or 0),
            round(float(parts["f"]) * 1_000_000) if parts["f"] else 0,
        )
    except ValueError:
        raise _not_a_real_date(value) from None
    if parts["tz"]:
        zone = parts["tz"]
        if zone == "Z":
            result = result.replace(tzinfo=datetime.UTC)
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            result = result.replace(tzinfo=datetime.timezone(sign * offset))
    return result


def cell_date(value):
    """A date from a date cell, an Excel serial number, a yyyymmdd number or date text; "" -> None.

    Text: "2022-03-31", "2022/3/31", "2022.3.31", "2022年3月31日", "20220331", each optionally
    followed by a time (which is dropped). Day-first or month-first forms such as "3/31/2022" are
    refused rather than guessed. Anything else raises CellError.
    """
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        raise _not_a_date(value)
    if isinstance(value, int | float):
        return _from_number(value, False).date()
    if isinstance(value, Decimal):
        return _from_number(float(value), False).date()
    if not isinstance(value, str):
        raise _not_a_date(value)
    text = cell_text(value)
    if not text:
        return None
    return _from_text(text, value, False).date()


def cell_datetime(value):
    """Like cell_date, with the time kept: an aware datetime in settings.TIME_ZONE; "" -> None.

    Text: a date as cell_date takes it, optionally followed by "14:30", "14:30:05", "14时30分" and
    a UTC offset ("Z", "+08:00"); a date alone is midnight. Naive values are local time.
    """
    zone = timezone.get_default_timezone()
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        result = value
    elif isinstance(value, datetime.date):
        result = datetime.datetime.combine(value, datetime.time())
    elif isinstance(value, bool):
        raise _not_a_date(value, True)
    elif isinstance(value, int | float | Decimal):
        result = _from_number(float(value) if isinstance(value, Decimal) else value, True)
    elif isinstance(value, str):
        text = cell_text(value)
        if not text:
            return None
        result = _from_text(text, value, True)
    else:
        raise _not_a_date(value, True)
    if timezone.is_naive(result):
        return timezone.make_aware(result, zone)
    return result.astimezone(zone)


# -- writing --------------------------------------------------------------------------------------

_WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,  # "=..." in data stays text (no formula injection)
    "strings_to_urls": False,  # no hyperlinks (and no 65,530-link limit)
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
    "use_zip64": True,  # only used when a part passes 4 GB
}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _display_width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _column_width(text, minimum=8):
    return min(max(_display_width(text) + 2, minimum), 60)


def _sheet_names(base):
    base = _SHEET_NAME_FORBIDDEN.sub("_", base or "Sheet1").strip("'")[:EXCEL_MAX_SHEET_NAME] or "Sheet1"
    yield base
    number = 2
    while True:
        suffix = f" ({number})"
        yield base[: EXCEL_MAX_SHEET_NAME - len(suffix)] + suffix
        number += 1


class _SheetWriter:
    """Writes header + rows with flat memory, continuing on a new sheet past Excel's row limit."""

    def __init__(self, workbook, headers, sheet_name, text_columns, text_format_columns, widths):
        self.workbook = workbook
        self.headers = [cell_text(header) for header in headers]
        self.text_columns = frozenset(text_columns)
        self.text_format_columns = frozenset(text_format_columns) | self.text_columns
        self.widths = widths or {}
        self.names = _sheet_names(sheet_name)
        self.bold = workbook.add_format({"bold": True})
        self.text = workbook.add_format({"num_format": "@"})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.time = workbook.add_format({"num_format": "hh:mm"})
        self.zone = timezone.get_default_timezone()

    def new_sheet(self):
        sheet = self.workbook.add_worksheet(next(self.names))
        for index, header in enumerate(self.headers):
            minimum = 20 if index in self.text_columns else 8
            width = self.widths.get(index) or _column_width(header, minimum)
            fmt = self.text if index in self.text_format_columns else None
            sheet.set_column(index, index, width, fmt)
        sheet.freeze_panes(1, 0)
        for index, header in enumerate(self.headers):
            sheet.write_string(0, index, header, self.bold)
        return sheet

    def write(self, rows):
        limit = EXCEL_MAX_ROWS - 1
        sheet, row, count, width = self.new_sheet(), 0, 0, len(self.headers)
        text_columns = self.text_columns
        text_formatted = self.text_format_columns - text_columns
        text, write_cell = self.text, self.write_cell
        for values in rows:
            if row == limit:
                sheet.autofilter(0, 0, row, max(width - 1, 0))
                sheet, row = self.new_sheet(), 0
            row += 1
            count += 1
            width = max(width, len(values))
            for col, value in enumerate(values):
                if value is None:
                    continue
                if col in text_columns:
                    sheet.write_string(row, col, value if isinstance(value, str) else cell_text(value), text)
                elif col in text_formatted:  # the value keeps its type; what is typed there later is text
                    write_cell(sheet, row, col, value, text)
                else:
                    write_cell(sheet, row, col, value)
        if width:
            sheet.autofilter(0, 0, row, width - 1)
        return count

    def write_cell(self, sheet, row, col, value, fmt=None):
        if isinstance(value, str):
            if value:
                sheet.write_string(row, col, value, fmt)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value, fmt)
        elif isinstance(value, int):
            if -(10**15) < value < 10**15:
                sheet.write_number(row, col, value, fmt)
            else:  # a number Excel would round: keep every digit as text
                sheet.write_string(row, col, str(value), fmt)
        elif isinstance(value, float):
            sheet.write_number(row, col, value, fmt)
        elif isinstance(value, Decimal):
            sheet.write_number(row, col, float(value), fmt)
        elif isinstance(value, datetime.datetime):
            if timezone.is_aware(value):
                value = timezone.make_naive(value, self.zone)
            sheet.write_datetime(row, col, value, self.datetime)
        elif isinstance(value, datetime.date):
            sheet.write_datetime(row, col, value, self.date)
        elif isinstance(value, datetime.time):
            sheet.write_datetime(row, col, value.replace(tzinfo=None), self.time)
        else:
            sheet.write_string(row, col, str(value), fmt)


def write_xlsx(
    fileobj_or_path,
    headers,
    rows: Iterable[list],
    sheet_name="Sheet1",
    text_columns=frozenset(),
    column_widths=None,
):
    """Stream headers + rows into an xlsx file with flat memory; return the number of data rows.

    Values keep their type (str, int, float, bool, Decimal, date, datetime, time; None is blank);
    columns in text_columns are written as text whatever the value (IDs and phones never become
    numbers) and formatted as Text so that what the office types there stays text. Ints of 15
    digits or more are written as text too, since Excel would round them. Aware datetimes are
    written in local time. The header row is bold, frozen and filtered; widths come from the headers
    (text columns at least 20) unless column_widths {index: width} says otherwise. Past Excel's
    limit of 1,048,575 data rows the export continues on a new sheet with the same header.
    """
    workbook = xlsxwriter.Workbook(fileobj_or_path, {"constant_memory": True, **_WORKBOOK_OPTIONS})
    try:
        return _SheetWriter(workbook, headers, sheet_name, text_columns, (), column_widths).write(rows)
    finally:
        workbook.close()


def error_report_xlsx(fileobj, original_header, rejected):
    """The office's error report: 原行号, the original columns, 错误原因.

    rejected: (sheet row number, original values as read_rows gave them, reasons). The values are
    written back as they were (text stays text, numbers stay numbers) in columns formatted as Text,
    so the office can correct the rows, retype mangled IDs as text and upload this file again. The
    原行号 and 错误原因 columns of a report being reported on again are replaced, not repeated.
    """
    original = [cell_text(header) for header in original_header]
    drop = {i for i, header in enumerate(original) if header in (ROW_NUMBER_COLUMN, ERROR_COLUMN)}
    rejected = list(rejected)
    width = max([len(original), *(len(values) for _number, values, _reasons in rejected)])
    kept = [i for i in range(width) if i not in drop]
    headers = [ROW_NUMBER_COLUMN, *(original[i] if i < len(original) else "" for i in kept), ERROR_COLUMN]

    def lines():
        for number, values, reasons in rejected:
            yield [
                number,
                *(values[i] if i < len(values) else None for i in kept),
                REASON_SEPARATOR.join(str(reason) for reason in reasons),
            ]

    last = len(headers) - 1
    workbook = xlsxwriter.Workbook(fileobj, {"constant_memory": True, **_WORKBOOK_OPTIONS})
    try:
        writer = _SheetWriter(
            workbook,
            headers,
            "错误行",
            text_columns=(),
            text_format_columns=range(1, last),
            widths={0: 8, last: 60},
        )
        writer.write(lines())
    finally:
        workbook.close()


def template_xlsx(fileobj, columns, example):
    """A blank template: canonical headers (required ones marked "*" and red, with a note listing
    the other accepted headers), one grey example row, every column formatted as Text."""
    workbook = xlsxwriter.Workbook(fileobj, _WORKBOOK_OPTIONS)
    try:
        sheet = workbook.add_worksheet(_("Template")[:EXCEL_MAX_SHEET_NAME])
        bold = workbook.add_format({"bold": True, "num_format": "@"})
        required = workbook.add_format({"bold": True, "font_color": "#C00000", "num_format": "@"})
        text = workbook.add_format({"num_format": "@"})
        sample = workbook.add_format({"num_format": "@", "italic": True, "font_color": "#808080"})
        for index, column in enumerate(columns):
            header = f"*{column.header}" if column.required else column.header
            shown = example[index] if index < len(example) else ""
            width = max(
                _column_width(header),
                _column_width(cell_text(shown)),
                20 if len(cell_text(shown)) > 14 else 0,
            )
            sheet.set_column(index, index, width, text)
            sheet.write_string(0, index, header, required if column.required else bold)
            notes = [_("Required.") if column.required else _("Optional.")]
            others = [s for s in column.synonyms if normalise_header(s) != normalise_header(column.header)]
            if others:
                notes.append(_("Also accepted as header: %(names)s") % {"names": "、".join(others)})
            sheet.write_comment(0, index, "\n".join(notes), {"x_scale": 1.5})
            if shown not in (None, ""):
                sheet.write_string(1, index, cell_text(shown), sample)
        sheet.freeze_panes(1, 0)
    finally:
        workbook.close()


# -- the bulk export writer ------------------------------------------------------------------------
# XlsxWriter costs about 10 µs a cell: 140 s for a million 14-column rows, past the one-minute goal
# of a city-wide export. Exports need only values, a bold frozen header and dates, so this writer
# streams the sheet XML straight into the zip (about 1 µs a cell, flat memory).
# See docs/decisions/0009-bulk-export-writer.md.

_XML_ESCAPE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        **{c: None for c in range(32) if c not in (9, 10, 13)},
    }
)
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_STYLE_BOLD, _STYLE_DATE, _STYLE_DATETIME = 1, 2, 3
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_STYLES = (
    f'{_XML_HEAD}<styleSheet {_NS}><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _column_letters(count):
    letters = []
    for index in range(count):
        name, n = "", index + 1
        while n:
            n, rest = divmod(n - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _stream_cell(ref, value, as_text, zone):
    if value is None or value == "":
        return ""
    if not as_text and not isinstance(value, bool):
        if isinstance(value, int | float | Decimal) and abs(value) < 10**15:
            return f'<c r="{ref}"><v>{value}</v></c>'
        if isinstance(value, datetime.datetime):
            if timezone.is_aware(value):
                value = timezone.make_naive(value, zone)
            serial = (value - datetime.datetime(1899, 12, 30)).total_seconds() / 86400
            return f'<c r="{ref}" s="{_STYLE_DATETIME}"><v>{serial!r}</v></c>'
        if isinstance(value, datetime.date):
            return f'<c r="{ref}" s="{_STYLE_DATE}"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
    text = value if isinstance(value, str) else cell_text(value)
    return (
        f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text.translate(_XML_ESCAPE)}</t></is></c>'
    )


def stream_xlsx(path, headers, rows, sheet_name="Sheet1", text_columns=frozenset(), chunk=2000):
    """Write headers + rows to an xlsx at `path` with flat memory; return the number of data rows.

    Numbers, dates and datetimes keep their type (except in text_columns, always text); the header
    is bold and frozen; past Excel's row limit the rows continue on a new sheet."""
    import zipfile

    headers = [cell_text(h) for h in headers]
    letters = _column_letters(max(len(headers), 1))
    zone = timezone.get_default_timezone()
    names, sheets, count = _sheet_names(sheet_name), [], 0
    rows = iter(rows)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        while True:
            sheets.append(next(names))
            written, more = _stream_sheet(
                archive, len(sheets), headers, letters, rows, text_columns, zone, chunk
            )
            count += written
            if not more:
                break
        _stream_workbook_parts(archive, sheets, headers)
    return count


def _stream_sheet(archive, number, headers, letters, rows, text_columns, zone, chunk):
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{_column_width(h, 20 if i in text_columns else 8)}" customWidth="1"/>'
        for i, h in enumerate(headers)
    )
    head = "".join(
        f'<c r="{letters[i]}1" s="{_STYLE_BOLD}" t="inlineStr"><is><t>{h.translate(_XML_ESCAPE)}</t></is></c>'
        for i, h in enumerate(headers)
    )
    written, more = 0, False
    with archive.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as out:
        out.write(
            (
                f'{_XML_HEAD}<worksheet {_NS} {_NS_R}><sheetViews><sheetView workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                f'<cols>{cols}</cols><sheetData><row r="1">{head}</row>'
            ).encode()
        )
        buffer = []
        for values in rows:
            r = written + 2
            if len(values) > len(letters):
                letters.extend(_column_letters(len(values))[len(letters) :])
            cells = "".join(
                _stream_cell(f"{letters[i]}{r}", v, i in text_columns, zone) for i, v in enumerate(values)
            )
            buffer.append(f'<row r="{r}">{cells}</row>')
            written += 1
            if len(buffer) >= chunk:
                out.write("".join(buffer).encode())
                buffer.clear()
            if r == EXCEL_MAX_ROWS:
                more = True
                break
        out.write("".join(buffer).encode())
        out.write(b"</sheetData></worksheet>")
    return written, more


def _stream_workbook_parts(archive, sheets, headers):
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    archive.writestr(
        "[Content_Types].xml",
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>",
    )
    archive.writestr(
        "_rels/.rels",
        f'{_XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
    )
    sheet_list = "".join(
        f'<sheet name="{name.translate(_XML_ESCAPE)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(sheets, start=1)
    )
    archive.writestr(
        "xl/workbook.xml", f"{_XML_HEAD}<workbook {_NS} {_NS_R}><sheets>{sheet_list}</sheets></workbook>"
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    styles_id = len(sheets) + 1
    archive.writestr(
        "xl/_rels/workbook.xml.rels",
        f'{_XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
        f'<Relationship Id="rId{styles_id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>',
    )
    archive.writestr("xl/styles.xml", _STYLES)
