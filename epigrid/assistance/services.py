"""The one way assistance requests 协查 change (pages, API, the import and the demo call these).

- `receive` files a request under its receiving area with its rows; `add_persons` adds rows (the
  same document again in one request is the row already there). A row goes to the grid where the
  registry has the person when that lies in the receiving area, else it waits there to be assigned.
- `answer_found` verifies the person (search before create: a person not registered is registered
  as a migrant in the row's area), puts them under the protocol's measure through
  `control.services.register_key_person` (source "assistance", the request's receipt and origin,
  so the ledger tracks the same 24 h / 48 h deadline) and clears the entry's 协查 at once with
  `control.services.clear_assistance`. A category the active protocol no longer manages (二十条:
  secondary contacts) is answered "found, not managed under the protocol", saying so.
- `answer_not_here`: 查无此人 or 已离开, with a note for the requester.
- Answers lock the row (select_for_update) and move it through its workflow: a retried answer finds
  its own answer and changes nothing; a different answer to an answered row is refused, so of two
  officers answering at once only the first counts. The request is answered when its last row is.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.areas.models import Area, Level
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.control import plans
from epigrid.control import services as control_services
from epigrid.core import identity
from epigrid.core.scoping import check_in_scope, may_at
from epigrid.people import services as people_services
from epigrid.people.models import DocumentType, Person, ResidenceType

RECEIVE = "assistance.add_assistrequest"
CHANGE_REQUEST = "assistance.change_assistrequest"
ADD_PERSON = "assistance.add_assistperson"
ANSWER = "assistance.change_assistperson"
REGISTER_PERSON = "people.add_person"
# What a row needs to go into the ledger; the rest is the requester's information.
ROW_FIELDS = ("name", "doc_type", "doc_number", "phone", "category", "exposure_on", "address", "request_note")
# Rows due within this many hours head today's work with the overdue ones.
DUE_SOON_HOURS = 6


def _require(user, model, perm, obj, message):
    if user is not None and not model.objects.restrict(user, perm=perm).filter(pk=obj.pk).exists():
        raise PermissionDenied(message)


# -- one row's values ---------------------------------------------------------------------------


def clean_row(values):
    """The values of one person row, normalised as the registry keeps them: a resident ID checked
    by its check digit and birth date (never its region code), other documents as given, the phone
    in E.164. Raises ValidationError({field: [message]})."""
    data, errors = {}, {}
    data["name"] = (values.get("name") or "").strip()
    if not data["name"]:
        errors["name"] = [_("The name is missing.")]
    elif len(data["name"]) > 64:
        errors["name"] = [_("The name is longer than 64 characters.")]
    data["doc_type"] = values.get("doc_type") or DocumentType.RESIDENT_ID
    if data["doc_type"] not in DocumentType.values:
        errors["doc_type"] = [_("Unknown document type.")]
    else:
        try:
            data["doc_number"] = identity.normalise_document(data["doc_type"], values.get("doc_number") or "")
        except ValidationError as exc:
            errors["doc_number"] = exc.messages
    try:
        data["phone"] = identity.normalise_phone(values.get("phone") or "") if values.get("phone") else ""
    except ValidationError as exc:
        errors["phone"] = exc.messages
    data["category"] = values.get("category") or ""
    if data["category"] not in plans.CATEGORIES:
        errors["category"] = [_("Choose the category the requester gives.")]
    data["exposure_on"] = values.get("exposure_on") or None
    if data["exposure_on"] and data["exposure_on"] > timezone.localdate():
        errors["exposure_on"] = [_("%(date)s is in the future.") % {"date": data["exposure_on"]}]
    data["address"] = (values.get("address") or "").strip()[:200]
    data["request_note"] = (values.get("request_note") or "").strip()[:500]
    if errors:
        raise ValidationError(errors)
    return data


def registered_area(row_values, request):
    """The grid where the registry has this document, when it lies in the receiving area."""
    person = people_services.find_by_document(row_values["doc_type"], row_values["doc_number"])
    if person is not None and person.area.path.startswith(request.area.path):
        return person.area
    return None


# -- requests -----------------------------------------------------------------------------------


def receive(user, *, requester, reference, received_at, in_province, area, contact="", notes="", persons=()):
    """File a request under `area` with its rows; returns the request. The same requester and
    reference again is refused (one letter, one request)."""
    if user is not None and not may_at(user, RECEIVE, area):
        raise PermissionDenied(_("You may not receive assistance requests for this area."))
    requester, reference = requester.strip(), reference.strip()
    if not requester or not reference:
        raise ValidationError(_("Give the requester and the reference number of the letter."))
    try:
        with transaction.atomic():
            request = AssistRequest.objects.create(
                requester=requester,
                reference=reference,
                received_at=received_at,
                in_province=in_province,
                area=area,
                contact=contact.strip(),
                notes=notes,
                created_by=user,
            )
            if user is not None:
                check_in_scope(user, request, "add")
            add_persons(user, request, persons)
    except IntegrityError:
        raise ValidationError(
            _("%(requester)s's letter %(reference)s has been entered already.")
            % {"requester": requester, "reference": reference},
            code="duplicate",
        ) from None
    return request


def add_persons(user, request, rows):
    """Add rows (dicts of ROW_FIELDS, already cleaned, optionally with "area") to `request`.
    Returns (created, unchanged): a document already in the request is that row, unchanged."""
    _require(user, AssistRequest, ADD_PERSON, request, _("You may not add persons to this request."))
    created, unchanged = [], []
    with transaction.atomic():
        request = AssistRequest.objects.select_for_update().select_related("area").get(pk=request.pk)
        existing = {(p.doc_type, p.doc_number): p for p in request.persons.all()}
        number = max((p.number for p in existing.values()), default=0)
        for values in rows:
            key = (values["doc_type"], values["doc_number"])
            if key in existing:
                unchanged.append(existing[key])
                continue
            number += 1
            area = values.get("area") or registered_area(values, request) or request.area
            row = AssistPerson.objects.create(
                request=request, number=number, area=area, **{f: values[f] for f in ROW_FIELDS}
            )
            existing[key] = row
            created.append(row)
        if created:
            _settle(request)
    return created, unchanged


def update_request(user, request, **fields):
    """Change the letter's details (requester, reference, contact, origin, receipt, area, notes):
    the deadline follows (AssistRequest.save)."""
    _require(user, AssistRequest, CHANGE_REQUEST, request, _("You may not change this request."))
    with transaction.atomic():
        for name, value in fields.items():
            setattr(request, name, value)
        request.save()
        if user is not None:
            check_in_scope(user, request, "change")
    return request


def _settle(request, now=None):
    """Answered when no row is pending; open again when a row is. The request's row lock makes two
    rows answered at once see each other's answer (the last one closes the request)."""
    request = AssistRequest.objects.select_for_update().get(pk=request.pk)
    pending = request.persons.filter(status=AssistPerson.Status.PENDING).exists()
    if request.status == AssistRequest.Status.OPEN and not pending and request.persons.exists():
        request.transition(
            AssistRequest.Status.ANSWERED,
            note=_("Every person answered"),
            answered_at=now or timezone.now(),
        )
    elif request.status == AssistRequest.Status.ANSWERED and pending:
        request.transition(AssistRequest.Status.OPEN, note=_("New persons to trace"), answered_at=None)
    return request


# -- rows ---------------------------------------------------------------------------------------


def _locked(row):
    return AssistPerson.objects.select_for_update().select_related("request", "area").get(pk=row.pk)


def assign(user, row, area, note=""):
    """Send a pending row to the community or grid where the person is believed to be (inside the
    receiving area, and where the user may answer)."""
    _require(user, AssistPerson, ANSWER, row, _("You may not change this row."))
    with transaction.atomic():
        row = _locked(row)
        _assign(user, row, area)
    return row


def _assign(user, row, area):
    if row.status != AssistPerson.Status.PENDING:
        raise ValidationError(_("This person has been answered already."), code="answered")
    if not area.path.startswith(row.request.area.path):
        raise ValidationError(
            _("%(area)s is outside the receiving area of this request.") % {"area": area.name}, code="area"
        )
    if not may_at(user, ANSWER, area):
        raise PermissionDenied(_("You may not assign rows to %(area)s.") % {"area": area.name})
    if area.pk != row.area_id:
        row.area = area
        row.save()


def answer_found(user, row, area=None, note="", now=None):
    """Found and verified: registered (search before create), put under the protocol's measure
    and the 协查 cleared in the ledger. A retried answer changes nothing."""
    _require(user, AssistPerson, ANSWER, row, _("You may not answer this row."))
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(row)
        if row.status in (AssistPerson.Status.FOUND, AssistPerson.Status.NOT_TRACED):
            return row  # answered so before (a retried request, a double tap)
        _refuse_answered(row)
        if area is not None:
            _assign(user, row, Area.objects.get(pk=area.pk))
        if row.area.level < Level.COMMUNITY:
            raise ValidationError(
                _("Assign the person to the community or grid where they were found first."), code="area"
            )
        person = _find_or_register(user, row)
        protocol = control_services.active_protocol()
        fields = {"person": person, "answered_at": now, "answered_by": user}
        if not plans.is_traced(protocol.rules, row.category):
            said = not_traced_message(protocol, row)
            row.transition(
                AssistPerson.Status.NOT_TRACED,
                note=said,
                answer_note=" ".join(filter(None, [said, note.strip()]))[:500],
                **fields,
            )
        else:
            entry = _put_under_control(row, person, protocol, note)
            row.transition(
                AssistPerson.Status.FOUND,
                note=note,
                answer_note=note.strip()[:500],
                key_person=entry,
                **fields,
            )
        row.request = _settle(row.request, now)
    return row


def not_traced_message(protocol, row):
    return _("Under %(protocol)s, %(category)s are no longer managed.") % {
        "protocol": protocol.short_name,
        "category": row.get_category_display(),
    }


def _refuse_answered(row):
    if row.status != AssistPerson.Status.PENDING:
        raise ValidationError(
            _("This person has been answered already: %(answer)s.") % {"answer": row.get_status_display()},
            code="answered",
        )


def _find_or_register(user, row):
    person = people_services.find_by_document(row.doc_type, row.doc_number)
    if person is not None:
        return person
    if not may_at(user, REGISTER_PERSON, row.area):
        raise PermissionDenied(
            _("%(name)s is not in the registry; ask the community or grid to register the person.")
            % {"name": row.name}
        )
    try:
        with transaction.atomic():
            person = Person(
                doc_type=row.doc_type,
                doc_number=row.doc_number,
                name=row.name,
                phone=row.phone,
                residence_type=ResidenceType.MIGRANT,
                area=row.area,
                notes=_("Registered from assistance request %(request)s. Address given: %(address)s")
                % {"request": row.request, "address": row.address or "—"},
            )
            person.save()
    except IntegrityError:  # registered meanwhile (another row, a page): that record it is
        return people_services.find_by_document(row.doc_type, row.doc_number)
    return person


def _put_under_control(row, person, protocol, note):
    request = row.request
    fields = {
        "source": "assistance",
        "assistance_received_at": request.received_at,
        "assistance_in_province": request.in_province,
        "origin": request.requester[:100],
        "notes": _("Assistance request %(request)s") % {"request": request},
    }
    anchor = plans.anchor_of(protocol.rules, row.category)
    if row.exposure_on and anchor in ("last_exposure", "arrival"):
        fields[anchor] = row.exposure_on
    entry, _created = control_services.register_key_person(person, row.category, row.area, **fields)
    # An entry opened before the request (the person was already under control) has no 协查 of
    # its own to clear: the answer says "found" and points at it.
    if entry.assistance_received_at is not None:
        control_services.clear_assistance(
            entry, note=_("Answered to %(requester)s") % {"requester": request.requester}
        )
    return entry


def answer_not_here(user, row, status, note, now=None):
    """查无此人 (no such person at the address) or 已离开 (has left: where to, when), with a note
    for the requester. The same answer again changes nothing."""
    if status not in AssistPerson.NOT_HERE:
        raise ValidationError(_("Choose “no such person” or “has left”."), code="status")
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Say what was checked (and where the person went)."), code="note")
    _require(user, AssistPerson, ANSWER, row, _("You may not answer this row."))
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(row)
        if row.status == status:
            return row
        _refuse_answered(row)
        row.transition(status, note=note, answer_note=note[:500], answered_at=now, answered_by=user)
        row.request = _settle(row.request, now)
    return row


# -- reading ------------------------------------------------------------------------------------


def with_progress(requests):
    """Requests annotated with their rows' counts, in one grouped query (ordered explicitly: a
    grouped query drops the model's default order)."""
    answered = Q(persons__status__in=AssistPerson.ANSWERED)
    return requests.order_by(*AssistRequest._meta.ordering).annotate(
        total=Count("persons", distinct=True),
        answered=Count("persons", filter=answered, distinct=True),
        found=Count("persons", filter=Q(persons__status=AssistPerson.Status.FOUND), distinct=True),
    )


def progress(request, user=None):
    """{status: n, total, answered, percent} of a request's rows (those `user` sees)."""
    rows = (
        request.persons.all() if user is None else AssistPerson.objects.restrict(user).filter(request=request)
    )
    counts = dict(rows.order_by().values_list("status").annotate(n=Count("pk")))
    total = sum(counts.values())
    answered = sum(counts.get(s, 0) for s in AssistPerson.ANSWERED)
    return {
        **{status: counts.get(status, 0) for status in AssistPerson.Status.values},
        "total": total,
        "answered": answered,
        "percent": round(100 * answered / total) if total else 0,
    }


def overdue_requests(user, now=None):
    now = now or timezone.now()
    return AssistRequest.objects.restrict(user).filter(status=AssistRequest.Status.OPEN, due_at__lt=now)


def pressing_rows(user, now=None, hours=DUE_SOON_HOURS):
    """Pending rows the user may answer whose request is overdue or due within `hours`."""
    now = now or timezone.now()
    return (
        AssistPerson.objects.restrict(user, perm=ANSWER)
        .filter(status=AssistPerson.Status.PENDING, request__due_at__lt=now + datetime.timedelta(hours=hours))
        .select_related("request", "area")
        .order_by("request__due_at", "number")
    )
