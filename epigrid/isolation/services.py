"""The one way isolation rows change (pages, API and demo call these). Each move locks the room it
touches (select_for_update), so two officers allocating the last free room at once end with one
stay and one clear refusal, never two persons in a single room."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.control import services as control_services
from epigrid.control.models import FEVER_FROM, ControlMeasure, KeyPerson, TestRecord
from epigrid.control.worklists import CHECK_DEADLINES
from epigrid.control.worklists import _test_day as control_test_day
from epigrid.isolation.models import (
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
    Reading,
    Room,
    Site,
    Stay,
    WasteHandover,
)

ALLOCATE = "isolation.add_stay"
MOVE_STAY = "isolation.change_stay"
CHANGE_ROOM = "isolation.change_room"
RECORD_READING = "isolation.add_reading"
# Who may share a room with a companion 陪护: minors, the elderly (老年人: 60 and over by the
# Law on the Protection of the Rights of the Elderly) and disabled persons.
MINOR_UNDER = 18
ELDERLY_FROM = 60
NEEDS_COMPANION_TAGS = ("disabled",)
CENTRALIZED = "centralized"
OPEN_MEASURES = ("planned", "active")


def _require(user, model, perm, obj, message):
    if user is not None and not model.objects.restrict(user, perm=perm).filter(pk=obj.pk).exists():
        raise PermissionDenied(message)


def _age(person, today):
    born = person.birth_date
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def needs_companion(person, today=None):
    """A minor, an elderly or a disabled person may have a companion in their room."""
    age = _age(person, today or timezone.localdate())
    if age is not None and (age < MINOR_UNDER or age >= ELDERLY_FROM):
        return True
    return person.tags.filter(code__in=NEEDS_COMPANION_TAGS).exists()


def centralized_measure(entry):
    """The open centralized-isolation step of a key-person entry, or None."""
    if entry is None:
        return None
    return entry.measures.filter(kind=CENTRALIZED, status__in=OPEN_MEASURES).order_by("sequence").first()


def allocate(user, person, room, entry=None, companion_of=None, note="", now=None):
    """Put `person` in `room`. One person a room: a room with an active stay takes only a companion
    of the person in it (`companion_of`, needing one and with a bed left). `entry` (control's
    key-person entry) links the stay to its centralized step."""
    _require(user, Room, ALLOCATE, room, _("You may not allocate rooms of this site."))
    measure = None
    if entry is not None:
        if entry.person_id != person.pk:
            raise ValidationError(_("The key-person entry is another person's."), code="entry")
        measure = centralized_measure(entry)
        if measure is None:
            raise ValidationError(
                _("This key-person entry has no open centralized isolation step."), code="entry"
            )
    now = now or timezone.now()
    try:
        with transaction.atomic():
            # The lock that serialises allocations of this room: whoever comes second sees the first
            # one's stay below.
            room = Room.objects.select_for_update().select_related("site").get(pk=room.pk)
            in_room = list(Stay.objects.filter(room=room, status__in=Stay.ACTIVE).select_related("person"))
            _check_room(room, person, in_room, companion_of)
            stay = Stay.objects.create(
                person=person,
                measure=measure,
                site=room.site,
                room=room,
                companion_of=companion_of,
                allocated_at=now,
                allocated_by=user,
                note=note[:200],
            )
            if room.status == Room.Status.FREE:
                room.transition(Room.Status.OCCUPIED, note=_("Allocated to %(name)s") % {"name": person.name})
    except IntegrityError:
        # Another stay of this person became active first (a concurrent allocation elsewhere).
        raise ValidationError(
            _("%(name)s already has a room.") % {"name": person.name}, code="person"
        ) from None
    return stay


def _check_room(room, person, in_room, companion_of):
    if not room.site.is_active:
        raise ValidationError(_("This site is not taking persons."), code="site")
    if room.status in (Room.Status.CLEANING, Room.Status.OUT_OF_SERVICE):
        raise ValidationError(
            _("Room %(room)s is %(status)s.") % {"room": room.number, "status": room.get_status_display()},
            code="room",
        )
    if Stay.objects.filter(person=person, status__in=Stay.ACTIVE).exists():
        raise ValidationError(_("%(name)s already has a room.") % {"name": person.name}, code="person")
    if not in_room and companion_of is None:
        return
    if companion_of is None:
        raise ValidationError(
            _("Room %(room)s is taken: one person a room, unless as a companion.") % {"room": room.number},
            code="room_taken",
        )
    if companion_of.pk not in {s.pk for s in in_room} or companion_of.companion_of_id is not None:
        raise ValidationError(
            _("A companion shares the room of the person they accompany."), code="companion"
        )
    if not needs_companion(companion_of.person):
        raise ValidationError(
            _("Only a minor, an elderly or a disabled person may have a companion."), code="companion"
        )
    if len(in_room) >= room.beds:
        raise ValidationError(_("Room %(room)s has no bed left.") % {"room": room.number}, code="beds")


def _locked_stay(stay):
    return Stay.objects.select_for_update().select_related("room", "person").get(pk=stay.pk)


def check_in(user, stay, now=None):
    """The person arrived at the site."""
    _require(user, Stay, MOVE_STAY, stay, _("You may not change stays of this site."))
    with transaction.atomic():
        stay = _locked_stay(stay)
        return stay.transition(Stay.Status.CHECKED_IN, checked_in_at=now or timezone.now())


def check_out(user, stay, note="", now=None, early_reason=""):
    """The person left (released, or never came). A room someone lived in goes to cleaning once its
    last person left; a room only allocated is free again. A person checked in for a centralized
    step leaves through control: the step ends (before its planned end only with `early_reason`),
    the plan's next step starts and, if there is one, the person's community is to receive them
    at home (`home_step`)."""
    _require(user, Stay, MOVE_STAY, stay, _("You may not change stays of this site."))
    now = now or timezone.now()
    early_reason = (early_reason or "").strip()
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=stay.room_id)
        stay = _locked_stay(stay)
        was_in = stay.status == Stay.Status.CHECKED_IN
        fields = {"checked_out_at": now}
        if was_in and stay.measure_id is not None:
            fields["home_step"] = _end_step(stay, early_reason, timezone.localdate(now))
        stay.note = (note or early_reason)[:200] or stay.note
        stay.transition(Stay.Status.CHECKED_OUT, note=note or early_reason, **fields)
        _release_room(room, lived_in=was_in)
    return stay


def _end_step(stay, early_reason, today):
    """End the stay's centralized step through control; the step started at home, or None."""
    measure = ControlMeasure.objects.select_for_update().get(pk=stay.measure_id)
    if measure.status not in OPEN_MEASURES:
        return None  # ended already (on the entry's page, or to hospital): nothing to hand over
    if measure.planned_end and today < measure.planned_end and not early_reason:
        raise ValidationError(
            _(
                "%(name)s's centralized isolation runs until %(end)s. To let them leave before, "
                "give the reason for the early release."
            )
            % {"name": stay.person.name, "end": measure.planned_end},
            code="early",
        )
    return control_services.end_centralized_step(measure, early_reason, today=today)


def _release_room(room, lived_in):
    """After a stay ended: an emptied room goes to cleaning (or free, if nobody lived in it)."""
    others = Stay.objects.filter(room=room, status__in=Stay.ACTIVE)
    if others.exists() or room.status != Room.Status.OCCUPIED:
        return
    room.transition(Room.Status.CLEANING if lived_in else Room.Status.FREE)


def transfer(user, stay, room, note="", now=None):
    """Move a person (and their companions) to another room, here or at another site: the stay ends
    as transferred and a new one starts — checked in at once within the site, allocated at another
    site (the person still has to arrive)."""
    _require(user, Stay, MOVE_STAY, stay, _("You may not change stays of this site."))
    _require(user, Room, ALLOCATE, room, _("You may not allocate rooms of this site."))
    if room.pk == stay.room_id:
        raise ValidationError(_("The person is in this room already."), code="room")
    now = now or timezone.now()
    with transaction.atomic():
        # Both rooms locked in id order, so two opposite transfers cannot deadlock.
        rooms = {
            r.pk: r
            for r in Room.objects.select_for_update()
            .select_related("site")
            .filter(pk__in=[room.pk, stay.room_id])
            .order_by("pk")
        }
        old_room, new_room = rooms[stay.room_id], rooms[room.pk]
        stay = _locked_stay(stay)
        if stay.status not in Stay.ACTIVE:
            raise ValidationError(_("Only a current stay can be transferred."), code="status")
        if not new_room.site.is_active:
            raise ValidationError(_("This site is not taking persons."), code="site")
        moving = [
            stay,
            *Stay.objects.filter(companion_of=stay, status__in=Stay.ACTIVE).select_related("person"),
        ]
        if (
            new_room.status != Room.Status.FREE
            or Stay.objects.filter(room=new_room, status__in=Stay.ACTIVE).exists()
        ):
            raise ValidationError(
                _("Room %(room)s is not free.") % {"room": new_room.number}, code="room_taken"
            )
        if len(moving) > new_room.beds:
            raise ValidationError(
                _("Room %(room)s has no bed left.") % {"room": new_room.number}, code="beds"
            )
        lived_in = any(s.status == Stay.Status.CHECKED_IN for s in moving)
        same_site = new_room.site_id == old_room.site_id
        new_stays = {}
        for old in moving:
            checked_in = same_site and old.status == Stay.Status.CHECKED_IN
            old.transition(Stay.Status.TRANSFERRED, note=note, checked_out_at=now)
            new_stays[old.pk] = Stay.objects.create(
                person=old.person,
                measure_id=old.measure_id,
                site=new_room.site,
                room=new_room,
                companion_of=new_stays.get(old.companion_of_id),
                status=Stay.Status.CHECKED_IN if checked_in else Stay.Status.ALLOCATED,
                allocated_at=now,
                allocated_by=user,
                checked_in_at=now if checked_in else None,
                note=note[:200],
            )
        new_room.transition(Room.Status.OCCUPIED, note=note)
        _release_room(old_room, lived_in=lived_in)
    return new_stays[stay.pk]


# Hospital and back (decision 0024, addendum: hospital)

HOSPITALIZED = "hospitalized"


def to_hospital(user, stay, note, now=None):
    """A person checked in for a centralized step is taken to hospital 转院就医 (`note`: which
    hospital, why). The stay ends as `hospital` with its leaving time: the bed is not held, as
    others need rooms, and the emptied room goes to cleaning as at check-out. The step goes
    hospitalized through control (a step control already marked is followed, not marked again);
    the companions leave with the person. Idempotent: a stay already in hospital is answered as
    it is."""
    _require(user, Stay, MOVE_STAY, stay, _("You may not change stays of this site."))
    note = (note or "").strip()
    now = now or timezone.now()
    with transaction.atomic():
        # Room before stay, as check-out locks them, so the two cannot deadlock.
        room = Room.objects.select_for_update().get(pk=stay.room_id)
        stay = _locked_stay(stay)
        if stay.status == Stay.Status.HOSPITAL:
            return stay
        if stay.status != Stay.Status.CHECKED_IN:
            raise ValidationError(
                _("Only a person checked in at the site can be taken to hospital from it."), code="status"
            )
        if stay.measure_id is None:
            raise ValidationError(
                _("%(name)s has no centralized isolation measure here: check them out instead.")
                % {"name": stay.person.name},
                code="measure",
            )
        if not note:
            raise ValidationError(_("Say which hospital and why."), code="note")
        measure = ControlMeasure.objects.select_for_update().get(pk=stay.measure_id)
        if measure.status == ControlMeasure.Status.ACTIVE:
            control_services.to_hospital(measure, note)
        elif measure.status == ControlMeasure.Status.PLANNED:
            # Control moves a step to hospital only once it runs (planned → hospitalized is no
            # transition of its); the daily start makes it run on its first day.
            raise ValidationError(
                _("%(name)s's centralized isolation starts on %(start)s; until then, check them out.")
                % {"name": stay.person.name, "start": measure.start},
                code="measure",
            )
        elif measure.status != HOSPITALIZED:
            raise ValidationError(
                _("%(name)s's centralized isolation is over (%(status)s): check them out instead.")
                % {"name": stay.person.name, "status": measure.get_status_display()},
                code="measure",
            )
        stay.note = note[:200]
        stay.transition(Stay.Status.HOSPITAL, note=note, checked_out_at=now)
        # A companion without a measure of their own was here for the person, and leaves; one under
        # their own centralized step stays in the room for it.
        for companion in Stay.objects.select_for_update().filter(
            companion_of=stay, status__in=Stay.ACTIVE, measure__isnull=True
        ):
            companion.transition(
                Stay.Status.CHECKED_OUT,
                note=_("The person accompanied was taken to hospital"),
                checked_out_at=now,
            )
        _release_room(room, lived_in=True)
    return stay


def in_hospital(stays):
    """Of `stays`, those taken to hospital whose person is still there: not back at a site, and
    their centralized step still hospitalized (ended meanwhile by control: nobody to take back)."""
    return stays.filter(status=Stay.Status.HOSPITAL, return_stay__isnull=True, measure__status=HOSPITALIZED)


def _hospital_stay(person_or_stay):
    if isinstance(person_or_stay, Stay):
        return person_or_stay
    stay = (
        Stay.objects.filter(person=person_or_stay, status=Stay.Status.HOSPITAL)
        .order_by("-checked_out_at", "-pk")
        .first()
    )
    if stay is None:
        raise ValidationError(
            _("%(name)s was not taken to hospital from an isolation site.") % {"name": person_or_stay.name},
            code="status",
        )
    return stay


def back_from_hospital(user, person_or_stay, room, note="", now=None):
    """The person comes back from hospital to a site: a new stay in `room`, checked in at once, on
    the same centralized step, which runs again (control's `back_from_hospital`). The room follows
    allocate's rules under its row lock (one person a room; cleaning, out of service and inactive
    sites refused). A step ended meanwhile (released, completed, cancelled) is refused: the person
    has no isolation to come back to. Idempotent: the same return again answers the stay it made;
    companions are allocated again on the site page, if still needed."""
    hospital = _hospital_stay(person_or_stay)
    _require(user, Stay, MOVE_STAY, hospital, _("You may not change stays of this site."))
    _require(user, Room, ALLOCATE, room, _("You may not allocate rooms of this site."))
    note = (note or "").strip()
    now = now or timezone.now()
    try:
        with transaction.atomic():
            room = Room.objects.select_for_update().select_related("site").get(pk=room.pk)
            # The hospital stay's lock serialises two returns of the same person: the second sees
            # the first's stay below.
            hospital = _locked_stay(hospital)
            back = Stay.objects.filter(from_hospital=hospital).select_related("room", "person").first()
            if back is not None:
                if back.room_id == room.pk:
                    return back
                raise ValidationError(
                    _("%(name)s is back from hospital already, in room %(room)s.")
                    % {"name": hospital.person.name, "room": back.room.number},
                    code="back",
                )
            if hospital.status != Stay.Status.HOSPITAL:
                raise ValidationError(
                    _("%(name)s was not taken to hospital from this stay.") % {"name": hospital.person.name},
                    code="status",
                )
            measure = (
                ControlMeasure.objects.select_for_update().filter(pk=hospital.measure_id).first()
                if hospital.measure_id
                else None
            )
            if measure is None or measure.status != HOSPITALIZED:
                raise ValidationError(
                    _(
                        "%(name)s's centralized isolation is no longer in hospital (%(status)s): there is nothing to come back to."
                    )
                    % {
                        "name": hospital.person.name,
                        "status": measure.get_status_display() if measure else "—",
                    },
                    code="measure",
                )
            in_room = list(Stay.objects.filter(room=room, status__in=Stay.ACTIVE))
            _check_room(room, hospital.person, in_room, None)
            control_services.back_from_hospital(measure, note)
            stay = Stay.objects.create(
                person=hospital.person,
                measure=measure,
                site=room.site,
                room=room,
                from_hospital=hospital,
                allocated_at=now,
                allocated_by=user,
                note=note[:200],
                # Whoever paid before pays on: the return continues the same isolation.
                payer=hospital.payer,
                employer=hospital.employer,
            )
            if room.status == Room.Status.FREE:
                room.transition(
                    Room.Status.OCCUPIED,
                    note=_("Allocated to %(name)s") % {"name": hospital.person.name},
                )
            stay.transition(Stay.Status.CHECKED_IN, note=_("Back from hospital"), checked_in_at=now)
    except IntegrityError:
        # The person got a room elsewhere meanwhile (another officer's allocation).
        raise ValidationError(
            _("%(name)s already has a room.") % {"name": hospital.person.name}, code="person"
        ) from None
    return stay


def mark_clean(user, room, now=None):
    """Cleaned and disinfected 终末消毒: the room is free again."""
    _require(user, Room, CHANGE_ROOM, room, _("You may not change rooms of this site."))
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room.pk)
        return room.transition(Room.Status.FREE)


def set_out_of_service(user, room, out, note=""):
    """Take a free or cleaning room out of service (repairs), or bring it back."""
    _require(user, Room, CHANGE_ROOM, room, _("You may not change rooms of this site."))
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room.pk)
        if not out and room.status != Room.Status.OUT_OF_SERVICE:
            # Back in service is for repaired rooms; a room left by a person is freed by cleaning.
            raise ValidationError(_("Only a room out of service can be brought back."), code="room")
        return room.transition(Room.Status.OUT_OF_SERVICE if out else Room.Status.FREE, note=note)


# Availability


def _per_site(rows):
    """COUNT(rows) for the outer site, as a correlated subquery (0 when none)."""
    # COUNT(*), not COUNT(id): the (site, status) indexes answer it without reading the rows.
    return Coalesce(Subquery(rows.order_by().values("site").annotate(n=Count("*")).values("n")), 0)


def with_availability(sites):
    """Sites annotated with `occupied` (checked in), `allocated` (on their way), `available`
    (capacity − occupied − allocated) and `free_rooms`: one query for the whole list. Each count
    is a correlated subquery on (site, status) indexes rather than a GROUP BY over a join of
    stays: at 200 sites and 13,000 stays the grouped join ran the free-room subquery once per
    joined row (and crossed PostgreSQL's JIT threshold), 430 ms against a few ms."""
    stays = Stay.objects.filter(site=OuterRef("pk"))
    return sites.annotate(
        occupied=_per_site(stays.filter(status=Stay.Status.CHECKED_IN)),
        allocated=_per_site(stays.filter(status=Stay.Status.ALLOCATED)),
        free_rooms=_per_site(Room.objects.filter(site=OuterRef("pk"), status=Room.Status.FREE)),
    ).order_by("name", "pk")


def available(site):
    return site.capacity - site.occupied - site.allocated


def availability(user):
    """Per site the user sees (active sites) and the total over them: {"sites": [...], "total":
    {...}}. One query; the total is summed from its rows, not a second aggregate that a join of
    stays would multiply."""
    sites = with_availability(Site.objects.restrict(user, "view").filter(is_active=True)).order_by(
        "name", "pk"
    )
    rows = [
        {
            "site": site,
            "capacity": site.capacity,
            "occupied": site.occupied,
            "allocated": site.allocated,
            "available": available(site),
            "free_rooms": site.free_rooms,
        }
        for site in sites
    ]
    total = {
        key: sum(r[key] for r in rows)
        for key in ("capacity", "occupied", "allocated", "available", "free_rooms")
    }
    return {"sites": rows, "total": total}


def days_in(stay, now=None):
    """Days since check-in (day 1 is the day of arrival), for the site's list."""
    if stay.checked_in_at is None:
        return None
    end = stay.checked_out_at or now or timezone.now()
    return (timezone.localdate(end) - timezone.localdate(stay.checked_in_at)).days + 1


# Temperatures twice a day (decision 0024, addendum)

# The afternoon check opens at control's first deadline of a twice-a-day measure (12:00), so the
# site's slots and control's "checks due" agree on what is due when.
AFTERNOON_FROM = CHECK_DEADLINES[2][0]


def slot_at(at=None):
    """The check due at local time `at`: the morning one before noon, the afternoon one after."""
    hour = timezone.localtime(at or timezone.now()).hour
    return Reading.Slot.MORNING if hour < AFTERNOON_FROM else Reading.Slot.AFTERNOON


def parse_temperature(value):
    """A typed temperature as a Decimal with one decimal, or a ValidationError that says what a
    body temperature is (366 typed for 36.6 is refused, not stored)."""
    try:
        temperature = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Type the temperature as a number, e.g. 36.5."), code="invalid") from None
    if not temperature.is_finite() or not TEMPERATURE_MIN <= temperature <= TEMPERATURE_MAX:
        raise ValidationError(_("A body temperature lies between 34.0 and 43.0 °C."), code="range")
    return temperature.quantize(Decimal("0.1"))



def record_reading(user, stay, temperature, symptoms="", day=None, slot=None, now=None):
    """Record the stay's check for `day` and `slot` (today's current one by default). Returns
    (reading, created). Idempotent: the same check again (a retried submit) returns the row that
    is there; a different value for the same check replaces it (re-measured), so a slot never has
    two readings."""
    _require(user, Stay, RECORD_READING, stay, _("You may not record temperatures at this site."))
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    slot = slot or slot_at(now)
    if slot not in Reading.Slot.values:
        raise ValidationError(_("Choose the morning or the afternoon check."), code="slot")
    if day > timezone.localdate(now):
        raise ValidationError(_("This date is in the future."), code="day")
    temperature = parse_temperature(temperature)
    symptoms = (symptoms or "").strip()[:200]
    with transaction.atomic():
        stay = Stay.objects.select_for_update().get(pk=stay.pk)
        if stay.status != Stay.Status.CHECKED_IN:
            raise ValidationError(_("Only a person checked in has checks at the site."), code="status")
        if stay.checked_in_at and day < timezone.localdate(stay.checked_in_at):
            raise ValidationError(_("The person had not arrived on this date."), code="day")
        # The stay's row lock serialises two submits of the same check: the second sees the first.
        reading = Reading.objects.filter(stay=stay, day=day, slot=slot).first()
        if reading is None:
            reading = Reading.objects.create(
                stay=stay,
                day=day,
                slot=slot,
                temperature=temperature,
                symptoms=symptoms,
                recorded_by=user,
                recorded_at=now,
            )
            return reading, True
        if reading.temperature != temperature or reading.symptoms != symptoms:
            reading.temperature, reading.symptoms = temperature, symptoms
            reading.recorded_by, reading.recorded_at = user, now
            reading.save(
                update_fields=["temperature", "symptoms", "recorded_by", "recorded_at", "last_updated"]
            )
        return reading, False


def with_fevers(sites, day=None):
    """Sites annotated with `fevers`: the persons still in the site with a fever reading on `day`
    (a subquery, so it adds nothing to the availability join)."""
    fevers = (
        Reading.objects.filter(
            stay__site=OuterRef("pk"),
            stay__status=Stay.Status.CHECKED_IN,
            day=day or timezone.localdate(),
            temperature__gte=FEVER_FROM,
        )
        .order_by()
        .values("stay__site")
        .annotate(n=Count("stay", distinct=True))
        .values("n")
    )
    return sites.annotate(fevers=Coalesce(Subquery(fevers), 0))


def fever_stays(stays, day=None):
    """The ids of those of `stays` with a fever reading on `day` (one query)."""
    return set(
        Reading.objects.filter(
            stay__in=[s.pk for s in stays], day=day or timezone.localdate(), temperature__gte=FEVER_FROM
        ).values_list("stay_id", flat=True)
    )


def checks(user, site, day, slot):
    """The site's checks of `day` and `slot`, floor by floor: [{"floor", "rooms": [{"room",
    "stays": [...], "done"}], "due", "done"}]. Each stay carries `reading` (None while due). Only
    persons checked in by that day are due; a companion is checked like anyone in the room."""
    stays = list(
        Stay.objects.restrict(user, "view")
        .filter(site=site, status=Stay.Status.CHECKED_IN, checked_in_at__date__lte=day)
        .select_related("person", "room")
        .order_by("room__floor", "room__number", "companion_of_id", "pk")
    )
    readings = {
        r.stay_id: r for r in Reading.objects.filter(stay__in=[s.pk for s in stays], day=day, slot=slot)
    }
    floors = {}
    for stay in stays:
        stay.reading = readings.get(stay.pk)
        floor = floors.setdefault(
            stay.room.floor, {"floor": stay.room.floor, "rooms": {}, "due": 0, "done": 0}
        )
        room = floor["rooms"].setdefault(stay.room_id, {"room": stay.room, "stays": []})
        room["stays"].append(stay)
        floor["due"] += 1
        floor["done"] += stay.reading is not None
    result = []
    for floor in floors.values():
        rooms = list(floor["rooms"].values())
        for room in rooms:
            room["done"] = all(s.reading is not None for s in room["stays"])
            room["fever"] = any(s.reading is not None and s.reading.is_fever for s in room["stays"])
        result.append({**floor, "rooms": rooms})
    return result


# Release and hand-over home (decision 0024, addendum: release)

RECEIVE_HOME = "control.change_keyperson"


def homecomings(user):
    """Stays whose person went home to the next step of their plan, over the key-person entries
    the user may change: the community and grid responsible for the person (the entry's area, not
    the site's) receive them. Scoped through control's entries, so a grid worker, who sees no
    isolation site, sees the persons coming home to their grid."""
    entries = KeyPerson.objects.restrict(user, perm=RECEIVE_HOME)
    return Stay.objects.filter(home_step__isnull=False, home_step__key_person__in=entries.values("pk"))


def awaiting_home(user, area=None):
    """Persons back home from isolation, not yet received, newest first (the area's subtree when
    given)."""
    stays = homecomings(user).filter(home_received_at__isnull=True)
    if area is not None:
        stays = stays.filter(home_step__key_person__area__path__startswith=area.path)
    return stays.order_by("-checked_out_at", "-pk")


def receive_home(user, stay, now=None):
    """The community confirms the person arrived home (one tap). Idempotent: a second tap, or a
    colleague's, keeps the first receipt."""
    if not homecomings(user).filter(pk=stay.pk).exists():
        raise PermissionDenied(_("This person is not coming home to your area."))
    with transaction.atomic():
        stay = Stay.objects.select_for_update().get(pk=stay.pk)
        if stay.home_received_at is None:
            stay.home_received_at = now or timezone.now()
            stay.home_received_by = user
            stay.save(update_fields=["home_received_at", "home_received_by", "last_updated"])
    return stay


# Tests on the protocol's days (decision 0024, addendum)

TEST_RESULTS = (
    TestRecord.Result.PENDING,  # sampled, the result to come
    TestRecord.Result.NEGATIVE,
    TestRecord.Result.POSITIVE,
    TestRecord.Result.INVALID,
)


def _tests_on(day):
    # Control's own condition on its JSON list of test days (`@>` on PostgreSQL), so the site and
    # control's "test due" list agree on who is tested today.
    return control_test_day(router.db_for_read(ControlMeasure), day)


def tests_due(stays_qs, day=None):
    """Checked-in stays whose centralized step has a test on `day` (today): a queryset."""
    day = day or timezone.localdate()
    measures = ControlMeasure.objects.filter(_tests_on(day), status__in=OPEN_MEASURES)
    return stays_qs.filter(status=Stay.Status.CHECKED_IN, measure__in=measures.values("pk"))


def with_tests_due(sites, day=None):
    """Sites annotated with `tests_due`: persons in the site with a test today (a subquery)."""
    due = (
        tests_due(Stay.objects.filter(site=OuterRef("pk")), day)
        .order_by()
        .values("site")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return sites.annotate(tests_due=Coalesce(Subquery(due), 0))


def todays_tests(stays, day=None):
    """{stay id: TestRecord or None} for those of `stays` (with their measure) tested on `day`
    by the protocol; others are absent. Two queries whatever the count."""
    day = day or timezone.localdate()
    due = {s.pk: s.measure_id for s in stays if s.measure_id and s.status == Stay.Status.CHECKED_IN}
    if not due:
        return {}
    scheduled = set(
        ControlMeasure.objects.filter(
            _tests_on(day), pk__in=set(due.values()), status__in=OPEN_MEASURES
        ).values_list("pk", flat=True)
    )
    records = {r.measure_id: r for r in TestRecord.objects.filter(measure__in=scheduled, day=day)}
    return {pk: records.get(m) for pk, m in due.items() if m in scheduled}


def record_test(user, stay, result, now=None):
    """Record today's protocol test of a person at the site (sampled, then its result) through
    control: one record a step a day, so a second tap updates it."""
    _require(user, Stay, RECORD_READING, stay, _("You may not record tests at this site."))
    if result not in TEST_RESULTS:
        raise ValidationError(_("Choose sampled or a result."), code="result")
    day = timezone.localdate(now or timezone.now())
    stay = Stay.objects.select_related("measure").get(pk=stay.pk)
    if stay.status != Stay.Status.CHECKED_IN or stay.measure is None:
        raise ValidationError(_("Only a person checked in for a measure has tests here."), code="status")
    if stay.pk not in todays_tests([stay], day):
        raise ValidationError(_("%(name)s has no test today.") % {"name": stay.person.name}, code="day")
    return control_services.record_test(stay.measure, day, result, user=user)


# Fees (decision 0024, addendum)

CHANGE_PAYER = MOVE_STAY


def set_payer(user, stay, payer, employer=""):
    """Who pays the stay's nights; an employer by name."""
    _require(user, Stay, CHANGE_PAYER, stay, _("You may not change stays of this site."))
    employer = (employer or "").strip()[:100]
    if payer not in Stay.Payer.values:
        raise ValidationError(_("Choose who pays."), code="payer")
    if payer == Stay.Payer.EMPLOYER and not employer:
        raise ValidationError(_("Give the employer's name."), code="employer")
    with transaction.atomic():
        stay = Stay.objects.select_for_update().get(pk=stay.pk)
        stay.payer = payer
        stay.employer = employer if payer == Stay.Payer.EMPLOYER else ""
        stay.save(update_fields=["payer", "employer", "last_updated"])
    return stay


def nights(checked_in_at, checked_out_at, now=None):
    """Nights at the site as a hotel counts them: the day of arrival counts, the day of leaving
    does not (in on the 1st, out on the 8th: 7 nights); a stay still running counts to today; a
    person who never arrived has none."""
    if checked_in_at is None:
        return 0
    end = checked_out_at or now or timezone.now()
    return max(0, (timezone.localdate(end) - timezone.localdate(checked_in_at)).days)


def fee(stay_nights, rate):
    """nights × the site's daily rate, or None while the site has no rate."""
    if rate is None:
        return None
    return (Decimal(stay_nights) * rate).quantize(Decimal("0.01"))


def stay_fee(stay, now=None):
    return fee(nights(stay.checked_in_at, stay.checked_out_at, now), stay.site.daily_rate)


def fees_by_payer(site, stays, now=None):
    """[(payer label, employer, nights, fee)] of `stays` of the site, the employers one by one;
    one pass over the rows."""
    sums = {}
    for payer, employer, checked_in, checked_out in stays.filter(
        site=site, checked_in_at__isnull=False
    ).values_list("payer", "employer", "checked_in_at", "checked_out_at"):
        key = (payer, employer if payer == Stay.Payer.EMPLOYER else "")
        sums[key] = sums.get(key, 0) + nights(checked_in, checked_out, now)
    order = {value: i for i, value in enumerate(Stay.Payer.values)}
    return [
        {
            "payer": Stay.Payer(payer).label,
            "employer": employer,
            "nights": n,
            "fee": fee(n, site.daily_rate),
        }
        for (payer, employer), n in sorted(sums.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))
    ]


# Medical-waste handovers 医疗废物交接 (decision 0024, addendum)

RECORD_WASTE = "isolation.add_wastehandover"
SIGN_WASTE = "isolation.change_wastehandover"


def record_waste(
    user, site, bags, weight_kg, company, collector_name, handed_over_at=None, note="", now=None
):
    """The site hands over its medical waste: the staff member recording it signs it now."""
    _require(user, Site, RECORD_WASTE, site, _("You may not record waste handovers of this site."))
    now = now or timezone.now()
    handed_over_at = handed_over_at or now
    if handed_over_at > now:
        raise ValidationError(_("This time is in the future."), code="time")
    handover = WasteHandover(
        site=site,
        handed_over_at=handed_over_at,
        bags=bags,
        weight_kg=weight_kg,
        company=(company or "").strip(),
        collector_name=(collector_name or "").strip(),
        handed_over_by=user,
        staff_signed_at=now,
        note=(note or "").strip()[:200],
    )
    handover.full_clean()
    handover.save()
    return handover


def collector_signs(user, handover, now=None):
    """The collector signs on the staff's phone as the bags leave. Idempotent: the first
    signature stays."""
    _require(user, WasteHandover, SIGN_WASTE, handover, _("You may not change waste handovers of this site."))
    with transaction.atomic():
        handover = WasteHandover.objects.select_for_update().get(pk=handover.pk)
        if handover.collector_signed_at is None:
            handover.collector_signed_at = now or timezone.now()
            handover.save(update_fields=["collector_signed_at", "last_updated"])
    return handover
