"""A LIS file of a million results, set-based on PostgreSQL (decision 0022 addendum 2).

The row-by-row pipeline (core.imports) spends ~35 µs a row in Python: reading, cleaning, planning,
formatting for COPY. A lab's export is a million rows of a handful of distinct values, so here:

1. the file goes to the server as it is: a CSV's text straight into `COPY … (FORMAT csv)` (the
   header found by the shared `core.imports.locate_header` on its first records), a workbook's
   rows (python-calamine, as `core.tabular.read_rows` reads them) through COPY's row writer, into
   a staging table with each row's sheet row number;
2. every column is cleaned per *distinct* value by the very parsers the batch API uses
   (`services.parse_result`, `parse_ct`, `parse_time`, `parse_reason`; barcodes that are plain
   letters and digits are upper-cased in SQL, any other goes through `services.parse_barcode`),
   the outcomes joined back as mapping tables;
3. one classification query decides every row as `services.plan_results` would (repeats in the
   file, unknown tube, not delivered to this lab, outside the user's area, dated before sampling,
   new / same / pending → final / contradiction); only rows that are not plain creations or
   repeats come back to Python, where `plan_results` / `apply_plan` handle them as for any batch
   (updates and corrections under row locks, audited);
4. new results are one INSERT … SELECT from the staging table, ON CONFLICT (tube) DO NOTHING;
   rows another writer stored meanwhile are decided again through the row path.

A file COPY cannot take whole (ragged rows, blank lines in the data) falls back to the row-by-row
pipeline, as does every other database. The outcome is the pipeline's ImportResult, counted,
reported and previewed the same way: tests run the import cases through both.
"""

import csv
import datetime
import io
import itertools
import uuid

import psycopg
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from epigrid.core import tabular
from epigrid.core.imports import PREVIEW_ROWS, ImportResult, _action_labels, locate_header
from epigrid.core.tabular import CellError
from epigrid.results import services
from epigrid.results.models import FLAGGED, Result, TubeResult
from epigrid.results.signals import ResultChange, results_changed, results_recorded
from epigrid.transport.services import delivered_entries

FIELDS = services.FIELDS  # barcode, result, ct_orf1ab, ct_n, tested_at, reported_at, reason
HEAD_RECORDS = 30  # CSV records read in Python to find the header (find_header scans 20)
_PARSERS = {
    "result": services.parse_result,
    "ct_orf1ab": services.parse_ct,
    "ct_n": services.parse_ct,
    "reason": services.parse_reason,
}
_TYPES = {
    "result": "varchar(16)",
    "ct_orf1ab": "numeric(5, 2)",
    "ct_n": "numeric(5, 2)",
    "tested_at": "timestamptz",
    "reported_at": "timestamptz",
    "reason": "text",
}
# Problems in the order clean_row lists them.
_ORDER = ("barcode", "result", "ct_orf1ab", "ct_n", "reason", "tested_at", "reported_at")


class _NotWhole(Exception):
    """The file cannot go through COPY whole: the row path takes it."""


def applies(resource):
    # Tests patch this to run a file through the row path for comparison.
    return connection.vendor == "postgresql"


def bulk_import(resource, fileobj, filename, dry_run, progress, mapping_override):
    """The ImportResult of a lab-results file taken set-based, or None for the row path."""
    if not applies(resource):
        return None
    csv_text = tabular.read_csv_text(fileobj, filename)
    try:
        with transaction.atomic():
            if csv_text is not None:
                staged = _stage_csv(resource, *csv_text, mapping_override)
            else:
                staged = _stage_rows(resource, tabular.read_rows(fileobj, filename), mapping_override)
            if staged is None:
                return None
            return _Lane(resource, staged, dry_run, progress).run()
    except _NotWhole:
        return None
    finally:
        _drop_tables()


_TABLES = (
    "results_raw",
    "results_code_fix",
    "results_clean",
    "results_plan",
    *(f"results_map_{name}" for name in (*_PARSERS, "tested_at", "reported_at")),
)


def _drop_tables():
    """The lane's temporary tables go at its end (ON COMMIT DROP is too late inside a caller's
    transaction, e.g. two imports in one)."""
    if connection.in_atomic_block or not connection.get_autocommit():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(_TABLES)}")


# -- 1. staging -----------------------------------------------------------------------------------


class _Staged:
    def __init__(self, header, header_values, total, columns):
        self.header, self.header_values, self.total, self.columns = header, header_values, total, columns


def _create_raw(columns, first=1):
    """The staging table: n (the sheet row number: numbered by COPY in file order from `first`
    unless given) and one text column per file column, named by its field when mapped (c<i>
    otherwise); every field the file lacks is there too, empty."""
    cols = ", ".join(f"{name} text" for name in columns)
    missing = "".join(f", {name} text" for name in FIELDS if name not in columns)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS results_raw")
        cursor.execute(
            f"CREATE TEMP TABLE results_raw (n bigint GENERATED BY DEFAULT AS IDENTITY (START WITH {int(first)}), "
            f"{cols}{missing}) ON COMMIT DROP"
        )


def _column_names(header, width):
    return [header.mapping.get(index, f"c{index}") for index in range(width)]


def _stage_csv(resource, text, delimiter, mapping_override):
    head_reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    head = []
    try:
        for number, values in enumerate(itertools.islice(head_reader, HEAD_RECORDS), 1):
            cleaned = tabular.clean_values(values)
            if cleaned:
                head.append((number, cleaned))
    except csv.Error:
        return None
    if not head:
        return None
    header, header_values = locate_header(resource, head, mapping_override)
    # The data starts on the physical line after the header record (a header may hold a quoted
    # line break: the reader counts physical lines).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for _record in range(header.row_number):
        next(reader)
    offset = _line_offset(text, reader.line_num)
    data = text[offset:].rstrip("\r\n")
    if not data:
        return None
    width = len(header_values)
    columns = _column_names(header, width)
    _create_raw(columns, first=header.row_number + 1)
    with connection.cursor() as cursor:
        # A tab (Excel's "Unicode text") needs an escape string: '\t' is two characters to SQL.
        quoted = "E'\\t'" if delimiter == "\t" else "'" + delimiter.replace("'", "''") + "'"
        try:
            with transaction.atomic(), cursor.cursor.copy(
                f"COPY results_raw ({', '.join(columns)}) FROM STDIN (FORMAT csv, DELIMITER {quoted})"
            ) as copy:
                for start in range(0, len(data), 1 << 20):
                    copy.write(data[start : start + (1 << 20)])
        except (DatabaseError, psycopg.Error):
            # Ragged rows, a blank line, a stray quote: the row path reads what COPY cannot.
            raise _NotWhole() from None
        cursor.execute("SELECT count(*) FROM results_raw")
        (total,) = cursor.fetchone()
    limits = tabular.Limits.from_settings()
    if total > limits.rows:
        raise tabular.TableReadError(tabular._too_large_message(limits))
    return _Staged(header, header_values, total, columns)


def _line_offset(text, lines):
    """The offset in `text` just after its first `lines` physical lines."""
    offset = 0
    for _line in range(lines):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset


def _cell(value):
    """A workbook cell as text for the staging table, precise (a datetime keeps its seconds)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _stage_rows(resource, rows, mapping_override):
    header, header_values = locate_header(resource, rows, mapping_override)
    data = rows[header.row_index + 1 :]
    width = max(len(header_values), max((len(values) for _n, values in data), default=0))
    columns = _column_names(header, width)
    _create_raw(columns)
    pad = [None] * width
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY results_raw (n, {', '.join(columns)}) FROM STDIN"
    ) as copy:
        for number, values in data:
            copy.write_row([number, *map(_cell, values), *pad[len(values) :]])
    return _Staged(header, header_values, len(data), columns)


# -- 2.–4. cleaning, planning, writing -------------------------------------------------------------


class _Lane:
    def __init__(self, resource, staged, dry_run, progress):
        self.resource, self.staged, self.dry_run, self.progress = resource, staged, dry_run, progress
        self.lab, self.user, self.now = resource.lab, resource.user, resource.now
        self.header_of = resource.header_of
        self.errors = {}  # row -> [(column header, message)]
        self.fates = {}  # row -> (preview action, notes) of the rows the Python plan decided
        self.planned = set()  # rows refused by the plan (not by cleaning): previewed with their values

    def note_progress(self, message):
        if self.progress:
            self.progress(0, self.staged.total, message)

    def run(self):
        header = self.staged.header
        result = ImportResult(
            unknown_columns=header.unknown,
            header_row=header.row_number,
            header=list(self.staged.header_values),
            dry_run=self.dry_run,
        )
        self.note_progress(_("Checking %(total)d rows") % {"total": self.staged.total})
        with connection.cursor() as cursor:
            self.cursor = cursor
            # The plan hashes a million rows several times over (and the repeats' aggregate): in
            # memory, not in batches on disk (the server's default is 4 MB). This transaction only.
            cursor.execute("SET LOCAL work_mem = '512MB'")
            cells = ", ".join(f"nullif(btrim({c}), '')" for c in self.staged.columns)
            cursor.execute(f"DELETE FROM results_raw WHERE num_nonnulls({cells}) = 0")
            self._clean()
            self._plan()
            counts = self._decide()
            lost = []
            if not self.dry_run:
                self.note_progress(_("Writing %(n)d rows") % {"n": counts.get(services.CREATED, 0)})
                lost = self._write(counts.get(services.CREATED, 0))
            self._python_rows(lost, result)
            result.created += counts.get(services.CREATED, 0)
            result.unchanged += counts.get(services.UNCHANGED, 0)
            self._report(result)
            result.row_columns = list(self.resource.preview_columns)
            result.rows = self._preview()
        return result

    def first_rows_end(self):
        """The sheet row number of the last previewed row (the preview's join reads no further)."""
        self.cursor.execute("SELECT max(n) FROM (SELECT n FROM results_raw ORDER BY n LIMIT %s) f", [PREVIEW_ROWS])
        return self.cursor.fetchone()[0] or 0

    # 2. cleaning per distinct value

    def _clean(self):
        cursor = self.cursor
        for name, parse in _PARSERS.items():
            self._map(name, parse)
        for name in ("tested_at", "reported_at"):
            self._map(name, lambda value: services.parse_time(value, self.now))
        # Barcodes: plain letters and digits are upper-cased in SQL; anything else (full-width,
        # hyphens, blanks, too long) goes through parse_barcode.
        # (ASCII: as many bytes as characters; a bounded `{1,32}` costs the regex engine 8×.)
        cursor.execute(
            "SELECT n, barcode FROM results_raw WHERE barcode IS NULL OR length(barcode) > 32 "
            "OR octet_length(barcode) <> length(barcode) OR barcode !~ '^[[:alnum:]]+$'"
        )
        fixes = []
        for n, raw in cursor.fetchall():
            try:
                fixes.append((n, services.parse_barcode(_blank(raw)), None))
            except CellError as exc:
                fixes.append((n, None, str(exc)))
        cursor.execute("CREATE TEMP TABLE results_code_fix (n bigint, code text, err text) ON COMMIT DROP")
        self._copy("results_code_fix", ("n", "code", "err"), fixes)
        cursor.execute("ANALYZE results_raw")

    def _map(self, name, parse):
        """results_map_<name>(raw, val, err): every distinct value of the column, parsed once."""
        cursor = self.cursor
        cursor.execute(f"SELECT DISTINCT coalesce({name}, '') FROM results_raw")
        rows = []
        for (raw,) in cursor.fetchall():
            try:
                rows.append((raw, parse(_blank(raw)), None))
            except CellError as exc:
                rows.append((raw, None, str(exc)))
        cursor.execute(
            f"CREATE TEMP TABLE results_map_{name} (raw text PRIMARY KEY, val {_TYPES[name]}, err text) "
            "ON COMMIT DROP"
        )
        self._copy(f"results_map_{name}", ("raw", "val", "err"), rows)

    def _copy(self, table, columns, rows):
        with self.cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    # 3. planning

    def _plan(self):
        """results_plan: every row's cleaned values or its problems, its tube and what happens."""
        cursor = self.cursor
        joins = "\n".join(
            f"JOIN results_map_{name} m_{name} ON m_{name}.raw = coalesce(r.{name}, '')"
            for name in (*_PARSERS, "tested_at", "reported_at")
        )
        cursor.execute(
            f"""
            CREATE TEMP TABLE results_clean ON COMMIT DROP AS
            SELECT r.n,
                   CASE WHEN f.n IS NULL THEN upper(r.barcode) ELSE f.code END AS barcode, f.err AS e_barcode,
                   m_result.val AS result, m_result.err AS e_result,
                   m_ct_orf1ab.val AS ct_orf1ab, m_ct_orf1ab.err AS e_ct_orf1ab,
                   m_ct_n.val AS ct_n, m_ct_n.err AS e_ct_n,
                   m_reason.val AS reason, m_reason.err AS e_reason,
                   m_tested_at.val AS tested_at, m_tested_at.err AS e_tested_at,
                   coalesce(m_reported_at.val, %(now)s) AS reported_at, m_reported_at.err AS e_reported_at,
                   m_tested_at.val > m_reported_at.val AS e_order,
                   num_nonnulls(f.err, m_result.err, m_ct_orf1ab.err, m_ct_n.err, m_reason.err, m_tested_at.err,
                                m_reported_at.err) = 0 AND (m_tested_at.val > m_reported_at.val) IS NOT TRUE AS ok
            FROM results_raw r
            LEFT JOIN results_code_fix f ON f.n = r.n
            {joins}
            """,
            {"now": self.now},
        )
        cursor.execute("ANALYZE results_clean")  # the plan below joins a million rows: no guessing
        # Problems, row by row, in clean_row's order and words.
        cursor.execute(
            "SELECT n, e_barcode, e_result, e_ct_orf1ab, e_ct_n, e_reason, e_tested_at, e_reported_at, e_order "
            "FROM results_clean WHERE NOT ok"
        )
        for n, *errs in cursor.fetchall():
            problems = [(self.header_of(name), msg) for name, msg in zip(_ORDER, errs[:7], strict=True) if msg]
            if errs[7]:
                problems.append(
                    (self.header_of("tested_at"), _("The tube was tested after the result was reported."))
                )
            self.errors[n] = problems
        paths = services._writable_paths(self.user, services.PERM_ADD)
        # Delivered: the tube among the lab's box entries, hashed once (a join against the Tube
        # queryset of delivered_tubes would scan every tube a second time).
        delivered_sql, delivered_params = (
            delivered_entries(self.lab).order_by().values("tube_id").query.sql_with_params()
        )
        scope = "TRUE" if paths is None else "a.path LIKE ANY (%s)"
        scope_params = [] if paths is None else [[p + "%" for p in paths]]
        cursor.execute(
            f"""
            CREATE TEMP TABLE results_plan ON COMMIT DROP AS
            SELECT *, CASE
                WHEN first_n <> n THEN CASE WHEN result = first_result THEN 'repeat' ELSE 'repeat_differs' END
                WHEN tube_id IS NOT NULL AND delivered AND in_scope AND NOT too_early AND result_id IS NULL
                    THEN '{services.CREATED}'
                WHEN result_id IS NOT NULL AND delivered AND in_scope AND NOT too_early AND current = result
                    THEN '{services.UNCHANGED}'
                ELSE 'python' END::varchar(16) AS action
            FROM (
            SELECT c.n, c.barcode, c.result, c.ct_orf1ab, c.ct_n, c.tested_at, c.reported_at, c.reason,
                   coalesce(dup.first_n, c.n) AS first_n, coalesce(dup.first_result, c.result) AS first_result,
                   t.id AS tube_id, coalesce(t.id IN ({delivered_sql}), FALSE) AS delivered, {scope} AS in_scope,
                   t.campaign_id, t.point_id, t.opened_at AS sampled_at,
                   t.opened_at + make_interval(hours => k.turnaround_hours) AS due_at,
                   c.reported_at < t.opened_at - make_interval(secs => %s) AS too_early,
                   r.id AS result_id, r.result AS current
            FROM results_clean c
            LEFT JOIN (
                -- tubes more than once in the file, with their first row (a hash aggregate: a window
                -- over a million rows sorted them on disk)
                SELECT d.barcode, d.first_n, f.result AS first_result
                FROM (SELECT barcode, min(n) AS first_n FROM results_clean WHERE ok
                      GROUP BY barcode HAVING count(*) > 1) d
                JOIN results_clean f ON f.n = d.first_n
            ) dup ON dup.barcode = c.barcode
            LEFT JOIN testing_tube t ON t.barcode = c.barcode
            LEFT JOIN testing_campaign k ON k.id = t.campaign_id
            LEFT JOIN testing_samplingpoint p ON p.id = t.point_id
            LEFT JOIN areas_area a ON a.id = p.area_id
            LEFT JOIN {TubeResult._meta.db_table} r ON r.tube_id = t.id
            WHERE c.ok
            -- A fence: pulled up, the subquery's columns would be computed again wherever the CASE
            -- above names them (`delivered` twice: its hash of a million box entries built twice).
            OFFSET 0
            ) planned
            """,
            [*delivered_params, *scope_params, services._SLACK_SECONDS],
        )

    def _decide(self):
        """{action: rows} of the plan (actions set in SQL): plain creations, unchanged rows and repeats
        are counted here; rows marked 'python' are left to plan_results."""
        cursor = self.cursor
        cursor.execute("ANALYZE results_plan")
        cursor.execute("SELECT action, count(*) FROM results_plan GROUP BY action")
        counts = dict(cursor.fetchall())
        counts[services.UNCHANGED] = counts.get(services.UNCHANGED, 0) + counts.pop("repeat", 0)
        cursor.execute(
            "SELECT n, barcode, first_n FROM results_plan WHERE action = 'repeat_differs' ORDER BY n"
        )
        for n, code, first_n in cursor.fetchall():
            self.planned.add(n)
            self.errors[n] = [
                (
                    self.header_of("result"),
                    _("Tube %(barcode)s has a different result in row %(row)s; keep one of them.")
                    % {"barcode": code, "row": first_n},
                )
            ]
        return counts

    # 4. writing

    def _write(self, expected):
        """INSERT the creations; returns the rows another writer stored first (for the row path)."""
        if not expected:
            return []
        cursor = self.cursor
        batch = uuid.uuid4()
        job = self.resource.params.get("job")
        insert = f"""
            INSERT INTO {TubeResult._meta.db_table} (tube_id, campaign_id, point_id, lab_id, result, ct_orf1ab,
                ct_n, tested_at, reported_at, sampled_at, due_at, source, job_id, batch, recorded_by_id, created,
                last_updated)
            SELECT p.tube_id, p.campaign_id, p.point_id, %(lab)s, p.result, p.ct_orf1ab, p.ct_n, p.tested_at,
                p.reported_at, p.sampled_at, p.due_at, %(source)s, %(job)s, %(batch)s, %(user)s, %(now)s, %(now)s
            FROM results_plan p
            WHERE p.action = %(created)s
            """
        params = {
            "lab": self.lab.pk,
            "source": "import",
            "job": job.pk if job is not None else None,
            "batch": batch,
            "user": services._user_id(self.user),
            "now": self.now,
            "created": services.CREATED,
        }
        try:
            # A plain INSERT first: ON CONFLICT's speculative insertion costs ~60 % more a row, and a
            # conflict needs another writer storing one of these tubes since the plan, which is rare.
            with transaction.atomic():
                cursor.execute(insert, params)
        except IntegrityError:
            # That writer was there (its row waited for, then committed): keep what it stored.
            cursor.execute(insert + " ON CONFLICT (tube_id) DO NOTHING", params)
        lost = []
        if cursor.rowcount != expected:
            # Another writer stored some of these tubes since the plan: the row path decides them.
            cursor.execute(
                f"UPDATE results_plan p SET action = 'python' FROM {TubeResult._meta.db_table} r "
                "WHERE p.action = %s AND r.tube_id = p.tube_id AND r.batch IS DISTINCT FROM %s RETURNING p.n",
                [services.CREATED, batch],
            )
            lost = [n for (n,) in cursor.fetchall()]
        flagged = [str(r) for r in FLAGGED]
        cursor.execute(
            "SELECT tube_id, result FROM results_plan WHERE action = %s AND result = ANY(%s)",
            [services.CREATED, flagged],
        )
        changes = [ResultChange(tube_id=t, result=r, before=None, corrected=False) for t, r in cursor.fetchall()]
        if changes:
            results_changed.send(sender=TubeResult, lab=self.lab, changes=changes, source="import")
        if results_recorded.has_listeners(TubeResult):
            results_recorded.send(sender=TubeResult, lab=self.lab, recorded=_Recorded(), source="import")
        return lost

    def _python_rows(self, lost, result):
        """Rows the SQL plan left to Python (refusals, updates, corrections, lost races): planned and
        written by plan_results / apply_plan as any batch is."""
        cursor = self.cursor
        cursor.execute(
            "SELECT n, barcode, result, ct_orf1ab, ct_n, tested_at, reported_at, reason FROM results_plan "
            "WHERE action = 'python' ORDER BY n"
        )
        rows = [
            (n, dict(zip(("barcode", "result", "ct_orf1ab", "ct_n", "tested_at", "reported_at", "reason"), v, strict=True)))
            for n, *v in cursor.fetchall()
        ]
        if not rows:
            return
        lost = set(lost)
        plan = services.plan_results(self.user, self.lab, rows, self.now)
        for row in plan.rows:
            if row.action == services.REFUSED:
                self.planned.add(row.ref)
                self.errors[row.ref] = [(self.header_of(row.column), row.message)]
            elif row.action in (services.UPDATED, services.CORRECTED):
                result.updated += 1
                notes = [_("was %(result)s") % {"result": Result(row.current[1]).label}] if row.current else []
                if row.data["reason"]:
                    notes.append(_("Correction: %(reason)s") % {"reason": row.data["reason"]})
                self.fates[row.ref] = ("update", notes)
            elif row.action == services.CREATED:
                result.created += 1
                self.fates[row.ref] = ("create", [])
            else:
                result.unchanged += 1
                self.fates[row.ref] = ("unchanged", [row.message] if row.message else [])
        if not self.dry_run:
            services.apply_plan(plan, "import", job=self.resource.params.get("job"))
        if lost:  # rows another writer stored first were counted as created by the SQL plan
            result.created -= len(lost)

    def _report(self, result):
        if not self.errors:
            return
        rows = sorted(self.errors)
        names = ", ".join(self.staged.columns)
        self.cursor.execute(
            f"SELECT n, {names} FROM results_raw JOIN unnest(%s::bigint[]) AS e(n) USING (n)", [rows]
        )
        originals = {n: list(values) for n, *values in self.cursor.fetchall()}
        for n in rows:
            result.reject(n, tabular.clean_values(originals.get(n, [])), self.errors[n])
        result.errors.sort(key=lambda e: e["row"])

    def _preview(self):
        """The first rows of the file with what happens to each (as the row path shows them)."""
        cursor = self.cursor
        fields = ("barcode", "result", "ct_orf1ab", "ct_n", "reported_at")
        cursor.execute(
            f"SELECT r.n, {', '.join('r.' + f for f in fields)}, p.action, p.barcode, p.result, p.ct_orf1ab, "
            "p.ct_n, p.reported_at, p.first_n FROM (SELECT * FROM results_raw ORDER BY n LIMIT %s) r "
            "LEFT JOIN results_plan p ON p.n = r.n AND p.n <= %s ORDER BY r.n",
            [PREVIEW_ROWS, self.first_rows_end()],
        )
        labels, headers, out = _action_labels(), list(self.resource.preview_columns), []
        for n, *values in cursor.fetchall():
            raw = dict(zip(fields, values[:5], strict=True))
            action, cleaned_values, first_n = values[5], values[6:11], values[11]
            notes = []
            if n in self.errors:
                fate, notes = "rejected", [str(m) for _c, m in self.errors[n]]
                cleaned = dict(zip(fields, cleaned_values, strict=True)) if n in self.planned else None
            else:
                cleaned = dict(zip(fields, cleaned_values, strict=True))
                fate = {services.CREATED: "create", services.UNCHANGED: "unchanged", "repeat": "unchanged"}.get(
                    action, "update"
                )
                if n in self.fates:
                    fate, notes = self.fates[n]
                elif action == "repeat":
                    notes = [_("Same tube and result as row %(row)s.") % {"row": first_n}]
            cells = self.resource.preview_cells(raw, cleaned)
            out.append(
                {
                    "row": n,
                    "action": fate,
                    "label": labels[fate],
                    "cells": [[h, "" if c is None else str(c)] for h, c in zip(headers, cells, strict=True)],
                    "notes": notes,
                }
            )
        return out


class _Recorded:
    """results_recorded's `recorded` for a file: the stored rows stay in the staging table; a
    receiver asks for the ones it waits for (`matching`) or iterates them all."""

    def matching(self, tube_ids, barcodes):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tube_id, barcode, result FROM results_plan WHERE action = %s "
                "AND (tube_id = ANY(%s) OR barcode = ANY(%s))",
                [services.CREATED, list(tube_ids), list(barcodes)],
            )
            return cursor.fetchall()

    def __iter__(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT tube_id, barcode, result FROM results_plan WHERE action = %s", [services.CREATED])
            yield from cursor.fetchall()


def _blank(value):
    """None for an empty or blank cell, as read_rows gives it."""
    if value is None or not value.strip():
        return None
    return value

