"""The one way shops and markets change (decision 0035): outlets found before they are created,
the daily report's changes and alerts (computed by `markets.alerts` from the report values the
`reports` app holds, read through `markets.reporting`), baselines, the shop staff ledger linked to
registry persons, inspections, closures of live-poultry points with their re-inspection, the
wildlife ledger.

Each write locks the row it changes (or relies on a unique constraint), so two inspectors or a
retried request neither lose nor duplicate a record."""

import datetime
import json
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.services import log_reveal
from epigrid.core import identity, reasons
from epigrid.core.scoping import may, may_at
from epigrid.markets import alerts as calc
from epigrid.markets import reporting
from epigrid.markets.models import (
    Baseline,
    Closure,
    Commodity,
    Inspection,
    Outlet,
    PriceAlert,
    ShopStaff,
    WildlifeCheck,
)

ADD_OUTLET = "markets.add_outlet"
CHANGE_OUTLET = "markets.change_outlet"
INSPECT = "markets.add_inspection"
CLOSE = "markets.add_closure"
REINSPECT = "markets.change_closure"
HANDLE_ALERT = "markets.change_pricealert"
TREND_DAYS = 14


def _deny(user, perm, area, message):
    if not may_at(user, perm, area):
        raise PermissionDenied(message)


# Outlets


def find_outlet(area, name):
    return Outlet.objects.filter(area=area, name=name.strip()).first()


def save_outlet(actor, outlet=None, **fields):
    """Create (search before create: the same name in the same area node is that outlet, returned
    with created=False) or update an outlet. Returns (outlet, created)."""
    area = fields.get("area") or (outlet.area if outlet else None)
    if area is None:
        raise ValidationError({"area": _("Choose the area of the outlet.")})
    _deny(actor, CHANGE_OUTLET if outlet else ADD_OUTLET, area, _("You may not keep outlets in this area."))
    if fields.get("name"):
        fields["name"] = fields["name"].strip()
    with transaction.atomic():
        if outlet is None:
            existing = find_outlet(area, fields.get("name", ""))
            if existing is not None:
                return existing, False
            outlet = Outlet(**fields)
        else:
            outlet = Outlet.objects.select_for_update(of=("self",)).get(pk=outlet.pk)
            for name, value in fields.items():
                setattr(outlet, name, value)
        outlet.full_clean()
        try:
            with transaction.atomic():
                outlet.save()
        except IntegrityError:
            existing = find_outlet(area, outlet.name)
            if existing is None or outlet.pk:
                raise ValidationError(
                    _("An outlet of this name is already registered in this area.")
                ) from None
            return existing, False
    return outlet, True


def reveal_phone(user, outlet, reason):
    """The full contact phone of one outlet, after a reason; logged like a person's reveal."""
    if not user.has_scoped_perm("people.reveal_person") or not may(user, outlet, "view"):
        raise PermissionDenied
    reason = reasons.clean_reason(reason)
    log_reveal(outlet, ("phone",), reason)
    return identity.display_phone(outlet.phone) if outlet.phone else ""


# The catalogue and baselines


def catalogue():
    """The active catalogue items in their order."""
    return list(Commodity.objects.filter(active=True).order_by("order", "code"))


def thresholds(items=None):
    return {
        c.code: (c.spike_percent, c.short_stock_days) for c in (items if items is not None else catalogue())
    }


def baselines_for(area):
    """{code: price} of the baselines in force for `area`: per item, the nearest area up the tree."""
    paths = [area.path[: i + 1] for i, ch in enumerate(area.path) if ch == "/" and i > 0]
    rows = (
        Baseline.objects.filter(area__path__in=paths)
        .values_list("commodity__code", "price", "area__path")
        .order_by("area__path")
    )
    found = {}
    for code, price, path in rows:
        found[code] = (len(path), price) if len(path) > found.get(code, (0, None))[0] else found[code]
    return {code: price for code, (_depth, price) in found.items()}


def set_baseline(user, commodity, area, price=None, period_from=None, period_to=None, note=""):
    """Set the item's baseline in `area`: the typed price, or — without one — the mean price of
    the reports of the outlets in the area's subtree over the reference period."""
    _deny(user, "markets.add_baseline", area, _("You may not set baselines in this area."))
    if price is None:
        if not (period_from and period_to):
            raise ValidationError(_("Type a price or choose a reference period to average."))
        outlets = Outlet.objects.filter(area__path__startswith=area.path).values_list("pk", flat=True)
        rows = reporting.values_between(list(outlets), period_from, period_to)
        code = commodity.code
        price = calc.mean([calc.item_values(v, [code]).get(code, {}).get("price") for v in rows.values()])
        if price is None:
            raise ValidationError(
                _("No report priced %(item)s in this area between %(from)s and %(to)s.")
                % {"item": commodity.name, "from": period_from.isoformat(), "to": period_to.isoformat()}
            )
    with transaction.atomic():
        row, _created = Baseline.objects.select_for_update().get_or_create(
            commodity=commodity, area=area, defaults={"price": price}
        )
        row.price, row.period_from, row.period_to, row.note = price, period_from, period_to, note
        row.full_clean()
        row.save()
    return row


# Changes and alerts


def changes_of(outlet, day, values=None, yesterday=None, items=None):
    """{code: alerts.Change} of the outlet's report for `day` (values read from the reports when
    not given); {} without a report."""
    items = items if items is not None else catalogue()
    if values is None or yesterday is None:
        found = reporting.values_between([outlet.pk], day - datetime.timedelta(days=1), day)
        values = found.get((outlet.pk, day)) if values is None else values
        yesterday = (
            found.get((outlet.pk, day - datetime.timedelta(days=1))) if yesterday is None else yesterday
        )
    if not values:
        return {}
    return calc.changes(values, yesterday, baselines_for(outlet.area), [c.code for c in items])


def evaluate(outlet, day, values=None, yesterday=None):
    """Raise the alerts of the outlet's report for `day` and clear the open ones a corrected report
    no longer shows. Idempotent: evaluating twice changes nothing. The outlet's row is locked, so a
    report sent twice at once cannot raise an alert twice. Returns the open alerts of that day."""
    items = catalogue()
    by_code = {c.code: c for c in items}
    found = calc.alerts(changes_of(outlet, day, values, yesterday, items), thresholds(items))
    wanted = {(a.code, a.kind): a for a in found}
    with transaction.atomic():
        Outlet.objects.select_for_update(of=("self",)).filter(pk=outlet.pk).first()
        existing = {
            (a.commodity.code, a.kind): a
            for a in PriceAlert.objects.filter(outlet=outlet, day=day).select_related("commodity")
        }
        for key, alert in wanted.items():
            fields = {"value": alert.value, "reference": alert.reference, "change_pct": alert.change_pct}
            row = existing.get(key)
            if row is None:
                PriceAlert.objects.create(
                    outlet=outlet, commodity=by_code[alert.code], day=day, kind=alert.kind, **fields
                )
                continue
            if row.status == PriceAlert.Status.CLEARED:
                row.transition(PriceAlert.Status.OPEN, note=_("Raised again by a corrected report"), **fields)
            elif any(getattr(row, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(row, k, v)
                row.save()
        for key, row in existing.items():
            if key not in wanted and row.status == PriceAlert.Status.OPEN:
                row.transition(PriceAlert.Status.CLEARED, note=_("The corrected report no longer shows it"))
    return list(PriceAlert.objects.filter(outlet=outlet, day=day, status=PriceAlert.Status.OPEN))


def evaluate_day(day, outlets=None):
    """Evaluate every monitored outlet's report of `day` (the sweep `epigrid markets_alerts`, and
    the catch-up for reports sent where no hook ran). Returns the number of outlets evaluated."""
    outlets = list(outlets if outlets is not None else Outlet.objects.filter(monitored=True))
    found = reporting.values_between([o.pk for o in outlets], day - datetime.timedelta(days=1), day)
    done = 0
    for outlet in outlets:
        values = found.get((outlet.pk, day))
        if values is None:
            continue
        evaluate(outlet, day, values, found.get((outlet.pk, day - datetime.timedelta(days=1)), {}))
        done += 1
    return done


def submit_report(user, outlet, day, values, note="", now=None):
    """Send the outlet's daily report through the report forms (which raise its alerts through the
    sender kind's `on_submit`, `reporting.evaluate_report`)."""
    return reporting.submit(user, outlet, day, values, note=note, now=now)


def handle_alert(user, alert, note):
    """Mark an open alert handled with what was done (a call to the outlet, a price check, …)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"action_taken": _("Say what was done about the alert.")})
    with transaction.atomic():
        alert = PriceAlert.objects.select_for_update(of=("self",)).get(pk=alert.pk)
        if user is not None and not may(user, alert, "change"):
            raise PermissionDenied(_("You may not handle this outlet's alerts."))
        alert.transition(
            PriceAlert.Status.HANDLED,
            note=note,
            action_taken=note,
            handled_by=user,
            handled_at=timezone.now(),
        )
    return alert


def history(outlet, days=TREND_DAYS, until=None):
    """The outlet's reports over `days` days up to `until`: per day (newest first) the changes per
    item and whether it reported at all."""
    until = until or timezone.localdate()
    since = until - datetime.timedelta(days=days)
    found = reporting.values_between([outlet.pk], since, until)
    items = catalogue()
    codes = [c.code for c in items]
    base = baselines_for(outlet.area)
    rows = []
    for offset in range(days):
        day = until - datetime.timedelta(days=offset)
        values = found.get((outlet.pk, day))
        prev = found.get((outlet.pk, day - datetime.timedelta(days=1)))
        rows.append(
            {
                "day": day,
                "reported": values is not None,
                "changes": calc.changes(values, prev, base, codes) if values else {},
            }
        )
    return rows


def price_trend(outlets, commodity, days=TREND_DAYS, until=None):
    """[(day, mean, low, high, n)] of the item's price over the given outlets (a queryset already
    restricted to the viewer) for `days` days up to `until`."""
    until = until or timezone.localdate()
    since = until - datetime.timedelta(days=days - 1)
    found = reporting.values_between(list(outlets.values_list("pk", flat=True)), since, until)
    return calc.trend([(day, values) for (_o, day), values in found.items()], commodity.code)


# Shop staff


def add_staff(user, outlet, doc_type, doc_number, position="", **fields):
    """Put a registry person on the outlet's staff, found by their document (people's service):
    the ledger never retypes a person. A person not in the registry is refused with the way to
    register them; the same person twice is the existing row (created=False)."""
    from epigrid.people.services import charge_lookups, find_by_document, may_reveal

    if user is not None and not may(user, outlet, perm="markets.add_shopstaff"):
        raise PermissionDenied(_("You may not keep this outlet's staff ledger."))
    if user is not None and not may_reveal(user):
        charge_lookups(user, [doc_number])
    person = find_by_document(doc_type, doc_number)
    if person is None:
        raise ValidationError(
            {
                "doc_number": _(
                    "No person with this document is in the registry: register them as a resident first."
                )
            }
        )
    with transaction.atomic():
        row, created = ShopStaff.objects.get_or_create(
            outlet=outlet, person=person, defaults={"position": position, **fields}
        )
    return row, created


def staff_with_status(queryset):
    """The staff rows with each person's latest test (results' service) and key-person category
    (control's), as annotations: one query for a whole list."""
    from epigrid.control.services import key_person_columns
    from epigrid.results.services import latest_result_columns

    return queryset.annotate(**latest_result_columns("person_id"), **key_person_columns("person_id"))


def describe_status(row, now=None):
    """(test text, valid negative?, key-person category label) of an annotated staff row."""
    from epigrid.control.services import key_person_category_label
    from epigrid.results.services import describe_result

    result = describe_result(row.latest_columns_result, row.latest_columns_sampled_at, now=now)
    test = ""
    if result:
        test = f"{result['result_display']} {timezone.localtime(result['sampled_at']):%m-%d}"
    return test, bool(result and result["valid"]), key_person_category_label(row.key_person_category)


# Inspections, closures, wildlife


def record_inspection(
    user, outlet, result, findings="", inspected_on=None, close_reason="", reinspect_due=None, **checks
):
    """An inspector's visit. A result "closed" also closes the outlet (a live-poultry point) until a
    re-inspection, with the reason."""
    if user is not None and not may(user, outlet, perm=INSPECT):
        raise PermissionDenied(_("You may not inspect this outlet."))
    if result == Inspection.Result.CLOSED and not (close_reason or findings).strip():
        raise ValidationError({"findings": _("Give the reason for closing the outlet.")})
    with transaction.atomic():
        inspection = Inspection(
            outlet=outlet,
            result=result,
            findings=findings,
            inspector=user,
            inspected_on=inspected_on or timezone.localdate(),
            **checks,
        )
        inspection.full_clean()
        inspection.save()
        if result == Inspection.Result.CLOSED:
            close_outlet(
                user,
                outlet,
                close_reason or findings,
                closed_on=inspection.inspected_on,
                reinspect_due=reinspect_due,
            )
    return inspection


def close_outlet(user, outlet, reason, closed_on=None, reinspect_due=None):
    """Close the outlet until a re-inspection. A second closure of a closed outlet is refused (the
    partial unique constraint holds it against a concurrent one)."""
    if user is not None and not may(user, outlet, perm=CLOSE):
        raise PermissionDenied(_("You may not close this outlet."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for closing the outlet.")})
    closed_on = closed_on or timezone.localdate()
    if reinspect_due and reinspect_due < closed_on:
        raise ValidationError({"reinspect_due": _("The re-inspection cannot be due before the closure.")})
    with transaction.atomic():
        outlet = Outlet.objects.select_for_update(of=("self",)).get(pk=outlet.pk)
        if Closure.objects.filter(outlet=outlet, status__in=Closure.OPEN_STATES).exists():
            raise ValidationError(_("%(outlet)s is already closed.") % {"outlet": outlet.name})
        closure = Closure.objects.create(
            outlet=outlet, reason=reason, closed_on=closed_on, closed_by=user, reinspect_due=reinspect_due
        )
        outlet.is_open = False
        outlet.save()
    return closure


def reinspect(user, closure, findings, reopen, reason="", on=None, next_due=None):
    """Re-inspect a closed outlet: closed (or kept closed) → re-inspected → reopened, or kept
    closed with the reason and the next re-inspection's date. Both steps are in the history."""
    findings, reason = (findings or "").strip(), (reason or "").strip()
    if not findings:
        raise ValidationError({"findings": _("Record what the re-inspection found.")})
    if not reopen and not reason:
        raise ValidationError({"reason": _("Give the reason for keeping the outlet closed.")})
    on = on or timezone.localdate()
    with transaction.atomic():
        closure = Closure.objects.select_for_update(of=("self",)).select_related("outlet").get(pk=closure.pk)
        if user is not None and not may(user, closure, perm=REINSPECT):
            raise PermissionDenied(_("You may not re-inspect this outlet."))
        if on < closure.closed_on:
            raise ValidationError({"on": _("The re-inspection cannot be before the closure.")})
        closure.transition(
            Closure.Status.REINSPECTED,
            note=findings,
            reinspected_on=on,
            reinspection_findings=findings,
            reinspections=closure.reinspections + 1,
        )
        if reopen:
            closure.transition(
                Closure.Status.REOPENED, note=reason or findings, decision_reason=reason, reopened_on=on
            )
            outlet = Outlet.objects.select_for_update(of=("self",)).get(pk=closure.outlet_id)
            outlet.is_open = True
            outlet.save()
        else:
            closure.transition(
                Closure.Status.KEPT_CLOSED, note=reason, decision_reason=reason, reinspect_due=next_due
            )
    return closure


def record_wildlife(user, **fields):
    """A row of the wildlife ledger (the same site, species and date twice is the existing row)."""
    area = fields["area"]
    _deny(user, "markets.add_wildlifecheck", area, _("You may not keep the wildlife ledger in this area."))
    row = WildlifeCheck(**fields)
    row.full_clean(validate_constraints=False)
    with transaction.atomic():
        existing = WildlifeCheck.objects.filter(
            area=area, site=row.site, species=row.species, check_date=row.check_date
        ).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            return WildlifeCheck.objects.get(
                area=area, site=row.site, species=row.species, check_date=row.check_date
            ), False
    return row, True


CATALOGUE_FILE = Path(__file__).resolve().parent / "catalogue.json"


def load_catalogue(model=Commodity):
    """Ship the catalogue of `catalogue.json` (a data migration; items already there keep the
    thresholds an administrator set)."""
    for order, item in enumerate(json.loads(CATALOGUE_FILE.read_text(encoding="utf-8")), start=1):
        model.objects.get_or_create(
            code=item["code"],
            defaults={
                "name": item["name"],
                "name_en": item.get("name_en", ""),
                "unit": item.get("unit", "斤"),
                "spike_percent": Decimal(item.get("spike_percent", "10")),
                "short_stock_days": Decimal(item.get("short_stock_days", "3")),
                "order": order,
            },
        )
