"""Daily reports: the one way in (`submit`), the roll-up street → district → city, the missing
units, a unit's history, and the shipped forms (decision 0029).

The roll-up runs in SQL: one GROUP BY over the expected units and one over the day's submissions,
each grouped by the child area's path prefix, the numeric fields summed from the JSON values in
the database (no side table to keep in step; 5,000 rows a day is a small scan of one index)."""

import datetime
import json
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.models import Grant
from epigrid.areas.models import Area
from epigrid.core import identity
from epigrid.core.scoping import may_at, within
from epigrid.reports import live, schema, senders
from epigrid.reports.models import ReportForm, Submission

SUBMIT = "reports.add_submission"
FORMS_DIR = Path(__file__).resolve().parent / "forms"
SUM_FIELD = DecimalField(max_digits=16, decimal_places=2)
# Who a missing unit's chase list names: the officers granted on the unit.
CONTACT_ROLES = ("community_officer", "street_officer", "grid_worker")


# -- forms ------------------------------------------------------------------------------------


def check_form(form):
    """Refuse a form whose field list is not valid (the messages name each field)."""
    errors = schema.validate_fields(form.fields, live.names())
    if form.sender_kind and form.sender_kind not in senders.REGISTRY:
        errors.append(_("No kind of record named %(kind)s sends reports.") % {"kind": form.sender_kind})
    if form.kind == ReportForm.Kind.ZERO and not any(f["type"] == "bool" for f in form.fields or []):
        errors.append(_("A zero report needs at least one yes/no attestation."))
    if (
        form.zero_statement
        and form.kind == ReportForm.Kind.DAILY
        and not any(f.get("event") for f in form.fields or [] if isinstance(f, dict))
    ):
        errors.append(
            _("A daily form with a zero-report statement needs event fields that a zero report sets to 0.")
        )
    if errors:
        raise ValidationError({"fields": errors})


def save_form(form):
    check_form(form)
    form.full_clean(exclude=["fields"])
    form.save()
    return form


def load_shipped_forms(form_model=ReportForm, directory=FORMS_DIR):
    """Create or update the forms shipped as JSON files (the data migration and `epigrid
    report_forms`); returns the codes loaded."""
    loaded = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        code = data.pop("code")
        data["due_time"] = data.get("due_time", "16:00")
        form = form_model.objects.filter(code=code).first() or form_model(code=code)
        for name, value in data.items():
            setattr(form, name, value)
        if form_model is ReportForm:
            form.due_time = _time(form.due_time)
            save_form(form)
        else:  # the historical model of a migration: checked by the tests of the files
            form.save()
        loaded.append(code)
    return loaded


def _time(value):
    return value if isinstance(value, datetime.time) else datetime.time.fromisoformat(value)


def forms_due(unit):
    """The forms in use that `unit` sends (by its level)."""
    return ReportForm.objects.filter(active=True, unit_level=unit.level, sender_kind="").order_by("kind", "code")


def submitting_units(user, form):
    """The units of the form's level where the user may send it (an area's report is sent on an
    area grant: a bound role, posted to a record, sends only that record's reports)."""
    paths = user.scope_paths(SUBMIT, bound=False)
    if form.sender_kind:
        return Area.objects.none()
    units = Area.objects.filter(level=form.unit_level)
    if paths is None:
        return units.order_by("path")
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return units.filter(q).order_by("path") if paths else units.none()


def submitting_senders(user, form, day):
    """The records of a sender form's kind that the user may send it for on `day`: expected that
    day, visible to the user (the sender model's scoping: an enterprise contact sees their own
    enterprise) and inside the subtrees where the user may send reports."""
    kind = form.senders
    if kind is None:
        return []
    qs = kind.within_paths(kind.expected_queryset(day), user.scope_paths(SUBMIT))
    return qs.filter(pk__in=kind.visible(user).values("pk")).select_related(kind.area_field)


def may_send_area(user, unit):
    return within(unit.path, user.scope_paths(SUBMIT, bound=False))


def may_send_for(user, form, sender):
    kind = form.senders
    area = kind.area_of(sender)
    return within(area.path, user.scope_paths(SUBMIT)) and kind.visible(user).filter(pk=sender.pk).exists()


# -- submitting -------------------------------------------------------------------------------


def clean_submission(form, unit, day, raw, explanations=None, zero=False, sender=None):
    """(values, live figures, explanations, errors per key). Zero reports set event counts to 0;
    every live figure that differs from the typed value needs an explanation."""
    explanations = {k: str(v).strip() for k, v in (explanations or {}).items() if str(v or "").strip()}
    zero = zero or form.kind == ReportForm.Kind.ZERO
    values, errors = {}, {}
    for field in form.fields:
        key = field["key"]
        given = 0 if zero and field.get("event") else raw.get(key)
        value, error = schema.clean_value(field, given)
        values[key] = value
        if error:
            errors[key] = error
    figures = live_figures(form, unit, day, sender)
    for key, figure in figures.items():
        field = form.field(key)
        if key not in errors and not schema.same(field, values[key], figure) and not explanations.get(key):
            errors[key] = _("epigrid holds %(live)s for this figure: explain the difference.") % {
                "live": _live_text(field, figure)
            }
    kept = {
        k: v
        for k, v in explanations.items()
        if k in figures and not schema.same(form.field(k), values[k], figures[k])
    }
    return values, figures, kept, errors


def live_figures(form, unit, day, sender=None):
    """The figures epigrid holds for the form's fields: the area's (reports.live) or, for a form
    sent by records, what the sender's kind supplies."""
    if form.sender_kind:
        kind = form.senders
        return kind.live(form, sender, day) if kind.live and sender is not None else {}
    return live.figures(form, unit, day)


def _live_text(field, figure):
    if field["type"] == "bool":
        return _("none") if figure == 0 else str(figure)
    return str(figure)


def submit(user, form, unit, day, raw, explanations=None, zero=False, note="", now=None, sender=None):
    """Send (or correct) the unit's report for the day: one row per (form, unit, day) — per (form,
    sender, day) for a form sent by records, whose `unit` is then the sender's area (pass None) —
    whatever the retries. The first sending decides `late`; later ones count revisions (an
    identical retry changes nothing)."""
    if form.sender_kind:
        kind = form.senders
        if not form.active or not isinstance(sender, kind.model):
            raise ValidationError(_("This form is sent by a %(kind)s.") % {"kind": kind.label})
        unit = kind.area_of(sender)
        if user is not None and not may_send_for(user, form, sender):
            raise PermissionDenied(_("You may not send reports for %(sender)s.") % {"sender": sender})
    else:
        sender = None
        if not form.active or unit is None or unit.level != form.unit_level:
            raise ValidationError(_("This unit does not send this report."))
        if user is not None and not may_send_area(user, unit):
            raise PermissionDenied(_("You may not send reports for this unit."))
    now = now or timezone.now()
    if day > timezone.localdate(now):
        raise ValidationError(_("A report cannot be sent for a day still to come."))
    zero = bool(zero or form.kind == ReportForm.Kind.ZERO)
    if zero and not form.allows_zero:
        raise ValidationError(_("This form has no zero report."))
    values, figures, kept, errors = clean_submission(form, unit, day, raw, explanations, zero, sender)
    if errors:
        raise ValidationError(errors)
    fields = {
        "values": values,
        "live": figures,
        "explanations": kept,
        "zero": zero,
        "note": (note or "").strip()[:500],
        "submitted_at": now,
        "submitted_by": user,
    }
    sender_id = sender.pk if sender is not None else None
    try:
        return _write(form, unit, sender_id, day, fields, now)
    except IntegrityError:
        # Two taps at once: the other one created the row first; this one updates it.
        return _write(form, unit, sender_id, day, fields, now)


def _rows_of(form, unit, sender_id):
    """A unit's rows of a form, or a sender's for a form sent by records."""
    if sender_id is not None:
        return Submission.objects.filter(form=form, sender_id=sender_id)
    return Submission.objects.filter(form=form, unit=unit, sender_id__isnull=True)


def submission_for(form, unit, sender_id, day):
    return _rows_of(form, unit, sender_id).filter(day=day)


def _write(form, unit, sender_id, day, fields, now):
    with transaction.atomic():
        row = submission_for(form, unit, sender_id, day).select_for_update().first()
        if row is None:
            row = Submission(
                form=form,
                unit=unit,
                sender_id=sender_id,
                day=day,
                first_submitted_at=now,
                late=now > form.deadline(day),
            )
            for name, value in fields.items():
                setattr(row, name, value)
            row.save()
            _written(form, row)
            return row
        content = ("values", "explanations", "zero", "note")
        if all(_json(getattr(row, n)) == _json(fields[n]) for n in content):
            return row  # a retry of what is stored
        for name, value in fields.items():
            setattr(row, name, value)
        row.revision += 1
        row.save()
        _written(form, row)
        return row


def _written(form, row):
    """A record's report is new or changed: its sender kind's `on_submit`, in this transaction."""
    kind = form.senders
    if kind is not None and kind.on_submit is not None:
        kind.on_submit(form, row)


def _json(value):
    return json.dumps(value, sort_keys=True, default=str)


# -- roll-up ----------------------------------------------------------------------------------


def status_of(row, form, day, now=None):
    """sent / late / zero / missing (not yet due) / overdue for one unit's row (None: nothing)."""
    now = now or timezone.now()
    if row is None:
        return "overdue" if now > form.deadline(day) else "pending"
    if row.zero:
        return "zero_late" if row.late else "zero"
    return "late" if row.late else "on_time"


def _children(root, form):
    """The rows of the roll-up under `root`: its children down to the units' level, or the root
    itself when it is a unit (or below). A form sent by records rolls up by every level down to
    the leaves; records filed on the root itself get the root's own row."""
    if form.sender_kind:
        return [*Area.objects.filter(parent=root).order_by("path"), root]
    if root.level >= form.unit_level:
        return [root]
    return list(Area.objects.filter(parent=root).order_by("path"))


def _expected(form, day, root_area):
    """The expected units (areas of the level) or senders under `root_area`, and the path of the
    area each is filed under, as a queryset to group."""
    if form.sender_kind:
        kind = form.senders
        return kind.under(kind.expected_queryset(day), root_area.path), f"{kind.area_field}__path"
    return Area.objects.filter(level=form.unit_level, path__startswith=root_area.path), "path"


def rollup(form, day, root_area):
    """Per child area of `root_area`: expected units, received, on time, late, zero, missing and
    the sums of the numeric fields; in SQL, two grouped queries whatever the number of units.
    Returns a list of dicts (area, expected, received, on_time, late, zero, missing, sums)."""
    children = _children(root_area, form)
    if not children:
        return []
    # The root's own row (records filed on it) is reached by the shorter paths, not by a length.
    lengths = {len(c.path) for c in children if c != root_area} or {len(root_area.path)}
    by_path = {c.path: c for c in children}
    numeric = form.numeric_keys()
    expected, received = {}, {}
    units, path_field = _expected(form, day, root_area)
    for length in lengths:
        # A path shorter than the prefix (a record filed on the root) comes out whole: the root's row.
        prefix = Substr(path_field, 1, length)
        for r in (
            units.annotate(child=prefix)
            .values("child")
            .annotate(n=Count("id"))
            .order_by()
        ):
            if r["child"] in by_path:
                expected[r["child"]] = r["n"]
        sums = {f"sum_{k}": Sum(Cast(KT(f"values__{k}"), SUM_FIELD)) for k in numeric}
        for r in (
            Submission.objects.filter(form=form, day=day, unit__path__startswith=root_area.path)
            .annotate(child=Substr("unit__path", 1, length))
            .values("child")
            .annotate(
                received=Count("id"),
                late=Count("id", filter=Q(late=True)),
                zero=Count("id", filter=Q(zero=True)),
                **sums,
            )
            .order_by()
        ):
            if r["child"] in by_path:
                received[r["child"]] = r
    rows = []
    for child in children:
        got = received.get(child.path, {})
        n_expected = expected.get(child.path, 0)
        n_received = got.get("received", 0)
        if child == root_area and form.sender_kind and not (n_expected or n_received):
            continue  # no record filed on the root itself: no row for it
        rows.append(
            {
                "area": child,
                "expected": n_expected,
                "received": n_received,
                "late": got.get("late", 0),
                "on_time": n_received - got.get("late", 0),
                "zero": got.get("zero", 0),
                "missing": max(n_expected - n_received, 0),
                "sums": {k: _number(got.get(f"sum_{k}")) for k in numeric},
            }
        )
    return rows


def _number(value):
    if value is None:
        return 0
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else value


def totals(rows, form):
    keys = ("expected", "received", "on_time", "late", "zero", "missing")
    total = {k: sum(r[k] for r in rows) for k in keys}
    total["sums"] = {k: sum(r["sums"][k] for r in rows) for k in form.numeric_keys()}
    return total


def unit_rows(form, day, root_area):
    """Every unit under `root_area` with its row for the day (None: nothing sent), in path order:
    the export's and the drill-down's last level. For a form sent by records: every expected
    record with its row, in the order of their areas."""
    if form.sender_kind:
        kind = form.senders
        found = list(
            kind.under(kind.expected_queryset(day), root_area.path)
            .select_related(f"{kind.area_field}__parent")
            .order_by(f"{kind.area_field}__path", "pk")
        )
        rows = {
            s.sender_id: s
            for s in Submission.objects.filter(form=form, day=day, unit__path__startswith=root_area.path)
        }
        return [(r, rows.get(r.pk)) for r in found]
    units = list(
        Area.objects.filter(level=form.unit_level, path__startswith=root_area.path)
        .select_related("parent")
        .order_by("path")
    )
    rows = {
        s.unit_id: s
        for s in Submission.objects.filter(form=form, day=day, unit__path__startswith=root_area.path)
    }
    return [(u, rows.get(u.pk)) for u in units]


def missing_units(form, day, root_area, limit=None, viewer=None):
    """The units under `root_area` that have not sent the day's report, with the officers granted
    on each (name, phone) to chase: a list of dicts (area, officers), in path order (the first
    `limit` of them when given). Each officer's `shown_phone` is the full number only for a
    `viewer` holding the reveal right over the unit (None: a command or export job), else masked,
    like every other phone (an auditor follows the roll-up without that right)."""
    if form.sender_kind:
        return _missing_senders(form, day, root_area, limit, viewer)
    sent = Submission.objects.filter(form=form, day=day, unit__path__startswith=root_area.path).values(
        "unit_id"
    )
    units = list(
        Area.objects.filter(level=form.unit_level, path__startswith=root_area.path)
        .exclude(pk__in=sent)
        .select_related("parent")
        .order_by("path")[:limit]
    )
    officers = _officers(units)
    _show_phones(units, officers, viewer)
    return [{"area": u, "officers": officers.get(u.pk, [])} for u in units]


def _officers(areas):
    officers = {}
    for grant in (
        Grant.objects.filter(area__in=areas, role__in=CONTACT_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    ):
        officers.setdefault(grant.area_id, []).append(grant.user)
    return officers


def _show_phones(areas, officers, viewer):
    for area in areas:
        full = may_at(viewer, "people.reveal_person", area)
        for officer in officers.get(area.pk, []):
            officer.shown_phone = officer.phone if full or not officer.phone else identity.mask_phone(officer.phone)


def _missing_senders(form, day, root_area, limit, viewer):
    """The expected records under `root_area` that have not sent the day's report, each with its
    area and the officers granted on that area (phones as `missing_units` shows them)."""
    kind = form.senders
    sent = Submission.objects.filter(
        form=form, day=day, unit__path__startswith=root_area.path, sender_id__isnull=False
    ).values("sender_id")
    found = list(
        kind.under(kind.expected_queryset(day), root_area.path)
        .exclude(pk__in=sent)
        .select_related(f"{kind.area_field}__parent")
        .order_by(f"{kind.area_field}__path", "pk")[:limit]
    )
    areas = {kind.area_of(r).pk: kind.area_of(r) for r in found}
    officers = _officers(list(areas.values()))
    _show_phones(list(areas.values()), officers, viewer)
    return [
        {"area": kind.area_of(r), "sender": r, "officers": officers.get(kind.area_of(r).pk, [])} for r in found
    ]


def history(form, unit, days=14, until=None, sender=None):
    """The unit's (or sender's) last `days` days, newest first: (day, submission or None, deadline)."""
    until = until or timezone.localdate()
    since = until - datetime.timedelta(days=days - 1)
    rows = _rows_of(form, unit, sender.pk if sender is not None else None).filter(day__range=(since, until))
    rows = {s.day: s for s in rows}
    return [
        (d, rows.get(d), form.deadline(d)) for d in (until - datetime.timedelta(days=n) for n in range(days))
    ]


# -- records that send reports (decision 0033) ------------------------------------------------


def completeness(form, sender_ids, since, until, now=None):
    """Per sender id: days expected in [since, until] (the days whose deadline has passed), reports
    received, on time, late and zero: one grouped query for any number of senders."""
    now = now or timezone.now()
    due_days = [
        since + datetime.timedelta(days=n)
        for n in range((until - since).days + 1)
        if form.deadline(since + datetime.timedelta(days=n)) <= now
    ]
    out = {
        pk: {"expected": len(due_days), "received": 0, "on_time": 0, "late": 0, "zero": 0} for pk in sender_ids
    }
    for r in (
        Submission.objects.filter(form=form, sender_id__in=list(sender_ids), day__range=(since, until))
        .values("sender_id")
        .annotate(
            received=Count("id"),
            late=Count("id", filter=Q(late=True)),
            zero=Count("id", filter=Q(zero=True)),
        )
        .order_by()
    ):
        row = out[r["sender_id"]]
        row.update(received=r["received"], late=r["late"], zero=r["zero"], on_time=r["received"] - r["late"])
    return out


def values_by_sender(form, sender_ids, days):
    """{(sender id, day): values} of the senders' reports on the given days."""
    return {
        (r.sender_id, r.day): r.values
        for r in Submission.objects.filter(form=form, sender_id__in=list(sender_ids), day__in=list(days)).only(
            "sender_id", "day", "values"
        )
    }
