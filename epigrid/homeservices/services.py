"""Resident services' one way in (decision 0038): submit (one open request per household and kind;
a second is a warning offering to add to the open one; a retry with the same client id changes
nothing), assign, start, complete with evidence, the requester's confirmation, reopen, cancel; the
special-groups register and the proactive checks generated while a home is sealed.

Every move locks the request row, checks who may make it, then goes through
`ServiceRequest.transition` (a conditional UPDATE). A `user` of None is the system (a command, the
demo)."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.services import log_bulk_create, log_transition
from epigrid.control.panels import zones_covering, zones_covering_among, zones_in_force
from epigrid.core import photos as core_photos
from epigrid.core.scoping import may_at, within
from epigrid.homeservices.kinds import Kind, Urgency, clean_details, merge_details
from epigrid.homeservices.models import (
    GROUP_TAGS,
    TREATMENTS,
    ConfirmedHow,
    Group,
    ProactiveCheck,
    RequestAddition,
    ServiceRequest,
    Source,
    SpecialCare,
)
from epigrid.people.models import Tag

VIEW = "homeservices.view_servicerequest"
ADD = "homeservices.add_servicerequest"
WORK = "homeservices.change_servicerequest"
ASSIGN = "homeservices.assign_servicerequest"
KEEP_REGISTER = "homeservices.change_specialcare"
CHECK = "homeservices.change_proactivecheck"
# Zone levels whose residents stay home (足不出户、服务上门): 封控区 before June 2022, 高风险区 after.
SEALED_LEVELS = ("sealed", "high")
MAX_PHOTO_MB = 8
S = ServiceRequest.Status


def sla_hours(urgency):
    return settings.EPIGRID_SERVICE_SLA_HOURS.get(urgency, settings.EPIGRID_SERVICE_SLA_HOURS["normal"])


def deadline(urgency, now=None):
    return (now or timezone.now()) + datetime.timedelta(hours=sla_hours(urgency))


def _text(value):
    return (value or "").strip()


def _needs_text(value, message, code):
    if sum(ch.isalnum() for ch in _text(value)) < 2:
        raise ValidationError(message, code=code)
    return _text(value)


def _photo(upload):
    if not upload:
        return None
    return core_photos.validate_photo(upload, max_mb=MAX_PHOTO_MB, max_pixels=50_000_000)


def _name(user):
    return (user.get_full_name() or user.get_username()) if user else ""


# -- zones ----------------------------------------------------------------------------------------


def zone_over(household):
    """The narrowest zone in force over the household (control's named read), or None."""
    zones = zones_covering(household.area, household.building_id, household.unit)
    return zones[0] if zones else None


def is_sealed(zones, day=None):
    return any(z.level in SEALED_LEVELS and (day is None or z.started_on <= day) for z in zones)


# -- submitting -----------------------------------------------------------------------------------


@dataclass
class Submitted:
    """What a submission did: `created` a request, `added` to the open one, `repeat` (the same
    client id came again: nothing written), or `open_exists` (the warning: an open request of
    this kind is there; nothing written until the user chooses to add to it)."""

    request: ServiceRequest
    outcome: str

    @property
    def wrote(self):
        return self.outcome in ("created", "added")


def _repeat(client_id):
    if not client_id:
        return None
    found = ServiceRequest.objects.filter(client_id=client_id).first()
    if found is None:
        addition = RequestAddition.objects.filter(client_id=client_id).select_related("request").first()
        found = addition.request if addition else None
    return found


def open_request(household, kind, lock=False):
    rows = ServiceRequest.objects.filter(household=household, kind=kind, status__in=ServiceRequest.OPEN)
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.first()


def submit(
    user,
    *,
    household,
    person,
    kind,
    urgency=Urgency.NORMAL,
    details=None,
    description="",
    source=Source.PHONE,
    client_id=None,
    prescription_photo=None,
    add_to_open=False,
    care=None,
    now=None,
):
    """A household's request. With an open request of the same kind already there: without
    `add_to_open` the answer is that request and `open_exists` (a warning, nothing written); with
    it, the new details are added to the open one. The same `client_id` again answers as the
    first time and writes nothing (a double tap, a retry over a slow network)."""
    now = now or timezone.now()
    client_id = _text(client_id)[:64] or None
    found = _repeat(client_id)
    if found is not None:
        return Submitted(found, "repeat")
    if user is not None and not may_at(user, ADD, household.area):
        raise PermissionDenied(_("You may not take requests for this household."))
    if person.household_id != household.pk:
        raise ValidationError(_("The person asking must live in the household."), code="person")
    if urgency not in Urgency.values:
        raise ValidationError(_("Unknown urgency."), code="urgency")
    details = clean_details(kind, details)
    photo = _photo(prescription_photo)
    if kind == Kind.OTHER and not _text(description):
        raise ValidationError(_("Say what is needed."), code="description")
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _submit_once(
                    user,
                    household,
                    person,
                    kind,
                    urgency,
                    details,
                    description,
                    source,
                    client_id,
                    photo,
                    add_to_open,
                    care,
                    now,
                )
        except IntegrityError:
            # Another submission got in between our look and our insert: the same client id (a
            # retry racing itself) or another open request of this kind. Look again.
            found = _repeat(client_id)
            if found is not None:
                return Submitted(found, "repeat")
            if attempt:
                raise
    raise AssertionError("unreachable")


def _submit_once(
    user,
    household,
    person,
    kind,
    urgency,
    details,
    description,
    source,
    client_id,
    photo,
    add_to_open,
    care,
    now,
):
    existing = open_request(household, kind, lock=True)
    if existing is not None:
        # The open request may be this very submission's, sent again and committed while this one
        # waited for the lock: a repeat, not another request.
        found = _repeat(client_id)
        if found is not None:
            return Submitted(found, "repeat")
        if not add_to_open:
            return Submitted(existing, "open_exists")
        return Submitted(_add(user, existing, person, details, description, client_id, urgency, now), "added")
    zones = zones_covering(household.area, household.building_id, household.unit)
    request = ServiceRequest(
        household=household,
        person=person,
        area=household.area,
        zone=zones[0] if zones else None,
        kind=kind,
        urgency=urgency,
        details=details,
        description=_text(description),
        source=source,
        client_id=client_id,
        due_at=deadline(urgency, now),
        requested_at=now,
        requested_by=user,
        care=care,
    )
    with transaction.atomic():
        request.save()
        if photo is not None:
            request.prescription_photo.save(photo.name or "prescription.jpg", photo, save=True)
        log_transition(request, "", request.status, request.get_kind_display())
    return Submitted(request, "created")


def _add(user, request, person, details, description, client_id, urgency, now):
    """Append to the open request (locked by the caller): merged details, the description
    continued, and a more urgent urgency brings the deadline forward (never back)."""
    RequestAddition.objects.create(
        request=request,
        details=details,
        description=_text(description),
        person=person,
        client_id=client_id,
        added_by=user,
        added_at=now,
    )
    request.details = merge_details(request.kind, request.details or {}, details)
    if _text(description):
        request.description = "\n".join(filter(None, [request.description, _text(description)]))
    order = list(Urgency.values)
    if order.index(urgency) < order.index(request.urgency):
        request.urgency = urgency
        request.due_at = min(request.due_at, deadline(urgency, now))
    request.additions += 1
    request.save()
    log_transition(request, request.status, request.status, _("added to"))
    return request


# -- who ------------------------------------------------------------------------------------------


def may_work(user, area):
    """An active user who may work on requests of `area` (an officer, a grid worker, a volunteer
    posted there)."""
    return user is not None and user.is_active and within(area.path, user.scope_paths(WORK))


def may_assign(user, request):
    return may_at(user, ASSIGN, request.area)


def _lock(request):
    return ServiceRequest.objects.select_for_update(of=("self",)).select_related("area").get(pk=request.pk)


def _check_assignee(user, request):
    if user is None:
        return
    if request.assignee_id != user.pk or not may_work(user, request.area):
        raise PermissionDenied(_("Only the person it is assigned to works on this request."))


# -- the moves ------------------------------------------------------------------------------------


def assign(user, request, assignee, now=None):
    now = now or timezone.now()
    with transaction.atomic():
        request = _lock(request)
        if user is not None and not may_assign(user, request):
            raise PermissionDenied(_("You may not assign this request."))
        if request.status not in (S.NEW, S.ASSIGNED, S.IN_PROGRESS):
            raise ValidationError(_("Only an open request can be assigned."), code="state")
        if assignee is None or not may_work(assignee, request.area):
            raise ValidationError(
                _("%(name)s may not work on requests of this area.") % {"name": _name(assignee)},
                code="assignee",
            )
        if request.status == S.NEW:
            return request.transition(S.ASSIGNED, _name(assignee), assignee=assignee, assigned_at=now)
        if request.assignee_id == assignee.pk:
            return request
        request.assignee, request.assigned_at = assignee, now
        request.save()
        log_transition(request, request.status, request.status, "→ " + _name(assignee))
        return request


def start(user, request, now=None):
    with transaction.atomic():
        request = _lock(request)
        if request.status == S.IN_PROGRESS:
            return request  # a second tap
        if request.status != S.ASSIGNED:
            raise ValidationError(_("Only an assigned request can be started."), code="state")
        _check_assignee(user, request)
        return request.transition(S.IN_PROGRESS, started_at=now or timezone.now())


def complete(user, request, note, photo=None, now=None):
    """Done, with what was done and optionally a photo (a receipt, the bags at the door). An
    assigned request is started on the way: the volunteer at the door taps once."""
    now = now or timezone.now()
    note = _needs_text(note, _("Say what was done."), "done_note")
    photo = _photo(photo)
    with transaction.atomic():
        request = _lock(request)
        if request.status == S.DONE and request.done_note == note:
            return request  # a retry
        if request.status not in (S.ASSIGNED, S.IN_PROGRESS):
            raise ValidationError(_("Only a request being worked on can be done."), code="state")
        _check_assignee(user, request)
        if request.status == S.ASSIGNED:
            request.transition(S.IN_PROGRESS, started_at=now)
        request.transition(S.DONE, note, done_at=now, done_note=note)
        if photo is not None:
            request.done_photo.save(photo.name or "done.jpg", photo, save=True)
        return request


def confirm(user, request, how, note="", now=None):
    """The requester's confirmation, recorded with who recorded it and how it was given. The
    person who did the work records only a confirmation given in person at the door; a call-back
    is the officers' (回访), so nobody confirms their own work by saying so."""
    if how not in ConfirmedHow.values:
        raise ValidationError(_("Say how the resident confirmed."), code="confirmed_how")
    with transaction.atomic():
        request = _lock(request)
        if request.status == S.CONFIRMED:
            return request
        if request.status != S.DONE:
            raise ValidationError(_("Only a done request can be confirmed."), code="state")
        if user is not None:
            if not may_work(user, request.area):
                raise PermissionDenied(_("You may not record confirmations here."))
            if user.pk == request.assignee_id and how != ConfirmedHow.IN_PERSON:
                raise PermissionDenied(
                    _("The person who did the work records only a confirmation given in person.")
                )
        return request.transition(
            S.CONFIRMED,
            _text(note),
            confirmed_at=now or timezone.now(),
            closed_at=now or timezone.now(),
            confirmed_by=user,
            confirmed_how=how,
            confirmation_note=_text(note)[:200],
        )


def reopen(user, request, reason):
    """The resident says it did not arrive (or not all): back to work, with the reason."""
    reason = _needs_text(reason, _("Say what is still missing."), "reason")
    with transaction.atomic():
        request = _lock(request)
        if request.status != S.DONE:
            raise ValidationError(_("Only a done request can be sent back."), code="state")
        if user is not None and not may_work(user, request.area):
            raise PermissionDenied(_("You may not send this request back."))
        return request.transition(S.IN_PROGRESS, reason)


def cancel(user, request, reason, now=None):
    reason = _needs_text(reason, _("Say why the request is cancelled."), "reason")
    with transaction.atomic():
        request = _lock(request)
        if request.status == S.CANCELLED:
            return request
        if not request.is_open:
            raise ValidationError(_("Only an open request can be cancelled."), code="state")
        if user is not None and not (may_assign(user, request) or user.pk == request.requested_by_id):
            raise PermissionDenied(_("You may not cancel this request."))
        return request.transition(S.CANCELLED, reason, cancel_reason=reason, closed_at=now or timezone.now())


def overdue_q(now=None):
    return Q(status__in=ServiceRequest.OPEN, due_at__lt=now or timezone.now())


# -- special groups -------------------------------------------------------------------------------


def register_care(user, person, group, **fields):
    """An entry of the register (one per person and group; registering again updates it). The
    person gets the group's vulnerable tag, so the person pages and lists say it too."""
    if group not in Group.values:
        raise ValidationError(_("Unknown group."), code="group")
    if person.household_id is None:
        raise ValidationError(_("The person has no household in the registry."), code="household")
    household = person.household
    if user is not None and not may_at(user, KEEP_REGISTER, household.area):
        raise PermissionDenied(_("You may not keep the register for this household."))
    if group == Group.PREGNANT and not fields.get("due_date"):
        raise ValidationError(_("Give the due date."), code="due_date")
    if group in TREATMENTS and not _text(fields.get("treatment_days")):
        raise ValidationError(_("Give the treatment days."), code="treatment_days")
    days = _text(fields.get("treatment_days"))
    if days and not all(d.strip() in "1234567" and d.strip() for d in days.split(",")):
        raise ValidationError(
            _("Treatment days are weekdays 1-7 separated by commas."), code="treatment_days"
        )
    with transaction.atomic():
        care = SpecialCare.objects.select_for_update().filter(person=person, group=group).first()
        care = care or SpecialCare(person=person, group=group)
        care.household, care.area = household, household.area
        for name in ("due_date", "treatment_days", "treatment_time", "hospital", "visit_every_days", "notes"):
            if name in fields:
                value = fields[name]
                setattr(care, name, _text(value) if isinstance(value, str) else value)
        care.visit_every_days = max(1, care.visit_every_days or 1)
        care.active = fields.get("active", care.active if care.pk else True)
        care.save()
        tag = Tag.objects.filter(code=GROUP_TAGS[group]).first()
        if tag is not None:
            person.tags.add(tag)
    return care


def tagged_unregistered(queryset_of_persons):
    """Persons carrying a group's tag without an entry of that group: the register's to-do."""
    tags = {"elderly_alone": Group.ELDERLY_ALONE, "disabled": Group.DISABLED, "pregnant": Group.PREGNANT}
    q = Q()
    for code, group in tags.items():
        q |= Q(tags__code=code) & ~Q(pk__in=SpecialCare.objects.filter(group=group).values("person"))
    return queryset_of_persons.filter(q, household__isnull=False).distinct()


def _visit_due(care, day):
    registered = timezone.localtime(care.registered_at).date()
    return (day - registered).days % max(1, care.visit_every_days) == 0


def generate_checks(day=None, now=None):
    """The day's calls and visits to every registered person whose home is sealed on `day` (a
    call every day, a visit every `visit_every_days`), and for dialysis and chemotherapy the
    hospital visit of the next treatment day as a request. Idempotent: a second run the same day
    writes nothing. Returns {"calls": n, "visits": n, "hospital": n} written."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    by_path = zones_in_force()
    if not any(z.level in SEALED_LEVELS for zones in by_path.values() for z in zones):
        return {"calls": 0, "visits": 0, "hospital": 0}
    cares = list(
        SpecialCare.objects.filter(active=True)
        .select_related("household__area", "household__building", "person")
        .order_by("pk")
    )
    sealed = [
        c
        for c in cares
        if is_sealed(
            zones_covering_among(by_path, c.household.area, c.household.building_id, c.household.unit), day
        )
    ]
    wanted = []
    for care in sealed:
        wanted.append(ProactiveCheck(care=care, area_id=care.area_id, day=day, kind=ProactiveCheck.Kind.CALL))
        if _visit_due(care, day):
            wanted.append(
                ProactiveCheck(care=care, area_id=care.area_id, day=day, kind=ProactiveCheck.Kind.VISIT)
            )
    written = {"calls": 0, "visits": 0, "hospital": 0}
    with transaction.atomic():
        before = set(ProactiveCheck.objects.filter(day=day).values_list("pk", flat=True))
        ProactiveCheck.objects.bulk_create(wanted, ignore_conflicts=True)
        new = list(ProactiveCheck.objects.filter(day=day).exclude(pk__in=before).select_related("area"))
        log_bulk_create(new)
    for check in new:
        written["calls" if check.kind == ProactiveCheck.Kind.CALL else "visits"] += 1
    for care in sealed:
        if care.group in TREATMENTS and _hospital_trip(care, day, now):
            written["hospital"] += 1
    return written


def _hospital_trip(care, day, now):
    """Tomorrow's treatment as a hospital-visit request (client id per entry and day: once)."""
    treatment_day = day + datetime.timedelta(days=1)
    if treatment_day.isoweekday() not in care.weekdays():
        return False
    at = datetime.datetime.combine(treatment_day, care.treatment_time or datetime.time(8, 0))
    result = submit(
        None,
        household=care.household,
        person=care.person,
        kind=Kind.HOSPITAL,
        urgency=Urgency.HIGH,
        details={
            "destination": care.hospital or _("Treating hospital"),
            "appointment_at": timezone.make_aware(at),
            "reason": care.get_group_display(),
        },
        source=Source.PROACTIVE,
        client_id=f"care-{care.pk}-{treatment_day.isoformat()}",
        care=care,
        now=now,
    )
    return result.outcome == "created"


def record_check(user, check, outcome, note="", now=None):
    """A visit or call done with its outcome; recording again corrects it."""
    if outcome not in ProactiveCheck.Outcome.values:
        raise ValidationError(_("Choose the outcome."), code="outcome")
    with transaction.atomic():
        check = ProactiveCheck.objects.select_for_update().select_related("area").get(pk=check.pk)
        if user is not None and not may_at(user, CHECK, check.area):
            raise PermissionDenied(_("You may not record this check."))
        if check.outcome == outcome and check.note == _text(note)[:200]:
            return check
        check.outcome, check.note = outcome, _text(note)[:200]
        check.done_at, check.done_by = now or timezone.now(), user
        check.save()
        return check
