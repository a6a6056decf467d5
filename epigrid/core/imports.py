"""The one import pipeline (style habit 7).

A ledger declares a `Resource`: its columns (with header synonyms), how to clean one row, its
natural key, and how to plan and write a batch. The pipeline reads the file
(`core.tabular`), finds the header, cleans every row, plans create/update/unchanged, and —
unless it is a dry run — writes all valid rows in one transaction. Invalid rows are never
written; they are reported row by row and in an error workbook the office can fix and upload
again (docs/decisions/0007-import-commit-policy.md).
"""

import contextlib
import gc
import io
import operator
from dataclasses import dataclass, field

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from epigrid.core import tabular
from epigrid.core.prepared import insert_rows
from epigrid.core.tabular import CellError, TableReadError

PROGRESS_EVERY = 1000
MAX_REPORTED_ERRORS = 200
PREVIEW_ROWS = 50  # rows of the file shown with what happens to each (masked)


class RowInvalid(Exception):
    """Raised by Resource.clean_row with a list of (column header, message)."""

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


class MappingNeeded(TableReadError):
    """The header row was found but required columns are missing: the user maps them by hand."""

    def __init__(self, message, headers, missing):
        super().__init__(message)
        self.headers = headers
        self.missing = missing


class RowCheck:
    """Cleans one row cell by cell and collects every problem under its column's header, so a
    row reports all its mistakes at once: `check(field, fn)` stores fn(raw[field]) in `data`
    or notes the CellError/ValidationError; `finish()` raises RowInvalid if anything failed."""

    def __init__(self, resource, raw):
        self.resource, self.raw, self.data, self.problems = resource, raw, {}, []

    def __call__(self, field, fn):
        from django.core.exceptions import ValidationError

        try:
            self.data[field] = fn(self.raw.get(field))
        except (ValidationError, CellError) as exc:
            message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
            self.problem(field, message)

    def problem(self, field, message):
        self.problems.append((self.resource.header_of(field), message))

    def finish(self):
        if self.problems:
            raise RowInvalid(self.problems)
        return self.data


@dataclass
class Outcome:
    row: int
    action: str  # create, update, unchanged
    key: object
    data: dict
    target: object = None  # the existing object for update/unchanged
    notes: list = field(default_factory=list)  # shown in the preview ("new building 5号楼")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list = field(default_factory=list)  # {row, column, message}
    unknown_columns: list = field(default_factory=list)
    header_row: int = 0
    header: list = field(default_factory=list)
    rejected_rows: list = field(default_factory=list)  # (row, original values, [reasons])
    warnings: list = field(default_factory=list)  # {row, column, message}: reported, never rejected
    dry_run: bool = True
    counts: list = field(default_factory=list)  # [label, n] a ledger adds (new buildings, ...)
    row_columns: list = field(default_factory=list)  # headers of `rows`' cells
    # The first PREVIEW_ROWS rows: {row, action, label, cells: [[header, value]], notes}, masked.
    rows: list = field(default_factory=list)

    def as_dict(self):
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
            "unknown_columns": self.unknown_columns,
            "header_row": self.header_row,
            "warnings": self.warnings,
            "dry_run": self.dry_run,
            "row_columns": self.row_columns,
            "rows": self.rows,
        }

    def reject(self, row, values, problems):
        self.rejected += 1
        self.rejected_rows.append((row, values, [message for _column, message in problems]))
        for column, message in problems:
            self.errors.append({"row": row, "column": column, "message": message})


class Resource:
    """Base class of a ledger's import declaration. Subclasses set `columns` and implement
    clean_row, key, plan_rows and write."""

    columns: list = []
    title = ""
    # The preview's table: a header per cell of preview_cells. Masked for everyone: the job's
    # result is stored (decision 0015).
    preview_columns: list = []

    def __init__(self, user, area, **params):
        self.user = user
        self.area = area
        self.params = params

    def header_of(self, field_name):
        return next((c.header for c in self.columns if c.field == field_name), field_name)

    def clean_row(self, raw):
        raise NotImplementedError

    def key(self, cleaned):
        raise NotImplementedError

    def plan_rows(self, cleaned_rows):
        """[(row, cleaned)] -> ([Outcome], [(row, problems)]): decide create/update/unchanged
        against the database, with bulk look-ups."""
        raise NotImplementedError

    def write(self, outcomes):
        raise NotImplementedError

    def preview_cells(self, raw, cleaned):
        """The cells of one preview row: `cleaned` is None for a row rejected while cleaning.
        Never a full document or phone number."""
        return []

    def extra_counts(self):
        """[label, n] pairs for the summary, known after plan_rows (new buildings, ...)."""
        return []


def _raw_values(values, mapping):
    return {name: values[index] if index < len(values) else None for index, name in mapping.items()}


@contextlib.contextmanager
def _without_cyclic_gc():
    """Python's cycle collector rescans every live object as a ledger's hundreds of thousands of
    cells, rows and model objects pile up: about a fifth of a 100,000-row import. Nothing an
    import makes needs it (no reference cycles worth waiting for), so it waits until the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_import(resource, fileobj, filename="", dry_run=True, progress=None, mapping_override=None):
    """Read, validate, plan and (unless dry_run) write. Raises TableReadError when the file
    cannot be read at all; every other problem is a row error in the result."""
    with _without_cyclic_gc():
        return _run_import(resource, fileobj, filename, dry_run, progress, mapping_override)


def locate_header(resource, rows, mapping_override=None):
    """The header among the first rows of `rows` ([(row number, values)]) and its values; raises
    MappingNeeded (headers nobody anticipated, or required columns missing) for the user to map."""
    try:
        header = tabular.find_header(rows, resource.columns, mapping_override=mapping_override)
    except TableReadError as exc:
        # Headers nobody anticipated: offer the first row that looks like a header for mapping.
        guess = next(
            (values for _number, values in rows[:20] if sum(1 for v in values if tabular.cell_text(v)) >= 2),
            None,
        )
        if guess is None:
            raise
        raise MappingNeeded(
            str(exc), [tabular.cell_text(v) for v in guess], [c.field for c in resource.columns if c.required]
        ) from None
    header_values = rows[header.row_index][1]
    if header.missing:
        names = "、".join(resource.header_of(f) for f in header.missing)
        raise MappingNeeded(
            _("Required columns are missing: %(names)s. Map them to the file's columns.") % {"names": names},
            [tabular.cell_text(v) for v in header_values],
            header.missing,
        )
    return header, header_values


def _run_import(resource, fileobj, filename, dry_run, progress, mapping_override):
    # A ledger that can take a whole file set-based (results.filelane) answers here, or returns
    # None to go the row-by-row way below (another database, a file it cannot take whole).
    bulk = getattr(resource, "bulk_import", None)
    if bulk is not None:
        result = bulk(
            fileobj, filename, dry_run=dry_run, progress=progress, mapping_override=mapping_override
        )
        if result is not None:
            return result
    rows = tabular.read_rows(fileobj, filename)
    header, header_values = locate_header(resource, rows, mapping_override)
    result = ImportResult(
        unknown_columns=header.unknown,
        header_row=header.row_number,
        header=list(header_values),
        dry_run=dry_run,
    )
    data_rows = rows[header.row_index + 1 :]
    total = len(data_rows)
    preview = _Preview(resource, data_rows[:PREVIEW_ROWS], header.mapping)
    if progress:
        progress(0, total, _("Checking %(total)d rows") % {"total": total})
    cleaned_rows, originals, seen = [], {}, {}
    for index, (row_number, values) in enumerate(data_rows, start=1):
        originals[row_number] = values
        try:
            cleaned = resource.clean_row(_raw_values(values, header.mapping))
        except RowInvalid as exc:
            result.reject(row_number, values, exc.problems)
            preview.note(row_number, "rejected", None, [message for _column, message in exc.problems])
        else:
            key = resource.key(cleaned)
            if key in seen:
                first_row, first = seen[key]
                if first != cleaned:
                    problem = _("Same document as row %(row)d but different details; keep one of them.") % {
                        "row": first_row
                    }
                    result.reject(row_number, values, [(resource.header_of("doc_number"), problem)])
                    preview.note(row_number, "rejected", cleaned, [problem])
                else:
                    result.unchanged += 1  # an exact repeat of an earlier row: one person
                    preview.note(
                        row_number, "unchanged", cleaned, [_("Same as row %(row)d") % {"row": first_row}]
                    )
            else:
                seen[key] = (row_number, cleaned)
                cleaned_rows.append((row_number, cleaned))
        if progress and index % PROGRESS_EVERY == 0:
            progress(index, total, _("Checked %(n)d of %(total)d rows") % {"n": index, "total": total})
    outcomes, problems = resource.plan_rows(cleaned_rows)
    # A ledger may note things worth telling that do not reject a row (e.g. a measure column
    # that disagrees with the protocol's plan).
    result.warnings = sorted(getattr(resource, "warnings", []), key=lambda w: w["row"])
    cleaned_of = dict(cleaned_rows) if preview.wanted else {}
    for row_number, row_problems in problems:
        result.reject(row_number, originals[row_number], row_problems)
        preview.note(row_number, "rejected", cleaned_of.get(row_number), [m for _c, m in row_problems])
    for outcome in outcomes:
        setattr(result, _COUNTER[outcome.action], getattr(result, _COUNTER[outcome.action]) + 1)
        preview.note(outcome.row, outcome.action, cleaned_of.get(outcome.row), outcome.notes)
    result.counts = resource.extra_counts()
    result.row_columns, result.rows = list(resource.preview_columns), preview.rows()
    if not dry_run:
        if progress:
            progress(total, total, _("Writing %(n)d rows") % {"n": len(outcomes)})
        with transaction.atomic():
            resource.write([o for o in outcomes if o.action != "unchanged"])
    result.errors.sort(key=lambda e: e["row"])
    result.rejected_rows.sort(key=lambda r: r[0])
    return result


class _Preview:
    """The first rows of the file with what happens to each, in the file's order. Only these
    rows' raw values are kept; their cells come from the ledger's preview_cells (masked)."""

    def __init__(self, resource, data_rows, mapping):
        self.resource = resource
        self.raw = {number: _raw_values(values, mapping) for number, values in data_rows}
        self.wanted = set(self.raw)
        self.fate = {}

    def note(self, row, action, cleaned, notes):
        if row in self.wanted:
            self.fate[row] = (action, cleaned, [str(n) for n in notes])

    def rows(self):
        labels, headers = _action_labels(), list(self.resource.preview_columns)
        rows = []
        for number, raw in self.raw.items():
            action, cleaned, notes = self.fate.get(number, ("rejected", None, []))
            cells = self.resource.preview_cells(raw, cleaned)
            rows.append(
                {
                    "row": number,
                    "action": action,
                    "label": labels[action],
                    # [header, value]: the page labels each cell (cards on a phone).
                    "cells": [[h, "" if c is None else str(c)] for h, c in zip(headers, cells, strict=True)],
                    "notes": notes,
                }
            )
        return rows


def _action_labels():
    return {
        "create": pgettext("import row", "New"),
        "update": pgettext("import row", "Update"),
        "unchanged": pgettext("import row", "Unchanged"),
        "rejected": pgettext("import row", "Rejected"),
    }


_COUNTER = {"create": "created", "update": "updated", "unchanged": "unchanged"}

# Field types whose Python values COPY takes as they are; others go through get_db_prep_save.
_PLAIN_FIELDS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallAutoField",
    "SmallIntegerField",
    "TextField",
}


COPY_FROM = 50


def bulk_insert(model, objs, batch_size=2000):
    """Insert new objects like bulk_create (no signals, no save()) and set their primary keys.

    On PostgreSQL, from COPY_FROM rows, they go in with COPY, their keys drawn from the table's sequence first:
    for the tens of thousands of rows of a ledger (and their audit rows) that is several times
    faster than bulk_create's INSERT, most of whose cost is preparing parameters in Python.
    Elsewhere (SQLite) it is bulk_create. auto_now / auto_now_add fields get the current time.
    A model with `fill_derived_on_insert` has its `fill_derived_fields()` called first, as its
    save() would.
    """
    objs = list(objs)
    if not objs:
        return objs
    if getattr(model, "fill_derived_on_insert", False):
        for obj in objs:  # what save() would fill (e.g. a building's name key)
            obj.fill_derived_fields()
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    if connection.vendor != "postgresql" or not meta.pk.get_internal_type().endswith("AutoField"):
        return model.objects.bulk_create(objs, batch_size=batch_size)
    # A few rows (a gate's batch and its change log): one INSERT … RETURNING beats drawing keys
    # and opening a COPY, and its statement is kept (core.prepared.insert_rows).
    if len(objs) < COPY_FROM:
        keyed = {getattr(obj, meta.pk.attname) is not None for obj in objs}
        if len(keyed) == 1:
            return insert_rows(model, objs, using=connection.alias)
        return model.objects.bulk_create(objs, batch_size=batch_size)
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not getattr(f, "generated", False)]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    # Objects whose keys the caller reserved (the demo builder links rows before writing them)
    # keep them; the others draw theirs from the table's sequence.
    keyless = [obj for obj in objs if getattr(obj, meta.pk.attname) is None]
    with connection.cursor() as cursor:
        if keyless:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [qn(meta.db_table), meta.pk.column, len(keyless)],
            )
            for obj, (pk,) in zip(keyless, cursor.fetchall(), strict=True):
                setattr(obj, meta.pk.attname, pk)
        plain = operator.attrgetter(*[f.attname for f in fields])
        # JSON, UUID, decimals, ...: as the database adapter wants them.
        prepared = {i: f for i, f in enumerate(fields) if f.get_internal_type() not in _PLAIN_FIELDS}
        columns = ", ".join(qn(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                row = plain(obj)
                if prepared:
                    row = list(row)
                    for i, f in prepared.items():
                        row[i] = f.get_db_prep_save(row[i], connection)
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def error_report(result):
    """The rejected rows as an xlsx (bytes), original values plus the reasons."""
    buffer = io.BytesIO()
    tabular.error_report_xlsx(buffer, [tabular.cell_text(v) for v in result.header], result.rejected_rows)
    return buffer.getvalue()


def summary_rows(result):
    """Label/value pairs for the job page."""
    return [
        [_("Would create") if result.dry_run else _("Created"), result.created],
        [_("Would update") if result.dry_run else _("Updated"), result.updated],
        [_("Unchanged"), result.unchanged],
        [_("Rejected"), result.rejected],
        [_("Header row"), result.header_row],
        [_("Ignored columns"), "、".join(result.unknown_columns) or "—"],
        *result.counts,
    ]
