"""The one way in for enterprises and sites back to work (decision 0034).

- The roster: `add_employee` finds the person in the registry by document
  (`people.services.find_by_document`, the lookup charged for a role that may not reveal) and links
  them — nobody retypes a name, phone or address; a document not in the registry is refused with
  what to do. `roster` shows each employee's household, grid, key-person status
  (`control.services.key_person_columns`), latest test (`results.services.latest_result_columns`), card
  and today's temperatures, masked.
- The card 一人一卡: `fill_card` answers the questions of the protocol in force
  (`control.services.employee_card_questions`), stored with that protocol version.
- Gate temperatures: `record_temperature` records who measured (the logged-in user, never a
  value typed for the employee by themselves); ≥ 37.3 ℃ is a fever.
- PPE: `set_ppe` counts stock; `ppe_cover` gives days of cover per item against the three-day rule.
- The application: `start_application` → `submit` → `approve` (conditionally) → `pass_check` →
  `issue_permit`, `refuse` with a reason at any step after the draft; the phase's earliest date is
  checked at submission and at the permit. Each move locks the row, then goes through
  `Application.transition` (a conditional UPDATE): two reviewers cannot both move it.

A `user` of None is the system (the demo, a command)."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.services import log_reveal
from epigrid.control import services as control
from epigrid.core import identity, reasons
from epigrid.core.scoping import may
from epigrid.enterprises.models import (
    FEVER,
    PPE_RULE_DAYS,
    Application,
    Employee,
    EmployeeCard,
    PPEStock,
    TemperatureReading,
    days_of_cover,
    today_bounds,
)
from epigrid.people import services as people
from epigrid.results import services as results
from epigrid.testing import services as testing

S = Application.Status
REVIEW = "enterprises.review_application"
APPLY = "enterprises.change_application"
ADD_EMPLOYEE = "enterprises.add_employee"
CHANGE_EMPLOYEE = "enterprises.change_employee"
MEASURE = "enterprises.add_temperaturereading"
CARD = "enterprises.add_employeecard"
PPE = "enterprises.change_ppestock"
# Fields of the register only its keepers (communities, streets) change, not the enterprise's contact.
REGISTER_FIELDS = ("uscc", "kind", "size", "phase", "area", "contact_logins")


def _check(user, obj, perm):
    """Refuse a user without `perm` over the object (None: the system, which may)."""
    if user is None:
        return
    if not type(obj).objects.restrict(user, perm=perm).filter(pk=obj.pk).exists():
        raise PermissionDenied(_("You may not do this for this enterprise."))


def _text(value):
    return (value or "").strip()


def _reason(value, message):
    # Two letters or characters at least: "." typed to get past the form is not a reason.
    text = _text(value)
    if sum(ch.isalnum() for ch in text) < 2:
        raise ValidationError(message, code="reason")
    return text


def reveal_contact_phone(user, enterprise, reason):
    """The contact's full phone, after a reason; logged like a person's reveal."""
    if not user.has_scoped_perm("people.reveal_person") or not may(user, enterprise, "view"):
        raise PermissionDenied
    reason = reasons.clean_reason(reason)
    log_reveal(enterprise, ("contact_phone",), reason)
    return identity.display_phone(enterprise.contact_phone) if enterprise.contact_phone else ""


# -- the roster -----------------------------------------------------------------------------------


def find_person(user, doc_type, doc_number):
    """The registry's person holding this document, or a clear refusal. The exact lookup is charged
    to a role that may not reveal (decision 0015): a roster must not become a way to test numbers."""
    try:
        number = identity.normalise_document(doc_type, doc_number)
    except ValidationError as exc:
        raise ValidationError(exc.messages, code="document") from None
    people.charge_lookups(user, [number])
    person = people.find_by_document(doc_type, number)
    if person is None:
        raise ValidationError(
            _(
                "%(doc)s is not in the resident registry. Ask the community where the employee lives "
                "to register them first; the roster links registered persons, it does not retype them."
            )
            % {"doc": identity.mask_document(number)},
            code="not_registered",
        )
    return person


def add_employee(user, enterprise, doc_type, doc_number, department=""):
    """(employee, created): the registered person on the enterprise's roster; already there, the
    same row (put back on the roster if they had left it)."""
    _check(user, enterprise, ADD_EMPLOYEE)
    person = find_person(user, doc_type, doc_number)
    return link_employee(enterprise, person, department)


def link_employee(enterprise, person, department=""):
    department = _text(department)[:60]
    existing = Employee.objects.filter(enterprise=enterprise, person=person).first()
    if existing is not None:
        changed = []
        if not existing.is_active:
            existing.is_active, changed = True, ["is_active"]
        if department and department != existing.department:
            existing.department = department
            changed.append("department")
        if changed:
            existing.save(update_fields=changed)
        return existing, False
    try:
        with transaction.atomic():
            return Employee.objects.create(enterprise=enterprise, person=person, department=department), True
    except IntegrityError:  # a concurrent add of the same person won: use it
        return Employee.objects.get(enterprise=enterprise, person=person), False


def remove_employee(user, employee):
    _check(user, employee, CHANGE_EMPLOYEE)
    if employee.is_active:
        employee.is_active = False
        employee.save(update_fields=["is_active"])
    return employee


def staff_count(enterprise):
    return enterprise.employees.filter(is_active=True).count()


def roster(enterprise, day=None):
    """The active employees with what the registry and the other modules know of them, masked:
    [{employee, name, doc, phone, household, grid, key_person, test, card, temperatures, fever}]."""
    day = day or timezone.localdate()
    start, end = today_bounds(day)
    employees = list(
        enterprise.employees.filter(is_active=True)
        .select_related("person__household__building", "person__area__parent")
        .annotate(**results.latest_result_columns("person"), **control.key_person_columns("person"))
        .order_by("person__name_key", "pk")
    )
    protocol = _active_protocol()
    carded = (
        set(
            EmployeeCard.objects.filter(employee__in=employees, protocol=protocol).values_list(
                "employee_id", flat=True
            )
        )
        if protocol
        else set()
    )
    temps = {}
    for reading in TemperatureReading.objects.filter(
        employee__in=employees, measured_at__gte=start, measured_at__lt=end
    ).order_by("measured_at", "pk"):
        temps.setdefault(reading.employee_id, []).append(reading)
    rows = []
    for e in employees:
        person = e.person
        household = person.household
        readings = temps.get(e.pk, [])
        rows.append(
            {
                "employee": e,
                "name": person.name,
                "doc": person.masked_doc_number,
                "phone": person.masked_phone if person.phone else "",
                "household": _address(household),
                "grid": person.area.full_label() if person.area_id else "",
                "key_person": {
                    "category": e.key_person_category,
                    "category_display": control.key_person_category_label(e.key_person_category),
                }
                if e.key_person_category
                else None,
                "test": results.describe_result(e.latest_columns_result, e.latest_columns_sampled_at),
                "card": e.pk in carded,
                "temperatures": readings,
                "fever": any(r.fever for r in readings),
            }
        )
    return rows


def _address(household):
    if household is None:
        return ""
    building = household.building.name if household.building_id else ""
    unit = f"{household.unit}单元" if household.unit and household.unit.isdigit() else household.unit
    return " ".join(p for p in (building, unit, household.room) if p)


def _active_protocol():
    try:
        return control.active_protocol()
    except ValidationError:
        return None


# -- the card 一人一卡 -------------------------------------------------------------------------------


def card_questions():
    """(protocol, questions) in force; (None, []) without an active protocol."""
    try:
        return control.employee_card_questions()
    except ValidationError:
        return None, []


def clean_answers(questions, answers):
    """Answers to the questions only, each checked by its type; every question needs an answer."""
    cleaned, errors = {}, []
    for q in questions:
        value = answers.get(q["key"])
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ""):
            errors.append(_("Answer “%(q)s”.") % {"q": q["label"]})
            continue
        kind = q.get("type", "text")
        if kind == "yes_no":
            if value not in ("yes", "no", True, False):
                errors.append(_("“%(q)s”: answer yes or no.") % {"q": q["label"]})
                continue
            value = "yes" if value in ("yes", True) else "no"
        elif kind == "date":
            try:
                value = datetime.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                errors.append(_("“%(q)s”: give a date as YYYY-MM-DD.") % {"q": q["label"]})
                continue
        elif kind == "choice" and value not in q.get("choices", []):
            errors.append(_("“%(q)s”: choose one of the options.") % {"q": q["label"]})
            continue
        cleaned[q["key"]] = str(value)[:200]
    if errors:
        raise ValidationError(errors)
    return cleaned


def flagged_answers(questions, answers):
    """The questions whose answer is one that needs attention (a trip to a risk area, a symptom)."""
    out = []
    for q in questions:
        flag = q.get("flag")
        value = answers.get(q["key"])
        if (
            flag is not None
            and value is not None
            and (value in flag if isinstance(flag, list) else value == flag)
        ):
            out.append(q["label"])
    return out


def fill_card(user, employee, answers, now=None):
    """The employee's card under the protocol in force: answered once, answered again updates it;
    a card of an earlier protocol version stays as it was answered."""
    _check(user, employee, CARD)
    protocol, questions = card_questions()
    if protocol is None:
        raise ValidationError(_("No protocol is active. An administrator must choose one."))
    if not questions:
        raise ValidationError(
            _("The protocol in force (%(p)s) asks no employee-card questions.") % {"p": protocol.short_name}
        )
    cleaned = clean_answers(questions, answers)
    with transaction.atomic():
        card, _created = EmployeeCard.objects.select_for_update().get_or_create(
            employee=employee,
            protocol=protocol,
            defaults={"answers": cleaned, "filled_by": user, "filled_at": now or timezone.now()},
        )
        if not _created and card.answers != cleaned:
            card.answers, card.filled_by, card.filled_at = cleaned, user, now or timezone.now()
            card.save()
    return card


# -- gate temperatures ----------------------------------------------------------------------------


def parse_temperature(value):
    try:
        temperature = Decimal(str(value).strip().replace("℃", "").replace("°C", "")).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Give the temperature as a number, e.g. 36.5."), code="temperature") from None
    if not Decimal("34.0") <= temperature <= Decimal("43.0"):
        raise ValidationError(_("A body temperature lies between 34.0 and 43.0 °C."), code="temperature")
    return temperature


def record_temperature(user, employee, value, measured_at=None):
    """A gate reading, recorded by `user` — who measured it. The employee's own account cannot
    record their own temperature: a self-typed reading proves nothing."""
    if user is None:
        raise ValidationError(_("A gate temperature is recorded by the person who measured it."))
    _check(user, employee, MEASURE)
    if not employee.is_active:
        raise ValidationError(_("%(name)s is no longer on the roster.") % {"name": employee.person.name})
    reading = TemperatureReading(
        employee=employee,
        temperature=parse_temperature(value),
        measured_at=measured_at or timezone.now(),
        measured_by=user,
    )
    reading.save()
    return reading


def fevers(enterprise, day=None):
    start, end = today_bounds(day)
    return TemperatureReading.objects.filter(
        employee__enterprise=enterprise, measured_at__gte=start, measured_at__lt=end, fever=True
    )


# -- PPE -----------------------------------------------------------------------------------------


def set_ppe(user, enterprise, item, stock, daily_use, unit=None, now=None):
    """The counted stock of one item (counting again replaces the figure)."""
    _check(user, enterprise, PPE)
    values = {
        "stock": Decimal(str(stock)),
        "daily_use": Decimal(str(daily_use)),
        "counted_at": now or timezone.now(),
    }
    if unit:
        values["unit"] = unit
    candidate = PPEStock(enterprise=enterprise, item=item, **values)
    candidate.clean()
    if item not in PPEStock.Item.values:
        raise ValidationError(_("Unknown item."))
    with transaction.atomic():
        row = PPEStock.objects.select_for_update().filter(enterprise=enterprise, item=item).first()
        if row is None:
            try:
                with transaction.atomic():
                    return PPEStock.objects.create(enterprise=enterprise, item=item, **values)
            except IntegrityError:
                row = PPEStock.objects.select_for_update().get(enterprise=enterprise, item=item)
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        return row


def ppe_cover(enterprise, staff=None):
    """Per item: stock, daily use, days of cover = stock ÷ (staff × daily use), and `short` below
    the three-day rule."""
    staff = staff_count(enterprise) if staff is None else staff
    rows = []
    for stock in enterprise.ppe.order_by("item"):
        days = days_of_cover(stock.stock, staff, stock.daily_use)
        rows.append(
            {"stock": stock, "staff": staff, "days": days, "short": days is not None and days < PPE_RULE_DAYS}
        )
    return rows


def ppe_short_q(prefix=""):
    """Enterprises (or, with a prefix, rows reaching one) with an item below the three-day rule:
    stock < 3 × staff × daily use, in SQL, for the list's filter."""
    from django.db.models import Exists, F, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    staff = (
        Employee.objects.filter(enterprise=OuterRef("enterprise"), is_active=True)
        .order_by()
        .values("enterprise")
        .annotate(n=Count("*"))
        .values("n")
    )
    short = (
        PPEStock.objects.filter(enterprise=OuterRef(f"{prefix}pk"))
        .annotate(staff=Coalesce(Subquery(staff), 0))
        .filter(stock__lt=PPE_RULE_DAYS * F("staff") * F("daily_use"))
    )
    return Q(Exists(short))


# -- the application ------------------------------------------------------------------------------


def _lock(application):
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("enterprise__phase")
        .get(pk=application.pk)
    )


def current_application(enterprise):
    """The open application, else the latest one (None: never applied)."""
    apps = enterprise.applications.order_by("-created_at", "-pk")
    return apps.filter(status__in=Application.OPEN).first() or apps.first()


def latest_permit(enterprise):
    """The application whose permit was issued last (None: no permit yet). A later application,
    open or refused, does not take back a permit already issued."""
    return (
        enterprise.applications.filter(status=S.PERMITTED)
        .select_related("enterprise__area__parent", "enterprise__phase")
        .order_by("-permitted_at", "-pk")
        .first()
    )


def phase_check(enterprise, day):
    """Refuse a return before the enterprise's phase allows it, saying from when."""
    phase = enterprise.phase
    if phase is not None and day < phase.earliest_on:
        raise ValidationError(
            _(
                "Enterprises of the phase “%(phase)s” may return to work from %(earliest)s at the earliest; "
                "%(day)s is too early."
            )
            % {"phase": phase.name, "earliest": phase.earliest_on.isoformat(), "day": day.isoformat()},
            code="phase",
        )


DRAFT_FIELDS = (
    "planned_start",
    "prevention_plan",
    "emergency_plan",
    "isolation_room",
    "commitment",
    "commitment_by",
)


def start_application(user, enterprise, planned_start, **fields):
    """A draft application; refused while another one is open."""
    _check(user, enterprise, "enterprises.add_application")
    if enterprise.applications.filter(status__in=Application.OPEN).exists():
        raise ValidationError(_("This enterprise already has an open application."), code="open")
    values = {k: v for k, v in fields.items() if k in DRAFT_FIELDS}
    try:
        with transaction.atomic():
            return Application.objects.create(
                enterprise=enterprise, planned_start=planned_start, created_by=user, **values
            )
    except IntegrityError:
        raise ValidationError(_("This enterprise already has an open application."), code="open") from None


def update_draft(user, application, **fields):
    _check(user, application, APPLY)
    with transaction.atomic():
        application = _lock(application)
        if application.status != S.DRAFT:
            raise ValidationError(_("Only a draft can be edited; this application has been submitted."))
        for name, value in fields.items():
            if name in DRAFT_FIELDS:
                setattr(application, name, value)
        application.save()
    return application


def submit(user, application, now=None):
    """Draft → submitted: a roster, both plans and the signed commitment, and a planned date the
    phase allows."""
    _check(user, application, APPLY)
    now = now or timezone.now()
    with transaction.atomic():
        application = _lock(application)
        enterprise = application.enterprise
        staff = staff_count(enterprise)
        missing = []
        if not staff:
            missing.append(_("the staff roster (at least one employee)"))
        if not _text(application.prevention_plan):
            missing.append(_("the prevention plan"))
        if not _text(application.emergency_plan):
            missing.append(_("the emergency plan"))
        if not application.commitment or not _text(application.commitment_by):
            missing.append(_("the commitment, signed"))
        if missing:
            raise ValidationError(
                _("The application cannot be submitted without %(missing)s.")
                % {"missing": "、".join(map(str, missing))},
                code="incomplete",
            )
        phase_check(enterprise, application.planned_start)
        return application.transition(S.SUBMITTED, staff_count=staff, submitted_at=now)


def approve(user, application, conditions="", now=None):
    """Submitted → conditionally approved, with the conditions to meet before the on-site check."""
    _check(user, application, REVIEW)
    with transaction.atomic():
        application = _lock(application)
        return application.transition(
            S.CONDITIONAL,
            note=_text(conditions),
            conditions=_text(conditions),
            approved_at=now or timezone.now(),
        )


def pass_check(user, application, note="", now=None):
    """Conditionally approved → on-site check passed: every employee on the roster has a card
    under the protocol in force and every PPE item covers three days."""
    _check(user, application, REVIEW)
    with transaction.atomic():
        application = _lock(application)
        if application.status == S.CONDITIONAL:
            problems = check_problems(application.enterprise)
            if problems:
                raise ValidationError(problems, code="check")
        return application.transition(
            S.CHECKED, note=_text(note), check_note=_text(note), checked_at=now or timezone.now()
        )


def check_problems(enterprise):
    """What stops the on-site check from passing (the rule's cards and three days of PPE)."""
    problems = []
    employees = enterprise.employees.filter(is_active=True)
    protocol, questions = card_questions()
    if protocol is not None and questions:
        without = employees.exclude(cards__protocol=protocol).count()
        if without:
            problems.append(
                _("%(n)d employees have no card under %(p)s (one card per employee).")
                % {"n": without, "p": protocol.short_name}
            )
    cover = ppe_cover(enterprise)
    if not cover:
        problems.append(_("No PPE stock has been counted."))
    for row in cover:
        if row["short"]:
            problems.append(
                _("%(item)s covers %(days)s days, less than the %(rule)d days required.")
                % {"item": row["stock"].get_item_display(), "days": row["days"], "rule": PPE_RULE_DAYS}
            )
    return problems


def issue_permit(user, application, permitted_from=None, now=None):
    """On-site check passed → permit issued, valid from a day the phase allows (by default the
    planned date, or today if that has passed)."""
    _check(user, application, REVIEW)
    now = now or timezone.now()
    with transaction.atomic():
        application = _lock(application)
        day = permitted_from or max(application.planned_start, timezone.localdate(now))
        phase_check(application.enterprise, day)
        number = (
            f"FG{application.enterprise.area.code[-6:]}{timezone.localdate(now):%y%m%d}{application.pk:05d}"
        )
        days = [row["days"] for row in ppe_cover(application.enterprise) if row["days"] is not None]
        return application.transition(
            S.PERMITTED,
            permit_number=number,
            permitted_from=day,
            permitted_at=now,
            ppe_days_at_permit=min(days) if days else None,
        )


def refuse(user, application, reason, now=None):
    """Refused at the step it stands at, with the reason the enterprise reads."""
    _check(user, application, REVIEW)
    reason = _reason(reason, _("Give the reason for the refusal."))
    with transaction.atomic():
        application = _lock(application)
        step = application.status
        return application.transition(
            S.REFUSED, note=reason, refusal_reason=reason, refused_in=step, refused_at=now or timezone.now()
        )


# -- coverage, figures ----------------------------------------------------------------------------


def testing_coverage(enterprise, limit=5):
    """The staff's coverage in the latest testing rounds (testing's named function)."""
    ids = list(enterprise.employees.filter(is_active=True).values_list("person_id", flat=True))
    return testing.persons_coverage(ids, limit=limit)


def fever_threshold():
    return FEVER
