"""Named service functions of contact tracing (decision 0025): the one way in for pages, API and demo.

A case is opened once per person (search before create); a contact is a case's link to a registered
person, once per case and person; confirming a close or secondary contact puts the person in the
key-person ledger through `control.services.register_key_person` with the last contact as the
anchor. A contact who becomes a case keeps the contact record, and the new case points at it."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.control import services as control
from epigrid.control.models import KeyPerson, Source
from epigrid.core.scoping import may, may_at
from epigrid.tracing import rules
from epigrid.tracing.models import Case, Contact, TrajectoryEntry

ADD_CASE = "tracing.add_case"


def _require(user, obj, action="change"):
    if user is not None and not may(user, obj, action):
        raise PermissionDenied(_("You may not change this record."))


# Cases


def open_case(
    user,
    person,
    *,
    sampled_on,
    positive_at,
    classification=Case.Classification.CONFIRMED,
    onset_date=None,
    area=None,
    team=None,
    cluster=None,
    reported_at=None,
    notes="",
):
    """The case of `person` under the active protocol; their existing case if there is one (a
    person is a case once). A person who was a contact of an earlier case is linked to that contact
    (the chain), and their open key-person entry to the case. Returns (case, created)."""
    person = person.merged_into or person
    existing = Case.objects.filter(person=person).first()
    if existing is not None:
        return existing, False
    area = area or person.area
    if not may_at(user, ADD_CASE, area):
        raise PermissionDenied(_("You may not open cases in %(area)s.") % {"area": area.name})
    today = timezone.localdate()
    if sampled_on > today or (onset_date and onset_date > today):
        raise ValidationError(_("Dates of a case cannot be in the future."))
    if positive_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError(_("The time the positive was known cannot be in the future."))
    protocol = control.active_protocol()
    if "tracing" not in protocol.rules:
        raise ValidationError(
            _(
                "%(protocol)s has no tracing rules (look-back window, deadlines); an administrator must add them."
            )
            % {"protocol": protocol.short_name}
        )
    source = (
        Contact.objects.filter(person=person)
        .exclude(status=Contact.Status.DISMISSED)
        .order_by("-last_contact", "-id")
        .first()
    )
    entry = KeyPerson.objects.filter(person=person, status=KeyPerson.Status.OPEN).first()
    try:
        with transaction.atomic():
            case = Case.objects.create(
                person=person,
                area=area,
                team=team,
                classification=classification,
                protocol=protocol,
                key_person=entry,
                source_contact=source,
                cluster=cluster or (source.cluster if source else None),
                onset_date=onset_date,
                sampled_on=sampled_on,
                positive_at=positive_at,
                reported_at=reported_at,
                notes=notes,
            )
    except IntegrityError:  # a concurrent opening for the same person won: use it
        return Case.objects.get(person=person), False
    return case, True


CASE_STEPS = {"reported": "reported_at", "trajectory": "trajectory_done_at", "report": "report_done_at"}


def mark(user, case, step, at=None):
    """Stop one of the case's clocks (positive reported, trajectory finished, preliminary report).
    Marking again keeps the first time: a retried tap changes nothing."""
    field = CASE_STEPS.get(step)
    if field is None:
        raise ValidationError(_("Unknown step."))
    _require(user, case)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if getattr(case, field) is None:
            setattr(case, field, at or timezone.now())
            case.save()
    return case


def close_case(user, case, note=""):
    _require(user, case)
    return case.transition(Case.Status.CLOSED, note=note)


def add_stop(user, case, **fields):
    """One stop of the trajectory; dates after today are refused."""
    _require(user, case)
    if fields["date"] > timezone.localdate():
        raise ValidationError(_("A trajectory date cannot be in the future."))
    if fields.get("time_from") and fields.get("time_to") and fields["time_to"] < fields["time_from"]:
        raise ValidationError(_("The stop ends before it starts."))
    stop = TrajectoryEntry(case=case, **fields)
    stop.full_clean()
    stop.save()
    return stop


def window(case):
    """(first, last) day of the case's look-back window under its protocol."""
    return rules.lookback_window(
        case.protocol.rules, case.onset_date, case.sampled_on, timezone.localdate(case.positive_at)
    )


# Contacts


def traces(case, contact_class):
    """Whether the case's protocol still manages this class of contact (a general contact is only
    recorded)."""
    return contact_class == Contact.Class.GENERAL or rules.is_traced(case.protocol.rules, contact_class)


def add_contact(
    user,
    case,
    person,
    *,
    contact_class=Contact.Class.CLOSE,
    setting=Contact.Setting.OTHER,
    closeness=Contact.Closeness.CLOSE,
    last_contact,
    via=None,
    stop=None,
    cluster=None,
    note="",
    proposed_by=Contact.Proposer.TRACER,
    now=None,
):
    """Link `person` to `case` as a contact (proposed). The same person again returns their record
    (created False). Refused: the case's own person, a last contact outside the look-back window,
    a class the protocol no longer traces."""
    _require(user, case)
    person = person.merged_into or person
    if person.pk == case.person_id:
        raise ValidationError(_("A case is not their own contact."))
    first, _last = window(case)
    if last_contact < first:
        raise ValidationError(
            _("The last contact (%(day)s) is before the look-back window, which starts on %(first)s.")
            % {"day": last_contact, "first": first}
        )
    if last_contact > timezone.localdate():
        raise ValidationError(_("The last contact cannot be in the future."))
    if not traces(case, contact_class):
        raise ValidationError(
            _("Under %(protocol)s, %(kind)s are no longer traced.")
            % {"protocol": case.protocol.short_name, "kind": Contact.Class(contact_class).label}
        )
    if via is not None and via.case_id != case.pk:
        raise ValidationError(_("A secondary contact is met through a contact of the same case."))
    if stop is not None and stop.case_id != case.pk:
        raise ValidationError(_("The stop is on another case's trajectory."))
    existing = Contact.objects.filter(case=case, person=person).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                case=case,
                person=person,
                contact_class=contact_class,
                setting=setting,
                closeness=closeness,
                last_contact=last_contact,
                via=via,
                stop=stop,
                cluster=cluster or (stop.cluster if stop else None) or case.cluster,
                note=note,
                proposed_by=proposed_by,
                identified_at=now or timezone.now(),
            )
    except IntegrityError:
        return Contact.objects.get(case=case, person=person), False
    return contact, True


def confirm_contact(user, contact, note="", now=None):
    """Confirm a proposed contact. A close or secondary contact enters the key-person ledger in
    their own area under the protocol's category, anchored on the last contact (an open entry is
    kept: search before create). Confirming again changes nothing."""
    _require(user, contact)
    with transaction.atomic():
        contact = (
            Contact.objects.select_for_update()
            .select_related("case__protocol", "person__area")
            .get(pk=contact.pk)
        )
        if contact.status == Contact.Status.CONFIRMED:
            return contact
        if contact.status == Contact.Status.DISMISSED:
            raise ValidationError(_("This contact was dismissed; propose it again first."))
        if not traces(contact.case, contact.contact_class):
            raise ValidationError(
                _("Under %(protocol)s, %(kind)s are no longer traced.")
                % {"protocol": contact.case.protocol.short_name, "kind": contact.get_contact_class_display()}
            )
        if note:
            contact.note = note[:200]  # saved by the transition
        fields = {}
        category = rules.category_of(contact.contact_class)
        if category is not None:
            person = contact.person
            entry, _created = control.register_key_person(
                person,
                category,
                person.area,
                source=Source.TRACING,
                last_exposure=contact.last_contact,
                # The case by its person, not its number: officials know the case by name, and a
                # rebuilt district (the demo) gives the same note.
                notes=_("Contact of case %(name)s") % {"name": contact.case.person.name},
            )
            fields.update(key_person=entry, controlled_at=now or timezone.now())
        return contact.transition(Contact.Status.CONFIRMED, note=note, **fields)


def dismiss_contact(user, contact, note):
    _require(user, contact)
    if not note.strip():
        raise ValidationError(_("Say why this person is not a contact."))
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if contact.status == Contact.Status.DISMISSED:
            return contact
        contact.note = note[:200]  # saved by the transition: the page shows why
        return contact.transition(Contact.Status.DISMISSED, note=note)


def repropose_contact(user, contact, note=""):
    _require(user, contact)
    return contact.transition(Contact.Status.PROPOSED, note=note)


# The building rule (Shanghai 2022): it proposes, a person confirms.


def floor_of(room):
    """The floor of a room number: 502 → 5, 1203 → 12, 5 → None (a bungalow or an unnumbered room)."""
    digits = "".join(ch for ch in room if ch.isdigit())
    if len(digits) < 3:
        return None
    return int(digits[:-2])


def building_proposals(case, own_facilities):
    """[(person, class, setting, closeness)] of the persons in the case's building under the rule:
    with its own kitchen and bathroom the household is close and the floors ±1 of the same unit
    secondary; otherwise the case's floor is close and the rest of the building secondary. Classes
    the protocol no longer traces are left out; persons already linked to the case are skipped."""
    from epigrid.people.models import Person

    household = case.person.household
    if household is None:
        return []
    floor = floor_of(household.room)
    linked = set(Contact.objects.filter(case=case).values_list("person_id", flat=True))
    residents = (
        Person.objects.filter(household__building_id=household.building_id, merged_into__isnull=True)
        .exclude(pk=case.person_id)
        .select_related("household")
        .order_by("household__unit", "household__room", "id")
    )
    proposals = []
    for person in residents:
        if person.pk in linked:
            continue
        other = person.household
        same_household = other.pk == household.pk
        their_floor = floor_of(other.room)
        if own_facilities:
            if same_household:
                proposals.append(
                    (person, Contact.Class.CLOSE, Contact.Setting.HOUSEHOLD, Contact.Closeness.LIVING)
                )
            elif (
                other.unit == household.unit
                and floor is not None
                and their_floor is not None
                and abs(their_floor - floor) <= 1
            ):
                proposals.append(
                    (
                        person,
                        Contact.Class.SECONDARY,
                        Contact.Setting.BUILDING,
                        Contact.Closeness.SHARED_SPACE,
                    )
                )
        elif same_household:
            proposals.append(
                (person, Contact.Class.CLOSE, Contact.Setting.HOUSEHOLD, Contact.Closeness.LIVING)
            )
        elif floor is not None and their_floor == floor and other.unit == household.unit:
            proposals.append(
                (person, Contact.Class.CLOSE, Contact.Setting.BUILDING, Contact.Closeness.SHARED_SPACE)
            )
        else:
            proposals.append(
                (person, Contact.Class.SECONDARY, Contact.Setting.BUILDING, Contact.Closeness.BRIEF)
            )
    return [p for p in proposals if traces(case, p[1])]


def propose_building(user, case, own_facilities):
    """Add the building rule's proposals as contacts to confirm. Returns the number added."""
    _require(user, case)
    last = timezone.localdate(case.positive_at)
    added = 0
    with transaction.atomic():
        for person, contact_class, setting, closeness in building_proposals(case, own_facilities):
            _contact, created = add_contact(
                user,
                case,
                person,
                contact_class=contact_class,
                setting=setting,
                closeness=closeness,
                last_contact=last,
                proposed_by=Contact.Proposer.BUILDING_RULE,
            )
            added += created
    return added


# Deadlines


def _due(start, hours):
    return start + datetime.timedelta(hours=hours) if start is not None and hours else None


def case_deadlines(case, now=None):
    """Each clock of the case: (key, due, done_at, state) with state done / late (done after the due
    time) / overdue / open."""
    now = now or timezone.now()
    hours = rules.deadline_hours(case.protocol.rules)
    out = []
    for key, field in CASE_STEPS.items():
        due = _due(case.positive_at, hours.get(key))
        done = getattr(case, field)
        out.append((key, due, done, _state(due, done, now)))
    return out


def contact_due(contact, rules_of_case):
    key = {"close": "close_controlled", "secondary": "secondary_controlled"}.get(contact.contact_class)
    return _due(contact.identified_at, rules.deadline_hours(rules_of_case).get(key)) if key else None


def _state(due, done, now):
    if done is not None:
        return "late" if due is not None and done > due else "done"
    if due is not None and now > due:
        return "overdue"
    return "open"


def overdue_cases(cases, now=None):
    """The open cases with a clock past its deadline, as one filter (one OR per protocol in use)."""
    now = now or timezone.now()
    q = Q()
    for protocol_id, protocol_rules in _protocols(cases):
        hours = rules.deadline_hours(protocol_rules)
        late = Q()
        for key, field in CASE_STEPS.items():
            if hours.get(key):
                late |= Q(
                    **{
                        f"{field}__isnull": True,
                        "positive_at__lt": now - datetime.timedelta(hours=hours[key]),
                    }
                )
        q |= Q(protocol_id=protocol_id) & late
    return cases.filter(status=Case.Status.OPEN).filter(q) if q else cases.none()


def overdue_contacts(contacts, now=None):
    """Close and secondary contacts not under control past their deadline."""
    now = now or timezone.now()
    q = Q()
    for protocol_id, protocol_rules in _protocols(Case.objects.filter(pk__in=contacts.values("case_id"))):
        hours = rules.deadline_hours(protocol_rules)
        for contact_class, key in (("close", "close_controlled"), ("secondary", "secondary_controlled")):
            if hours.get(key):
                q |= Q(
                    case__protocol_id=protocol_id,
                    contact_class=contact_class,
                    identified_at__lt=now - datetime.timedelta(hours=hours[key]),
                )
    if not q:
        return contacts.none()
    return contacts.filter(status=Contact.Status.PROPOSED).filter(q)


def _protocols(cases):
    from epigrid.control.models import Protocol

    ids = cases.order_by().values("protocol_id").distinct()
    return Protocol.objects.filter(pk__in=ids).values_list("pk", "rules")


# Search before create: a contact from outside the registry


def find_or_register(user, case, *, name, doc_type, doc_number, phone="", note=""):
    """The registered person holding this document, or a new record filed under the case's area as a
    person from elsewhere (外地人员, residence type migrant) when nobody does. Returns (person,
    created). The number is checked (check digit and birth date) before anything is looked up;
    a role without the reveal right is charged the lookup (decision 0015)."""
    from epigrid.people import services as people
    from epigrid.people.models import Person, ResidenceType

    person = Person(
        name=name.strip(),
        doc_type=doc_type,
        doc_number=doc_number,
        phone=phone,
        area=case.area,
        residence_type=ResidenceType.MIGRANT,
        notes=note or _("Registered by contact tracing (case %(case)s).") % {"case": case.pk},
    )
    person.clean()  # normalises and validates the number and the phone, with field messages
    people.charge_lookups(user, [person.doc_number])
    existing = people.find_by_document(person.doc_type, person.doc_number)
    if existing is not None:
        return existing, False
    if not may_at(user, "people.add_person", case.area):
        raise PermissionDenied(_("You may not register persons in %(area)s.") % {"area": case.area.name})
    person.full_clean(exclude=["doc_number_rev", "name_key"])
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:  # registered concurrently under the same document
        return people.find_by_document(person.doc_type, person.doc_number), False
    return person, True


# Reads for other apps


def case_addresses(case):
    """Where a case lived and went, for the terminal disinfection 终末消毒 of each: the home (the
    person's household, or their area when no household is registered) and every place of the
    trajectory not spent at home, once per address. A list of dicts: kind ("home" / "place"),
    key (stable per address), area, building (or None), address (text), date (None for the home).
    The places are filed under the case's responsible area: a trajectory names no area node."""
    person = case.person
    found = []
    if person.household_id:
        household = person.household
        found.append(
            {
                "kind": "home",
                "key": f"household:{household.pk}",
                "area": household.area,
                "building": household.building,
                "address": f"{household.area.full_label()} {household.address}",
                "date": None,
            }
        )
    else:
        found.append(
            {
                "kind": "home",
                "key": f"area:{person.area_id}",
                "area": person.area,
                "building": None,
                "address": person.area.full_label(),
                "date": None,
            }
        )
    seen = set()
    stops = TrajectoryEntry.objects.filter(case=case, stayed_home=False).order_by("date", "pk")
    for stop in stops:
        text = " ".join(part for part in (stop.place, stop.venue, stop.address) if part).strip()
        if not text or text in seen:
            continue
        seen.add(text)
        found.append(
            {
                "kind": "place",
                "key": f"stop:{stop.pk}",
                "area": case.area,
                "building": None,
                "address": text[:200],
                "date": stop.date,
            }
        )
    return found
