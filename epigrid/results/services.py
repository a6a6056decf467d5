"""Lab results: the one way results come in, and the reads other apps call
(docs/decisions/0022-lab-results.md).

Ways in, all through `record_results(user, lab, rows, source)`:
  the batch API (POST /api/v1/results/batch/), the lab's LIS export through the import pipeline
  (ledger "lab-results", `results.imports`, which calls `plan_results` / `apply_plan`, the two
  halves of record_results), the correction page and the demo.

Rules, per row: the tube must exist and have been delivered to the lab (transport's
`delivered_tubes`); the same result again is `unchanged` (idempotent per tube and result); a pending
result becomes final as `updated`; anything else that contradicts the stored result is a
correction: refused without a reason, `corrected` with one (change log with the reason plus a
`ResultCorrection` row). Set-based: one query per 20,000 barcodes, new results in one
INSERT … ON CONFLICT (COPY into a temporary table on PostgreSQL), updates locked and written in
bulk, never a query per row. Two writers on one tube at once serialise on the tube's unique
result row: the loser's rows are decided again against what the winner stored.

Hook for the follow-up work (pooled-positive fan-out, retests, resampling): `results_changed`
(results.signals) is sent inside the writing transaction with every tube whose result became, or
stopped being, pooled positive / positive / invalid.

Reads for other apps: `latest_result(person)`, `tube_persons(tube)`, `turnaround(results, by)`.
"""

import datetime
import decimal
import statistics
import unicodedata
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Aggregate, Count, Exists, F, FloatField, Func, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.models import Grant
from epigrid.audit.models import Action
from epigrid.audit.services import build_change, write_changes
from epigrid.core import identity, reasons
from epigrid.core.imports import bulk_insert
from epigrid.core.tabular import CellError, cell_datetime, cell_text
from epigrid.results.models import CT_MAX, CT_MIN, FLAGGED, Result, ResultCorrection, Source, TubeResult
from epigrid.results.signals import ResultChange, results_changed, results_recorded
from epigrid.testing.models import Sample, Tube
from epigrid.transport.services import delivered_tubes

# The protocols shipped (control/protocols/*.json) carry no validity of a result; a protocol may set
# "result_validity_hours" in its rules, else a negative result holds this long from sampling.
DEFAULT_VALIDITY_HOURS = 48
MAX_BATCH = 5000  # rows per API call; files go through the import pipeline
JOIN_DELIVERIES_FROM = 2_000  # barcodes from which the look-up joins the lab's deliveries (_lookup_postgresql)
LOOKUP_CHUNK = 20_000  # barcodes per look-up query (SQLite takes at most 32,766 parameters)
FUTURE_SLACK = datetime.timedelta(minutes=10)  # clocks a little apart (LIS, desk phones) are not an error
_SLACK_SECONDS = FUTURE_SLACK.total_seconds()
PERM_ADD, PERM_CHANGE = "results.add_tuberesult", "results.change_tuberesult"

CREATED, UPDATED, CORRECTED, UNCHANGED, REFUSED = "created", "updated", "corrected", "unchanged", "refused"


class BatchError(ValidationError):
    """The batch as a whole is unusable (not a list, too long): nothing in it was looked at."""


# -- reading one row's cells (shared by the API and the import) ------------------------------------

_RESULT_NAMES = {
    Result.NEGATIVE: (
        "阴",
        "阴性",
        "negative",
        "neg",
        "-",
        "(-)",
        "阴性(-)",
        "未检出",
        "n",
        "检测阴性",
        "混管阴性",
    ),
    Result.POOLED_POSITIVE: (
        "混阳",
        "混管阳性",
        "混管可疑阳性",
        "混合阳性",
        "混检阳性",
        "混采阳性",
        "pooledpositive",
        "pooled_positive",
        "poolpositive",
    ),
    Result.POSITIVE: ("阳", "阳性", "positive", "pos", "+", "(+)", "阳性(+)", "检出", "p", "单管阳性"),
    Result.INVALID: ("无效", "invalid", "失效", "样本无效", "需重采", "重采", "不合格"),
    Result.PENDING: ("待检", "pending", "检测中", "待测", "未出", "待出结果"),
}
RESULT_NAMES = {name: str(result) for result, names in _RESULT_NAMES.items() for name in names}
_NO_CT = frozenset({"", "-", "/", "—", "n/a", "na", "nan", "none", "无", "未检出", "undetermined", "noct"})
_FAST_BARCODE_MAX = 32


def _fold(text):
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "").replace("　", "")


def parse_result(value, _cache={}):  # noqa: B006 - a deliberate per-process cache of spellings
    """A result value (Result) from what a LIS writes: 阴/阴性/negative/neg/-, 混阳/混管阳性/混管可疑阳性,
    阳/阳性/positive/+, 无效/invalid, 待检/pending, ...; CellError otherwise."""
    try:
        return _cache[value]
    except (KeyError, TypeError):
        pass
    text = cell_text(value) if value is not None else ""
    found = RESULT_NAMES.get(_fold(text))
    if found is None:
        if not text:
            raise CellError(_("The result is missing."))
        raise CellError(
            _("“%(value)s” is not a result. Write 阴性, 混管阳性, 阳性, 无效 or 待检.") % {"value": text[:40]}
        )
    if isinstance(value, str) and len(_cache) < 10_000:
        _cache[value] = found
    return found


def parse_ct(value):
    """A Ct value as a Decimal with two places, None when empty or "no Ct"; CellError outside 0–45."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a Ct value.") % {"value": value})
    if isinstance(value, int | float | decimal.Decimal):
        number = value
    else:
        text = _fold(str(value))
        if text in _NO_CT:
            return None
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise CellError(_("“%(value)s” is not a Ct value.") % {"value": str(value)[:40]}) from None
    try:
        ct = decimal.Decimal(str(number)).quantize(decimal.Decimal("0.01"))
    except decimal.InvalidOperation:
        raise CellError(_("“%(value)s” is not a Ct value.") % {"value": str(value)[:40]}) from None
    if not CT_MIN <= ct <= CT_MAX:
        raise CellError(
            _("The Ct value %(value)s is outside %(min)d–%(max)d.")
            % {"value": ct, "min": CT_MIN, "max": CT_MAX}
        )
    return ct


def parse_time(value, now, _cache={}):  # noqa: B006 - LIS exports repeat the same minute thousands of times
    """An aware datetime (naive values are local time); None when empty; CellError when it is not a
    date and time or lies in the future."""
    if value is None or value == "":
        return None
    try:
        moment = _cache[value]
    except (KeyError, TypeError):
        moment = cell_datetime(value)
        if isinstance(value, str | datetime.datetime) and len(_cache) < 100_000:
            _cache[value] = moment
    if moment is not None and moment > now + FUTURE_SLACK:
        raise CellError(
            _("%(value)s lies in the future.")
            % {"value": timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")}
        )
    return moment


def parse_barcode(value):
    """The tube barcode as the desks store it (upper case, half-width); CellError when empty or
    not a barcode."""
    if value.__class__ is str and value.isascii() and value.isalnum() and len(value) <= _FAST_BARCODE_MAX:
        return value.upper()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    code = identity.normalise_text(value if isinstance(value, str) else cell_text(value))
    if not code:
        raise CellError(_("The tube barcode is missing."))
    if len(code) > _FAST_BARCODE_MAX or not all(c.isalnum() or c == "-" for c in code) or not code.isascii():
        raise CellError(_("“%(value)s” is not a tube barcode.") % {"value": code[:40]})
    return code


def parse_reason(value):
    """A correction's reason: '' when empty, else text that says something (two letters or more)."""
    text = cell_text(value) if value is not None else ""
    if not text.strip():
        return ""
    try:
        return reasons.clean_reason(text)[:300]
    except ValidationError:
        raise CellError(_("The reason for the correction must say something (at least two characters).")) from None


FIELDS = ("barcode", "result", "ct_orf1ab", "ct_n", "tested_at", "reported_at", "reason")


def clean_row(raw, now):
    """(cleaned dict, [(field, message)]) for one row of raw values keyed by FIELDS."""
    data, problems = {}, []
    for name, parse in (
        ("barcode", parse_barcode),
        ("result", parse_result),
        ("ct_orf1ab", parse_ct),
        ("ct_n", parse_ct),
        ("reason", parse_reason),
    ):
        try:
            data[name] = parse(raw.get(name))
        except CellError as exc:
            problems.append((name, str(exc)))
    for name in ("tested_at", "reported_at"):
        try:
            data[name] = parse_time(raw.get(name), now)
        except CellError as exc:
            problems.append((name, str(exc)))
    tested, reported = data.get("tested_at"), data.get("reported_at")
    if tested and reported and tested > reported:
        problems.append(("tested_at", _("The tube was tested after the result was reported.")))
    if not problems and reported is None:
        data["reported_at"] = now
    return data, problems


# -- planning: what happens to each row, decided in bulk -------------------------------------------


@dataclass
class Row:
    ref: object  # the sheet row number, or the index in an API batch
    data: dict
    action: str = ""
    message: str = ""
    tube: tuple = ()  # _TUBE_VALUES of the tube
    current: tuple = ()  # (result id, result) stored before; () when none
    column: str = "barcode"  # the field a refusal is about (the import's error report)


@dataclass
class Plan:
    lab: object
    user: object
    rows: list = field(default_factory=list)
    now: datetime.datetime = None

    def by_action(self, action):
        return [row for row in self.rows if row.action == action]


# Tube columns one look-up reads (see _lookup): the opening time as epoch seconds (a float loads
# several times faster than an aware datetime, a third of the look-up at 100,000 rows).
_TUBE_VALUES = (
    "pk",
    "barcode",
    "point_id",
    "campaign_id",
    "opened_at",
    "campaign__turnaround_hours",
    "point__area__path",
    "delivered",
    "lab_result__pk",
    "lab_result__result",
)
T_PK, T_BARCODE, T_POINT, T_CAMPAIGN, T_OPENED, T_HOURS, T_PATH, T_DELIVERED, R_PK, R_RESULT = range(10)


def _lookup(lab, barcodes):
    """{barcode: tube values} for the barcodes that name a tube, each saying whether the tube was
    delivered to `lab` (transport's `delivered_tubes`) and what result it holds."""
    barcodes = list(barcodes)
    if connection.vendor == "postgresql":
        return _lookup_postgresql(lab, barcodes)
    delivered = delivered_tubes(lab).filter(pk=OuterRef("pk"))
    found = {}
    for start in range(0, len(barcodes), LOOKUP_CHUNK):
        chunk = barcodes[start : start + LOOKUP_CHUNK]
        rows = (
            Tube.objects.filter(barcode__in=chunk)
            .annotate(delivered=Exists(delivered))
            .values_list(*_TUBE_VALUES)
            .order_by()
        )
        for row in rows:
            found[row[T_BARCODE]] = (*row[:T_OPENED], row[T_OPENED].timestamp(), *row[T_OPENED + 1 :])
    return found


def _lookup_postgresql(lab, barcodes):
    """One query for the whole batch: the barcodes as one array joined to the tubes' unique
    barcode index (an IN list would scan the tube table once per chunk at city scale).

    "Delivered to this lab" is asked two ways. A few barcodes (an API batch, a correction): an
    EXISTS per tube, a handful of index probes each. A file's worth: one hash join with the lab's
    deliveries, read once — per tube, the probes cost 7 µs a tube (7 s for a million), and as
    `IN (subquery)` the planner fell back to rescanning the lab's deliveries for every barcode
    once they outgrew work_mem (a 100,000-row file ran for a quarter of an hour)."""
    delivered_sql, delivered_params = delivered_tubes(lab).order_by().values("pk").query.sql_with_params()
    if len(barcodes) >= JOIN_DELIVERIES_FROM:
        delivered, join = "d.id IS NOT NULL", f"LEFT JOIN ({delivered_sql}) AS d(id) ON d.id = t.id"
        params = [barcodes, *delivered_params]
    else:
        delivered, join = f"EXISTS (SELECT 1 FROM ({delivered_sql}) AS d(id) WHERE d.id = t.id)", ""
        params = [*delivered_params, barcodes]
    sql = f"""
        SELECT t.id, t.barcode, t.point_id, t.campaign_id, extract(epoch FROM t.opened_at)::float8,
               c.turnaround_hours, a.path, {delivered}, r.id, r.result
        FROM unnest(%s::varchar[]) AS b(code)
        JOIN testing_tube t ON t.barcode = b.code
        JOIN testing_campaign c ON c.id = t.campaign_id
        JOIN testing_samplingpoint p ON p.id = t.point_id
        JOIN areas_area a ON a.id = p.area_id
        {join}
        LEFT JOIN {TubeResult._meta.db_table} r ON r.tube_id = t.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[T_BARCODE]: row for row in cursor.fetchall()}


def _writable_paths(user, perm):
    """None (anywhere) or the area paths where `user` may record; [] when nowhere."""
    if user is None:
        return None
    if not (user.is_authenticated and user.is_active):
        return []
    return user.scope_paths(perm)


def check_may_record(user, lab, perm=PERM_ADD):
    """PermissionDenied unless `user` may record results for `lab`: a lab's staff for their own
    lab (the role is bound to Lab.staff), other roles holding the right anywhere for any lab."""
    if user is None or user.is_superuser:
        return
    paths = _writable_paths(user, perm)
    if paths == []:
        raise PermissionDenied(_("You may not record lab results."))
    unbound = user.scope_paths(perm, bound=False)
    if unbound != [] or lab.staff.filter(pk=user.pk).exists():
        return
    raise PermissionDenied(_("You are not on the staff of %(lab)s.") % {"lab": lab.name})


def _decide(row, current):
    """Set row.action/message against the stored (result id, result), or () for none."""
    new = row.data["result"]
    row.current = current
    if not current:
        row.action, row.message = CREATED, ""
        return
    before = current[1]
    if before == new:
        row.action, row.message = UNCHANGED, ""
    elif before == Result.PENDING:
        row.action, row.message = UPDATED, ""
    elif row.data.get("reason"):
        row.action, row.message = CORRECTED, ""
    else:
        row.action, row.column = REFUSED, "result"
        row.message = _(
            "Tube %(barcode)s already has the result %(before)s; %(after)s contradicts it: a correction "
            "needs a reason."
        ) % {"barcode": row.data["barcode"], "before": Result(before).label, "after": Result(new).label}


def plan_results(user, lab, rows, now=None, perm=PERM_ADD):
    """Decide every row of [(ref, cleaned)] against the database, in bulk. Rows the tube rules
    refuse get action REFUSED and the message."""
    now = now or timezone.now()
    plan = Plan(lab=lab, user=user, now=now)
    tubes = _lookup(lab, {data["barcode"] for _ref, data in rows})
    paths = _writable_paths(user, perm)
    first = {}
    for ref, data in rows:
        row = Row(ref, data)
        plan.rows.append(row)
        code = data["barcode"]
        tube = tubes.get(code)
        if code in first:
            earlier = first[code]
            if earlier.data["result"] == data["result"]:
                row.action, row.message = (
                    UNCHANGED,
                    _("Same tube and result as row %(row)s.") % {"row": earlier.ref},
                )
            else:
                row.action, row.column = REFUSED, "result"
                row.message = _(
                    "Tube %(barcode)s has a different result in row %(row)s; keep one of them."
                ) % {
                    "barcode": code,
                    "row": earlier.ref,
                }
            continue
        first[code] = row
        row.tube = tube
        if tube is None:
            row.action, row.message = REFUSED, _("No tube has the barcode %(barcode)s.") % {"barcode": code}
        elif not tube[T_DELIVERED]:
            row.action = REFUSED
            row.message = _("Tube %(barcode)s was not delivered to %(lab)s.") % {
                "barcode": code,
                "lab": lab.name,
            }
        elif paths is not None and not any(tube[T_PATH].startswith(p) for p in paths):
            row.action = REFUSED
            row.message = _("Tube %(barcode)s was sampled outside your area.") % {"barcode": code}
        # The desks' phone clocks and the LIS clock drift apart by minutes: only clearly earlier is wrong.
        elif data["reported_at"].timestamp() < tube[T_OPENED] - _SLACK_SECONDS:
            row.action, row.column = REFUSED, "reported_at"
            row.message = _("The result of tube %(barcode)s is dated before the tube was sampled.") % {
                "barcode": code
            }
        else:
            _decide(row, (tube[R_PK], tube[R_RESULT]) if tube[R_PK] else ())
    return plan


# -- writing ----------------------------------------------------------------------------------------


def apply_plan(plan, source, job=None):
    """Write the plan's rows in the caller's transaction (or one of its own); rows another writer
    decided meanwhile are decided again under the lock. Returns the plan, actions final."""
    with transaction.atomic():
        batch = uuid.uuid4()
        conflicted = _insert(plan, plan.by_action(CREATED), source, job, batch)
        _update(plan, plan.by_action(UPDATED) + plan.by_action(CORRECTED) + conflicted, source, job)
        changes = [
            ResultChange(
                tube_id=row.tube[T_PK],
                result=row.data["result"],
                before=row.current[1] if row.current else None,
                corrected=row.action == CORRECTED,
            )
            for row in plan.rows
            if row.action in (CREATED, UPDATED, CORRECTED)
            and (row.data["result"] in FLAGGED or (row.current and row.current[1] in FLAGGED))
        ]
        if changes:
            # Inside the transaction: the follow-up (fan-out, tasks) commits with the result or not at all.
            results_changed.send(sender=TubeResult, lab=plan.lab, changes=changes, source=source)
        if results_recorded.has_listeners(TubeResult):
            recorded = [
                (row.tube[T_PK], row.data["barcode"], row.data["result"])
                for row in plan.rows
                if row.action in (CREATED, UPDATED, CORRECTED)
            ]
            if recorded:
                results_recorded.send(sender=TubeResult, lab=plan.lab, recorded=recorded, source=source)
    return plan


def _user_id(user):
    if user is None:
        return None
    return getattr(user, "pk", None)


def _insert(plan, rows, source, job, batch):
    """Insert new results, skipping tubes that got a result since the plan (another writer).
    Returns those rows, to be decided again against what is stored now."""
    if not rows:
        return []
    constants = {
        "lab_id": plan.lab.pk,
        "source": source,
        "job_id": job.pk if job is not None else None,
        "batch": batch,
        "recorded_by_id": _user_id(plan.user),
    }
    if connection.vendor == "postgresql":
        inserted = _insert_postgresql(rows, constants)
    else:
        inserted = _insert_other(rows, constants, batch)
    return [row for row in rows if row.tube[T_PK] not in inserted]


def _insert_other(rows, constants, batch):
    """bulk_create ignoring conflicts, then which rows are ours (this batch's)."""
    hours, objs = {}, []
    for row in rows:
        t, d = row.tube, row.data
        span = hours.get(t[T_HOURS]) or hours.setdefault(t[T_HOURS], datetime.timedelta(hours=t[T_HOURS]))
        opened = datetime.datetime.fromtimestamp(t[T_OPENED], tz=datetime.UTC)
        objs.append(
            TubeResult(
                tube_id=t[T_PK],
                campaign_id=t[T_CAMPAIGN],
                point_id=t[T_POINT],
                result=d["result"],
                ct_orf1ab=d["ct_orf1ab"],
                ct_n=d["ct_n"],
                tested_at=d["tested_at"],
                reported_at=d["reported_at"],
                sampled_at=opened,
                due_at=opened + span,
                **constants,
            )
        )
    TubeResult.objects.bulk_create(objs, ignore_conflicts=True, batch_size=2000)
    ids, inserted = [row.tube[T_PK] for row in rows], set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        inserted.update(
            TubeResult.objects.filter(tube_id__in=chunk, batch=batch).values_list("tube_id", flat=True)
        )
    return inserted


def _insert_postgresql(rows, constants):
    """COPY the rows' own values into a temporary table, then one INSERT … SELECT taking the round,
    point and sampling time from the tube and ON CONFLICT (tube) DO NOTHING: COPY's speed, and the
    unique constraint has the last word when two writers record one tube at once. Returns the tube
    ids inserted."""
    table = TubeResult._meta.db_table
    texts = {}  # datetime -> text: a LIS export repeats the same minute thousands of times

    def text(moment):
        if moment is None:
            return None
        found = texts.get(moment)
        if found is None:
            found = texts[moment] = moment.isoformat()
        return found

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS results_incoming")
        cursor.execute(
            "CREATE TEMP TABLE results_incoming (tube_id bigint, result varchar(16), ct_orf1ab numeric(5, 2), "
            "ct_n numeric(5, 2), tested_at timestamptz, reported_at timestamptz)"
        )
        with cursor.cursor.copy("COPY results_incoming FROM STDIN") as copy:
            for row in rows:
                d = row.data
                copy.write_row(
                    (
                        row.tube[T_PK],
                        d["result"],
                        d["ct_orf1ab"],
                        d["ct_n"],
                        text(d["tested_at"]),
                        text(d["reported_at"]),
                    )
                )
        cursor.execute(
            f"""
            INSERT INTO {table} (tube_id, campaign_id, point_id, lab_id, result, ct_orf1ab, ct_n, tested_at,
                reported_at, sampled_at, due_at, source, job_id, batch, recorded_by_id, created, last_updated)
            SELECT i.tube_id, t.campaign_id, t.point_id, %(lab_id)s, i.result, i.ct_orf1ab, i.ct_n, i.tested_at,
                i.reported_at, t.opened_at, t.opened_at + make_interval(hours => c.turnaround_hours),
                %(source)s, %(job_id)s, %(batch)s, %(recorded_by_id)s, %(now)s, %(now)s
            FROM results_incoming i
            JOIN testing_tube t ON t.id = i.tube_id
            JOIN testing_campaign c ON c.id = t.campaign_id
            ON CONFLICT (tube_id) DO NOTHING
            RETURNING tube_id
            """,
            {**constants, "now": now},
        )
        inserted = {tube_id for (tube_id,) in cursor.fetchall()}
        cursor.execute("DROP TABLE results_incoming")
    return inserted


_UPDATED_FIELDS = (
    "lab",
    "result",
    "ct_orf1ab",
    "ct_n",
    "tested_at",
    "reported_at",
    "source",
    "job",
    "recorded_by",
)


def _update(plan, rows, source, job):
    """Lock the stored results of `rows` (in id order: no deadlocks between writers), decide each row
    again against what is stored now, and write the changes, the change log (a correction's with
    its reason) and the correction rows."""
    if not rows:
        return
    by_tube = {}
    ids = [row.tube[T_PK] for row in rows]
    for start in range(0, len(ids), LOOKUP_CHUNK):
        locked = (
            TubeResult.objects.select_for_update()
            .filter(tube_id__in=ids[start : start + LOOKUP_CHUNK])
            .order_by("pk")
        )
        by_tube.update((r.tube_id, r) for r in locked)
    changed, logs, corrections, now = [], [], [], timezone.now()
    user_id = _user_id(plan.user)
    for row in rows:
        stored = by_tube[row.tube[T_PK]]
        _decide(row, (stored.pk, stored.result))
        if row.action not in (UPDATED, CORRECTED):
            continue
        d = row.data
        if row.action == CORRECTED:
            corrections.append(
                ResultCorrection(
                    result=stored,
                    before=stored.result,
                    after=d["result"],
                    before_ct_orf1ab=stored.ct_orf1ab,
                    before_ct_n=stored.ct_n,
                    before_reported_at=stored.reported_at,
                    reason=d["reason"],
                    source=source,
                    job=job,
                    corrected_at=now,
                    corrected_by_id=user_id,
                )
            )
        stored.lab = plan.lab
        stored.result, stored.ct_orf1ab, stored.ct_n = d["result"], d["ct_orf1ab"], d["ct_n"]
        stored.tested_at, stored.reported_at = d["tested_at"], d["reported_at"]
        stored.source, stored.job, stored.recorded_by_id = source, job, user_id
        stored.last_updated = now
        before, after = stored._prechange, stored.serialize_for_log()
        keys = sorted(k for k in after if before.get(k) != after.get(k))
        logs.append(
            build_change(
                stored,
                Action.UPDATE,
                {k: before.get(k) for k in keys},
                {k: after.get(k) for k in keys},
                reason=d["reason"] if row.action == CORRECTED else "",
            )
        )
        stored.snapshot()
        changed.append(stored)
    TubeResult.objects.bulk_update(changed, [*_UPDATED_FIELDS, "last_updated"], batch_size=1000)
    bulk_insert(ResultCorrection, corrections)
    write_changes(logs)


# -- the one way in ---------------------------------------------------------------------------------


def record_results(user, lab, rows, source, job=None, now=None, perm=PERM_ADD):
    """Record a batch of results of `lab`: rows are dicts with barcode, result, ct_orf1ab, ct_n,
    tested_at, reported_at (default: now) and, for a correction, reason — raw values as a LIS or
    an API client sends them. One outcome per row, in order: {row, barcode, status (created,
    updated, corrected, unchanged, refused), reason, result}."""
    if not isinstance(rows, list):
        raise BatchError(_("results must be a list."))
    if len(rows) > MAX_BATCH:
        raise BatchError(_("At most %(n)d results per batch.") % {"n": MAX_BATCH})
    check_may_record(user, lab, perm)
    now = now or timezone.now()
    outcomes, cleaned = [None] * len(rows), []
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict):
            outcomes[index] = _outcome(
                index, "", REFUSED, _("A result is an object with barcode and result.")
            )
            continue
        data, problems = clean_row(raw, now)
        if problems:
            outcomes[index] = _outcome(
                index, str(raw.get("barcode") or "")[:32], REFUSED, " ".join(m for _f, m in problems)
            )
        else:
            cleaned.append((index, data))
    with transaction.atomic():
        plan = plan_results(user, lab, cleaned, now, perm)
        if any(row.action == CORRECTED for row in plan.rows):
            check_may_record(user, lab, PERM_CHANGE)
        apply_plan(plan, source, job)
    for row in plan.rows:
        outcomes[row.ref] = _outcome(
            row.ref, row.data["barcode"], row.action, row.message, row.data["result"]
        )
    return outcomes


def _outcome(index, barcode, status, reason="", result=None):
    out = {"row": index, "barcode": barcode, "status": status, "reason": str(reason)}
    if result is not None:
        out["result"] = str(result)
    return out


def correct_result(user, tube_result, result, reason, ct_orf1ab=None, ct_n=None, source=Source.PAGE):
    """A correction from the result's page or the API: one row through record_results."""
    row = {
        "barcode": tube_result.tube.barcode,
        "result": result,
        "ct_orf1ab": ct_orf1ab,
        "ct_n": ct_n,
        "tested_at": tube_result.tested_at,
        "reported_at": timezone.now(),
        "reason": reason,
    }
    if not reason or not str(reason).strip():
        raise ValidationError({"reason": _("A correction needs a reason.")})
    check_may_record(user, tube_result.lab, PERM_CHANGE)
    (outcome,) = record_results(user, tube_result.lab, [row], source, perm=PERM_CHANGE)
    if outcome["status"] == REFUSED:
        raise ValidationError(outcome["reason"])
    return outcome


# -- reads for other apps ---------------------------------------------------------------------------


def validity_hours(protocol=None):
    """How long a negative result holds from sampling: the protocol's (by default the active one's)
    "result_validity_hours", else DEFAULT_VALIDITY_HOURS."""
    from epigrid.control.services import active_protocol

    try:
        rules = (protocol or active_protocol()).rules or {}
    except ValidationError:  # no active protocol
        return DEFAULT_VALIDITY_HOURS
    hours = rules.get("result_validity_hours")
    return hours if isinstance(hours, int) and hours > 0 else DEFAULT_VALIDITY_HOURS


# What a person's latest result means for them (a pooled positive is not theirs alone: they wait
# for their single-tube retest).
PERSON_STATUS = {
    Result.NEGATIVE: "negative",
    Result.POOLED_POSITIVE: "pending_retest",
    Result.POSITIVE: "positive",
    Result.INVALID: "resample",
    Result.PENDING: "pending",
}


def latest_result(person, now=None, hours=None):
    """The person's latest result through their samples' tubes (one query), with its validity: a
    negative holds until sampling + the protocol's hours (exactly then still valid). None when no
    tube of theirs has a result yet."""
    now = now or timezone.now()
    hours = hours or validity_hours()
    sample = _latest_samples(person).select_related("tube__lab_result__lab").first()
    if sample is None:
        return None
    tr = sample.tube.lab_result
    return {
        **describe_result(tr.result, sample.scanned_at, now=now, hours=hours),
        "tube": sample.tube.barcode,
        "lab": tr.lab.name,
        "reported_at": tr.reported_at,
    }


def _latest_samples(person):
    return Sample.objects.filter(
        person=person, status=Sample.Status.ACTIVE, tube__lab_result__isnull=False
    ).order_by("-scanned_at", "-id")


def latest_result_columns(person_ref="pk"):
    """Annotations for a Person queryset (`person_ref` names the person's key in it): the latest
    result and its sampling time, as correlated subqueries, so that a checkpoint's batch reads the
    persons and their latest results in one query. `latest_columns_result` / `latest_columns_sampled_at`
    feed `describe_result`; both are None without a result."""
    from django.db.models import Subquery

    latest = _latest_samples(OuterRef(person_ref))
    return {
        "latest_columns_result": Subquery(latest.values("tube__lab_result__result")[:1]),
        "latest_columns_sampled_at": Subquery(latest.values("scanned_at")[:1]),
    }


def describe_result(result, sampled_at, now=None, hours=None):
    """A latest result's answer (as `latest_result`, without tube, lab and report time) with its
    validity at `now`: a negative holds until sampling + `hours`. None without a result."""
    if result is None:
        return None
    now = now or timezone.now()
    hours = hours or validity_hours()
    valid_until = sampled_at + datetime.timedelta(hours=hours)
    return {
        "result": result,
        "result_display": str(Result(result).label),
        "status": PERSON_STATUS[result],
        "sampled_at": sampled_at,
        "validity_hours": hours,
        "valid_until": valid_until if result == Result.NEGATIVE else None,
        "valid": result == Result.NEGATIVE and now <= valid_until,
    }


def tube_persons(tube, persons=None):
    """The persons in `tube` (its active samples) with household, building, grid, the grid's workers
    (users holding a grid_worker grant on the grid) and masked phone and document: two queries.
    `persons` (a Person queryset, e.g. restricted to a user) narrows whom to list. Unregistered
    persons sampled into the tube are listed from their find (name and masked phone)."""
    samples = Sample.objects.filter(tube=tube, status=Sample.Status.ACTIVE).order_by("position")
    if persons is not None:
        samples = samples.filter(person__in=persons.values("pk"))
    rows = list(
        samples.values_list(
            "position",
            "person_id",
            "person__name",
            "person__doc_number",
            "person__phone",
            "person__household__unit",
            "person__household__room",
            "person__household__building__name",
            "person__area_id",
            "person__area__code",
            "person__area__name",
            "person__area__parent__name",
            "find__name",
            "find__phone",
        )
    )
    grids = {r[8] for r in rows if r[8]}
    workers = {}
    if grids:
        grants = Grant.objects.filter(role="grid_worker", area_id__in=grids).order_by("user__username")
        for area_id, username, first, last in grants.values_list(
            "area_id", "user__username", "user__first_name", "user__last_name"
        ):
            workers.setdefault(area_id, []).append(
                {"username": username, "name": f"{last}{first}" or username}
            )
    out = []
    for (
        pos,
        pid,
        name,
        doc,
        phone,
        unit,
        room,
        building,
        grid_id,
        grid_code,
        grid_name,
        community,
        fname,
        fphone,
    ) in rows:
        out.append(
            {
                "position": pos,
                "person": pid,
                "name": name if pid else (fname or ""),
                "doc_number": identity.mask_document(doc) if pid else "",
                "phone": identity.mask_phone(phone if pid else fphone) if (phone if pid else fphone) else "",
                "registered": pid is not None,
                "building": building or "",
                "unit": unit or "",
                "room": room or "",
                "grid": {"code": grid_code, "name": f"{community}·{grid_name}" if community else grid_name}
                if grid_id
                else None,
                "grid_workers": workers.get(grid_id, []),
            }
        )
    return out


def _percentile(values, q):
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


TURNAROUND_GROUPS = {
    "campaign": ("campaign_id", "campaign__name"),
    "point": ("point_id", "point__name"),
    "lab": ("lab_id", "lab__name"),
}


def turnaround(results, by="campaign"):
    """Turnaround (sampling → reported, hours) of the final results in `results` (a scoped
    TubeResult queryset), grouped by round, point or lab: [{id, name, results, on_time, late,
    late_percent, median_hours, p90_hours}]. On time = reported at or before the round's target
    (due_at). One grouped query on PostgreSQL; elsewhere the hours are collected per group."""
    key, label = TURNAROUND_GROUPS[by]
    final = results.exclude(result=Result.PENDING).order_by()
    if connection.vendor == "postgresql":
        return _turnaround_postgresql(final, key, label)
    groups = {}
    for gid, name, sampled, reported, due in final.values_list(
        key, label, "sampled_at", "reported_at", "due_at"
    ):
        g = groups.setdefault(gid, {"id": gid, "name": name, "hours": [], "late": 0})
        g["hours"].append((reported - sampled).total_seconds() / 3600)
        g["late"] += reported > due
    return [
        _turnaround_row(g["id"], g["name"], sorted(g["hours"]), g["late"]) for g in _by_name(groups.values())
    ]


def _by_name(groups):
    return sorted(groups, key=lambda g: (str(g["name"]), g["id"]))


def _turnaround_row(gid, name, hours, late, median=None, p90=None):
    n = len(hours) if hours is not None else 0
    if hours is not None:
        median = statistics.median(hours) if hours else None
        p90 = _percentile(hours, 90)
    return {
        "id": gid,
        "name": name,
        "results": n,
        "on_time": n - late,
        "late": late,
        "late_percent": round(100 * late / n, 1) if n else None,
        "median_hours": round(median, 2) if median is not None else None,
        "p90_hours": round(p90, 2) if p90 is not None else None,
    }


class _Percentile(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(%(percent)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _turnaround_postgresql(final, key, label):
    span = Func(
        F("reported_at") - F("sampled_at"),
        template="EXTRACT(EPOCH FROM %(expressions)s)",
        output_field=FloatField(),
    )
    rows = final.values(key, label).annotate(
        n=Count("pk"),
        late=Count("pk", filter=Q(reported_at__gt=F("due_at"))),
        median=_Percentile(span, percent=0.5),
        p90=_Percentile(span, percent=0.9),
    )
    out = []
    for r in rows:
        row = _turnaround_row(r[key], r[label], None, r["late"], _hours(r["median"]), _hours(r["p90"]))
        row["results"], row["on_time"] = r["n"], r["n"] - r["late"]
        row["late_percent"] = round(100 * r["late"] / r["n"], 1) if r["n"] else None
        out.append(row)
    return _by_name(out)


def _hours(seconds):
    return None if seconds is None else seconds / 3600
