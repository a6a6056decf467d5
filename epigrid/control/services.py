"""Named service functions of the control app. Other apps (testing, checkpoints, tracing) put a
person in the key-person ledger only through `register_key_person`."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.areas.models import Level
from epigrid.audit.services import log_transition
from epigrid.control import plans
from epigrid.control.models import CheckIn, ControlMeasure, HandOver, KeyPerson, Protocol, TestRecord, Zone


def active_protocol():
    protocol = Protocol.objects.filter(is_active=True).first()
    if protocol is None:
        raise ValidationError(_("No protocol is active. An administrator must choose one."))
    return protocol


def register_key_person(person, category, area, **fields):
    """Put `person` in the ledger under the active protocol with a plan; if they already have an
    open entry, that entry is returned instead (search before create). Returns (entry, created)."""
    existing = KeyPerson.objects.filter(person=person, status=KeyPerson.Status.OPEN).first()
    if existing is not None:
        return existing, False
    protocol = active_protocol()
    if not plans.is_traced(protocol.rules, category):
        raise ValidationError(
            _("Under %(protocol)s, this category is no longer managed.") % {"protocol": protocol.short_name}
        )
    try:
        with transaction.atomic():
            entry = KeyPerson.objects.create(
                person=person, category=category, area=area, protocol=protocol, **fields
            )
            _create_plan(entry, protocol)
    except IntegrityError:  # a concurrent registration of the same person won: use it
        return KeyPerson.objects.get(person=person, status=KeyPerson.Status.OPEN), False
    return entry, True


def measure_for_step(entry, protocol, sequence, step, today=None):
    """The unsaved ControlMeasure of one planned step, running if its day has come. The one place
    a step becomes a row: the service, the ledger import, the demo and the bench build through it
    (the last two then set the status their story needs)."""
    today = today or timezone.localdate()
    return ControlMeasure(
        key_person=entry,
        protocol=protocol,
        sequence=sequence,
        kind=step.measure,
        start=step.start,
        planned_end=step.end,
        test_dates=[d.isoformat() for d in step.test_dates],
        temps_per_day=step.temps_per_day,
        status=ControlMeasure.Status.ACTIVE if step.start <= today else ControlMeasure.Status.PLANNED,
    )


def planned_measures(entry, protocol, first_sequence=1, today=None):
    """The unsaved steps of the entry's plan under `protocol` (the ledger import writes them in
    bulk; _create_plan saves them one by one)."""
    steps = plans.plan(protocol.rules, entry.category, entry.anchor_date)
    return [
        measure_for_step(entry, protocol, sequence, step, today)
        for sequence, step in enumerate(steps, start=first_sequence)
    ]


def _create_plan(entry, protocol, first_sequence=1, today=None):
    measures = planned_measures(entry, protocol, first_sequence, today)
    for measure in measures:
        measure.save()
    return measures


def clear_assistance(entry, note=""):
    """The 协查 was answered: the deadline no longer counts against the area."""
    if not entry.assistance_received_at:
        raise ValidationError(_("This entry has no assistance request."))
    if entry.assistance_cleared_at is None:
        entry.assistance_cleared_at = timezone.now()
        entry.save()
        log_transition(entry, entry.status, entry.status, note or _("Assistance request cleared"))
    return entry


def record_test(measure, day, result, user=None):
    """Record the test of `day` (idempotent: the same day again updates its result)."""
    today = timezone.localdate()
    if day > today:
        raise ValidationError(_("A test cannot be recorded for a day still to come."))
    if day < measure.start or (measure.planned_end and day > measure.planned_end):
        raise ValidationError(_("%(day)s is outside this measure.") % {"day": day})
    record, _created = TestRecord.objects.update_or_create(
        measure=measure, day=day, defaults={"result": result, "recorded_by": user}
    )
    if result == TestRecord.Result.POSITIVE:
        log_transition(measure, measure.status, measure.status, _("Positive test on %(day)s") % {"day": day})
    return record


def handle_abnormal(checkin, outcome, note, user=None):
    """Record what was done about an abnormal reading (a fever or symptoms): it leaves the work
    lists, and the change log and the reading's history keep who did what, when and why."""
    if not checkin.is_abnormal:
        raise ValidationError(_("This reading is normal: there is nothing to handle."))
    if checkin.follow_up == CheckIn.FollowUp.HANDLED:
        raise ValidationError(_("This reading has already been handled."))
    if outcome not in CheckIn.Outcome.values:
        raise ValidationError(_("Choose what was done."))
    if not (note or "").strip():
        raise ValidationError(_("Say what was done."))
    return checkin.transition(
        CheckIn.FollowUp.HANDLED,
        note=f"{CheckIn.Outcome(outcome).label}: {note.strip()}",
        outcome=outcome,
        follow_up_note=note.strip(),
        handled_by=user,
        handled_at=timezone.now(),
    )


def to_hospital(measure, note):
    """Exception: the person is taken to hospital; the hospital looks after them meanwhile."""
    if not note.strip():
        raise ValidationError(_("Say which hospital and why."))
    return measure.transition("hospitalized", note=note)


def back_from_hospital(measure, note=""):
    return measure.transition("active", note=note or _("Back from hospital"))


def advance(today=None):
    """Start the steps whose first day has come (planned → in progress). Run daily
    (`epigrid control_advance`); pages also reason by dates, so a missed run hides nothing."""
    today = today or timezone.localdate()
    started = 0
    for measure in ControlMeasure.objects.filter(
        status="planned", start__lte=today, key_person__status="open"
    ):
        try:
            measure.transition("active", note=_("Started on schedule"))
            started += 1
        except ValidationError:  # moved by someone else meanwhile
            continue
    return started


def extend(measure, days, reason):
    if measure.status not in ControlMeasure.OPEN or measure.planned_end is None:
        raise ValidationError(_("Only a running measure with an end date can be extended."))
    if not reason.strip():
        raise ValidationError(_("Give the reason for the extension."))
    with transaction.atomic():
        measure.planned_end += datetime.timedelta(days=days)
        measure.save()
        later = list(
            measure.key_person.measures.filter(sequence__gt=measure.sequence, status="planned").order_by(
                "sequence"
            )
        )
        for step in later:  # the rest of the chain moves with it
            shift = datetime.timedelta(days=days)
            step.start += shift
            step.planned_end = step.planned_end + shift if step.planned_end else None
            step.test_dates = [(datetime.date.fromisoformat(d) + shift).isoformat() for d in step.test_dates]
            step.save()
        # Not a change of state, but it belongs in the record's history with its reason.
        note = _("Extended by %(days)d days to %(end)s: %(reason)s") % {
            "days": days,
            "end": measure.planned_end,
            "reason": reason,
        }
        log_transition(measure, measure.status, measure.status, note)
    return measure


def release_early(measure, reason):
    if not reason.strip():
        raise ValidationError(_("Give the reason for the early release."))
    return measure.transition("released_early", note=reason, ended_on=timezone.localdate())


def release(entry, note=""):
    """解除: every step must be over (completed, released early or cancelled)."""
    open_steps = entry.measures.filter(status__in=ControlMeasure.OPEN)
    today = timezone.localdate()
    with transaction.atomic():
        for measure in open_steps:
            if measure.planned_end is None or measure.planned_end > today:
                raise ValidationError(
                    _("%(measure)s runs until %(end)s; release it early with a reason or wait.")
                    % {"measure": measure.get_kind_display(), "end": measure.planned_end or "—"}
                )
            if measure.status == "planned":
                measure.transition("active")
            measure.transition("completed", ended_on=measure.planned_end)
        return entry.transition("released", note=note)


def hand_over(entry, area, note="", user=None):
    """The person moved. One rule for pages and API: into an area where `user` may change entries
    (or with no user: a command, a job) the entry moves at once; elsewhere a HandOver request
    is made, which the receiving area accepts or returns. Returns the request, or None when the
    entry moved."""
    if entry.status != KeyPerson.Status.OPEN:
        raise ValidationError(_("Only an open entry can be handed over."))
    if area.pk == entry.area_id:
        raise ValidationError(_("The entry is already in this area."))
    if area.level < Level.COMMUNITY:
        raise ValidationError(_("Hand the entry over to a community or a grid."))
    if entry.handovers.filter(status=HandOver.Status.REQUESTED).exists():
        raise ValidationError(_("A hand-over of this entry is already waiting for the receiving area."))
    paths = user.scope_paths("control.change_keyperson") if user is not None else None
    if paths is None or any(area.path.startswith(p) for p in paths):
        _move(entry, area, note)
        return None
    try:
        with transaction.atomic():
            request = HandOver.objects.create(
                key_person=entry, from_area=entry.area, to_area=area, note=note, requested_by=user
            )
            log_transition(request, "", HandOver.Status.REQUESTED, note)
    except IntegrityError:  # a concurrent or retried request made it first
        raise ValidationError(
            _("A hand-over of this entry is already waiting for the receiving area.")
        ) from None
    return request


def accept_hand_over(request, note=""):
    """The receiving area takes the entry over: it moves into that area's lists."""
    with transaction.atomic():
        request.transition(HandOver.Status.ACCEPTED, note, answer=note)
        _move(request.key_person, request.to_area, request.note)
    return request


def return_hand_over(request, note):
    """The receiving area refuses the entry (the person is not there, ...), saying why."""
    if not (note or "").strip():
        raise ValidationError(_("Say why the entry is returned."))
    return request.transition(HandOver.Status.RETURNED, note, answer=note)


def _move(entry, area, note):
    entry.area = area
    entry.notes = "\n".join(filter(None, [entry.notes, _("Handed over: %(note)s") % {"note": note}]))
    entry.save()


def switch_preview(protocol, today=None):
    """[(entry, old steps, new steps)] for every open entry whose plan would change."""
    today = today or timezone.localdate()
    changes = []
    for entry in KeyPerson.objects.filter(status="open").select_related("protocol", "person"):
        old = [
            (m.kind, m.start, m.planned_end) for m in entry.measures.filter(status__in=ControlMeasure.OPEN)
        ]
        rules = protocol.rules
        new = [
            (s.measure, s.start, s.end)
            for s in plans.plan(rules, entry.category, entry.anchor_date)
            if (s.end or today) >= today
        ]
        if old != new:
            changes.append((entry, old, new))
    return changes


@transaction.atomic
def activate(protocol, today=None):
    """Make `protocol` the active one and re-plan every open entry's remaining steps."""
    today = today or timezone.localdate()
    Protocol.objects.filter(is_active=True).exclude(pk=protocol.pk).update(is_active=False)
    protocol.is_active = True
    protocol.save()
    for entry in KeyPerson.objects.filter(status="open"):
        _replan(entry, protocol, today)


def _replan(entry, protocol, today):
    open_steps = list(entry.measures.filter(status__in=ControlMeasure.OPEN).order_by("sequence"))
    last = entry.measures.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    for measure in open_steps:
        measure.transition("cancelled", note=_("Re-planned under %(p)s") % {"p": protocol.short_name})
    entry.protocol = protocol
    entry.save()
    if not plans.is_traced(protocol.rules, entry.category):
        entry.transition("closed", note=_("No longer managed under %(p)s") % {"p": protocol.short_name})
        return
    for measure in _create_plan(entry, protocol, first_sequence=last + 1, today=today):
        if measure.planned_end is not None and measure.planned_end < today:  # shorter rules: already served
            measure.transition(
                "completed",
                note=_("Already over under %(p)s") % {"p": protocol.short_name},
                ended_on=measure.planned_end,
            )


# -- risk zones --------------------------------------------------------------------------------


def draw_zone(area, level, started_on, building=None, unit="", rules_text="", last_case_on=None):
    zone = Zone(
        area=area,
        building=building,
        unit=unit,
        level=level,
        protocol=active_protocol(),
        started_on=started_on,
        last_case_on=last_case_on,
        rules_text=rules_text,
    )
    zone.full_clean()
    zone.save()
    return zone


def record_case(zone, day):
    """A new case inside the zone restarts its case-free count."""
    if zone.last_case_on is None or day > zone.last_case_on:
        zone.last_case_on = day
        zone.save()
    return zone


def zone_households(zone):
    from epigrid.areas.models import Household

    households = Household.objects.filter(area__path__startswith=zone.area.path)
    if zone.building_id:
        households = households.filter(building=zone.building)
    if zone.unit:
        households = households.filter(unit=zone.unit)
    return households


def zone_persons(zone):
    from epigrid.people.models import Person

    persons = Person.objects.filter(merged_into__isnull=True, area__path__startswith=zone.area.path)
    if zone.building_id:
        persons = persons.filter(household__in=zone_households(zone))
    return persons


def holds_above(user, perm, zone, level):
    """The user holds `perm` through a grant on an area at `level` or above containing the zone."""
    from epigrid.areas.models import Area

    paths = user.scope_paths(perm)
    if paths is None:
        return True
    containing = [p for p in paths if zone.area.path.startswith(p)]
    return Area.objects.filter(path__in=containing, level__lte=level).exists()


def apply_lifting(zone, user, note="", today=None):
    from epigrid.areas.models import Level

    today = today or timezone.localdate()
    if not holds_above(user, "control.apply_zone", zone, Level.STREET):
        raise PermissionDenied(_("Only the street (or above) applies for lifting a zone."))
    next_level, may_from = zone.downgrade()
    if may_from is not None and today < may_from:
        raise ValidationError(
            _("%(days)d case-free days so far; this zone may be downgraded from %(date)s.")
            % {"days": zone.case_free_days(today), "date": may_from}
        )
    return zone.transition("applied", note=note)


def evaluate_lifting(zone, user, approve, note=""):
    from epigrid.areas.models import Level

    if not holds_above(user, "control.evaluate_zone", zone, Level.DISTRICT):
        raise PermissionDenied(_("Only the district evaluates an application to lift a zone."))
    return zone.transition("evaluated" if approve else "active", note=note)


def approve_lifting(zone, user, approve, note="", today=None):
    """The city's decision: the zone drops to the protocol's next level (a new period starts) or,
    at the lowest level, is lifted; a refusal puts it back in force."""
    from epigrid.areas.models import Level

    today = today or timezone.localdate()
    if not holds_above(user, "control.approve_zone", zone, Level.CITY):
        raise PermissionDenied(_("Only the city approves lifting a zone."))
    if zone.status != Zone.Status.EVALUATED:
        raise ValidationError(_("Only an application the district has evaluated can be approved."))
    if not approve:
        return zone.transition("active", note=note)
    next_level, _date = zone.downgrade()
    if next_level is None or next_level == zone.protocol.rules["zones"].get("lift_at"):
        # e.g. 第九版's 低风险区 is the rest of the county: reaching it lifts the zone.
        return zone.transition("lifted", note=note)
    return zone.transition("active", note=note or _("Downgraded"), level=next_level, started_on=today)


# -- the end of a centralized step at an isolation site (isolation.services.check_out) ---------


def end_centralized_step(measure, reason="", today=None):
    """The person left the isolation site: the centralized step ends — completed once its planned
    end has come, released early (with `reason`) before. An early end moves the planned steps after
    it earlier (as `extend` moves them later) so that the next one starts today, the day the person
    is home, keeping its length and test days; at the planned end the next step starts the next
    day as planned. A next step whose first day has come starts now (the rest by `advance`).
    Returns the next step, or None when the plan has no further step (the entry is then
    released)."""
    today = today or timezone.localdate()
    if measure.status not in ("planned", "active"):
        raise ValidationError(_("Only a running step can end."))
    early = measure.planned_end is not None and today < measure.planned_end
    if early and not (reason or "").strip():
        raise ValidationError(_("Give the reason for the early release."))
    with transaction.atomic():
        if measure.status == "planned":
            measure.transition("active")
        # The steps after it still to serve (one may already run: `advance` starts a step whose
        # first day came before the person left).
        later = list(
            measure.key_person.measures.filter(
                sequence__gt=measure.sequence, status__in=("planned", "active")
            ).order_by("sequence")
        )
        if early:
            release_early(measure, reason)
            shift = measure.planned_end - today + datetime.timedelta(days=1)
            for step in later:
                if step.status != "planned":
                    continue
                step.start -= shift
                step.planned_end = step.planned_end - shift if step.planned_end else None
                step.test_dates = [
                    (datetime.date.fromisoformat(d) - shift).isoformat() for d in step.test_dates
                ]
                step.save()
        else:
            measure.transition("completed", note=reason, ended_on=measure.planned_end or today)
        if not later:
            if not measure.key_person.measures.filter(status__in=ControlMeasure.OPEN).exists():
                release(measure.key_person, reason)
            return None
        if later[0].status == "planned" and later[0].start <= today:
            later[0].transition("active", note=_("Started on leaving centralized isolation"))
        return later[0]


def key_person_columns(person_ref="pk"):
    """Annotations for a queryset holding a person key (`person_ref`, e.g. "person_id"): the category
    of the person's open key-person entry (`key_person_category`, None when not under control), as
    one correlated subquery on the one-open-entry-per-person index — the one way other apps (the
    shop and enterprise staff ledgers) read a person's key-person status: in the list's own query,
    whatever its length. Show it with `key_person_category_label`."""
    from django.db.models import OuterRef, Subquery

    entries = KeyPerson.objects.filter(person=OuterRef(person_ref), status=KeyPerson.Status.OPEN)
    return {"key_person_category": Subquery(entries.values("category")[:1])}


def key_person_category_label(category):
    """The display label of a key-person category value (None → "")."""
    from epigrid.control.models import Category

    return str(dict(Category.choices).get(category, category)) if category else ""


# For other apps (enterprises, decision 0034): what the protocol says, by name.


def employee_card_questions(protocol=None):
    """(protocol, questions) of the employee card 一人一卡 under `protocol` (by default the active
    one): the questions are the protocol's data ("employee_card" in its rules), not code. Each
    question: {"key", "label", "type": "yes_no" | "text" | "date" | "choice", "choices"?,
    "flag"? — the answer that needs attention}. A protocol without the list asks nothing."""
    protocol = protocol or active_protocol()
    questions = (protocol.rules or {}).get("employee_card") or []
    return protocol, [q for q in questions if isinstance(q, dict) and q.get("key") and q.get("label")]
