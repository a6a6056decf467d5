"""Named service functions of sample transport: the one way boxes change (pages, API and demo call
them) and the reads other apps call (docs/decisions/0020-sample-transport.md).

Steps, each a custody event signed by the logged-in user who scanned:
  open_box → add_tube / remove_tube → seal_box → pick_up → start_receipt → check_tube → receive_box
  (plus discard_box for an empty box opened by mistake, reroute to send a box to another lab).

Every step locks the box row (SELECT … FOR UPDATE) and moves it through `Box.transition` (a
conditional UPDATE), so two couriers or two lab benches on one box serialise: one wins, the other
is told who did it. Steps a phone may retry are idempotent: opening the open box again at its
point resumes it, a tube scanned twice is in the box once, a courier's second pick-up scan and a
second confirmation by the same receiver change nothing.

Reads for other apps (the lab results part scopes results by what reached the lab):
  lab_of_tube(tube) → the Lab the tube was delivered to, or None.
  delivered_tubes(lab) → a queryset of the tubes delivered to the lab (delivered_entries(lab): their box entries).
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, IntegerField, Min, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.core import identity
from epigrid.core.scoping import check_in_scope
from epigrid.testing import services as testing_services
from epigrid.testing.models import Campaign, Sample, SamplingPoint, Tube, check_barcode
from epigrid.transport.models import Box, BoxEvent, BoxTube, Lab

Status, State, Kind = Box.Status, BoxTube.State, BoxEvent.Kind
DUE_SOON = datetime.timedelta(minutes=30)


# Barcodes


def box_code(value):
    """The normalised box barcode, or ValidationError (a misread must not open a box)."""
    return check_barcode(value, label=_("box barcode"))


def tube_code(value):
    return check_barcode(value, label=_("tube barcode"))


def current_box(queryset, barcode):
    """The trip a barcode stands for now: the box in use, else its latest trip (a received box's
    barcode may travel again). None when the queryset holds no box with that barcode."""
    try:
        code = box_code(barcode)
    except ValidationError:
        return None
    order = Case(When(status__in=Box.IN_USE, then=Value(0)), default=Value(1), output_field=IntegerField())
    return queryset.filter(barcode=code).order_by(order, "-opened_at", "-id").first()


def _who(user):
    if user is None:
        return "—"
    return user.get_full_name() or user.username


def _when(moment):
    return timezone.localtime(moment).strftime("%m-%d %H:%M") if moment else "—"


def _event(box, kind, user, now, **fields):
    return BoxEvent.objects.create(box=box, kind=kind, user=user, at=now, **fields)


def _may(user, box, perm, message):
    """The box must lie where `user` holds `perm` (for a bound role: at their post)."""
    if not Box.objects.restrict(user, perm=perm).filter(pk=box.pk).exists():
        raise PermissionDenied(message)


def _locked(box):
    return Box.objects.select_for_update().select_related("campaign", "point", "lab").get(pk=box.pk)


def _in_use_message(box):
    return _("Box %(box)s is in use: %(status)s at %(point)s since %(time)s.") % {
        "box": box.barcode,
        "status": box.get_status_display(),
        "point": box.point.name,
        "time": _when(box.opened_at),
    }


# Packing at the point (samplers posted there)


def open_box(user, barcode, point, lab, now=None):
    """Open a box at `point` for `lab`; (box, created). Scanning the barcode of a box already
    open at this point resumes it (a retry, or the second sampler at the table); a barcode in use
    anywhere else is refused."""
    now = now or timezone.now()
    code = box_code(barcode)
    if not SamplingPoint.objects.restrict(user, perm="transport.add_box").filter(pk=point.pk).exists():
        raise PermissionDenied(_("You are not posted at this point."))
    if not Lab.objects.restrict(user, "view").filter(pk=lab.pk, is_active=True).exists():
        raise ValidationError(_("Choose a lab that receives boxes."))
    campaign = point.campaign
    if campaign.status == Campaign.Status.PLANNED:
        raise ValidationError(_("This round has not started yet."))
    with transaction.atomic():
        existing = Box.objects.select_for_update().filter(barcode=code, status__in=Box.IN_USE).first()
        if existing is None:
            try:
                with transaction.atomic():
                    box = Box.objects.create(
                        barcode=code, campaign=campaign, point=point, lab=lab, opened_at=now, opened_by=user
                    )
            except IntegrityError:
                # Someone opened the same barcode a moment ago: their box decides.
                existing = Box.objects.select_for_update().filter(barcode=code, status__in=Box.IN_USE).first()
            else:
                _event(box, Kind.OPENED, user, now, point=point, lab=lab)
                check_in_scope(user, box, "add")
                return box, True
        if existing is not None and existing.status == Status.OPEN and existing.point_id == point.pk:
            return existing, False
        raise ValidationError(_in_use_message(existing), code="in_use")


def add_tube(user, box, barcode, now=None):
    """Put a tube into an open box; (entry, created). Only closed or sealed tubes of the box's
    round and point; a closed tube is sealed as it goes in (a boxed tube must not be reopened or
    have a sample moved out). A tube already in this box is not added twice."""
    now = now or timezone.now()
    code = tube_code(barcode)
    _may(user, box, "transport.pack_box", _("You are not posted at this box's point."))
    with transaction.atomic():
        box = _locked(box)
        if box.status != Status.OPEN:
            raise ValidationError(
                _("Box %(box)s is %(status)s: tubes go only into an open box.")
                % {"box": box.barcode, "status": box.get_status_display()}
            )
        entry = box.tubes.filter(barcode=code).first()
        if entry is not None:
            return entry, False
        tube = Tube.objects.select_for_update().filter(barcode=code).first()
        _check_tube_fits(box, tube, code)
        if tube.status == Tube.Status.CLOSED:
            try:
                testing_services.set_tube_status(
                    user, tube, Tube.Status.SEALED, _("Sealed into box %(box)s") % {"box": box.barcode}
                )
            except PermissionDenied as exc:
                raise PermissionDenied(str(exc)) from None
        try:
            with transaction.atomic():
                entry = BoxTube.objects.create(box=box, tube=tube, barcode=code, added_at=now, added_by=user)
        except IntegrityError:
            raise ValidationError(_("Tube %(tube)s is already in another box.") % {"tube": code}) from None
        first = Sample.objects.filter(tube=tube, status=Sample.Status.ACTIVE).aggregate(t=Min("scanned_at"))[
            "t"
        ]
        if first is not None and (box.first_sample_at is None or first < box.first_sample_at):
            _set_first_sample(box, first)
        _event(box, Kind.TUBE_ADDED, user, now, point=box.point, barcode=code)
    return entry, True


def _check_tube_fits(box, tube, code):
    if tube is None:
        raise ValidationError(_("No tube has the barcode %(tube)s.") % {"tube": code}, code="unknown")
    if tube.campaign_id != box.campaign_id or tube.point_id != box.point_id:
        raise ValidationError(
            _("Tube %(tube)s was filled at another point or in another round: it does not go into this box.")
            % {"tube": code},
            code="other_point",
        )
    if tube.status == Tube.Status.OPEN:
        raise ValidationError(
            _("Tube %(tube)s is still open at its desk: close it first.") % {"tube": code}, code="open"
        )
    other = (
        BoxTube.objects.filter(tube=tube, state__in=(State.PACKED, State.FOUND)).select_related("box").first()
    )
    if other is not None:
        raise ValidationError(
            _("Tube %(tube)s is already in box %(box)s.") % {"tube": code, "box": other.box.barcode},
            code="in_box",
        )


def _set_first_sample(box, first):
    box.first_sample_at = first
    box.due_at = first + datetime.timedelta(hours=box.campaign.transport_hours) if first else None
    box.save(update_fields=["first_sample_at", "due_at", "last_updated"])


def remove_tube(user, box, barcode, now=None):
    """Take a tube out of an open box (scanned in by mistake); its tube stays sealed."""
    now = now or timezone.now()
    code = identity.normalise_text(barcode)
    _may(user, box, "transport.pack_box", _("You are not posted at this box's point."))
    with transaction.atomic():
        box = _locked(box)
        if box.status != Status.OPEN:
            raise ValidationError(_("The box is sealed: its tubes stay in it."))
        entry = box.tubes.filter(barcode=code).first()
        if entry is None:
            raise ValidationError(_("Tube %(tube)s is not in this box.") % {"tube": code})
        entry.delete()
        first = Sample.objects.filter(tube__box_entries__box=box, status=Sample.Status.ACTIVE).aggregate(
            t=Min("scanned_at")
        )["t"]
        _set_first_sample(box, first)
        _event(box, Kind.TUBE_REMOVED, user, now, point=box.point, barcode=code)
    return box


def seal_box(user, box, count=None, now=None):
    """Seal the box with its tube count. `count`, when given, is what the sampler counted in the
    box: a different number is refused (a tube not scanned, or scanned and left out). Sealing a
    sealed box again changes nothing (a retry)."""
    now = now or timezone.now()
    _may(user, box, "transport.pack_box", _("You are not posted at this box's point."))
    with transaction.atomic():
        box = _locked(box)
        if box.status != Status.OPEN:
            if box.status == Status.SEALED:
                return box
            raise ValidationError(_("Box %(box)s was sealed already.") % {"box": box.barcode})
        tubes = box.tubes.count()
        if tubes == 0:
            raise ValidationError(_("The box is empty: scan its tubes first."))
        if count is not None and count != tubes:
            raise ValidationError(
                _("You counted %(count)d tubes but %(n)d were scanned: find the difference before sealing.")
                % {"count": count, "n": tubes}
            )
        box.transition(Status.SEALED, sealed_at=now, sealed_by=user, tube_count=tubes)
        _event(box, Kind.SEALED, user, now, point=box.point, note=_("%(n)d tubes") % {"n": tubes})
    return box


def discard_box(user, box, note="", now=None):
    """Discard an empty open box (a label scanned by mistake): its barcode is free again."""
    now = now or timezone.now()
    _may(user, box, "transport.pack_box", _("You are not posted at this box's point."))
    with transaction.atomic():
        box = _locked(box)
        if box.status != Status.OPEN or box.tubes.exists():
            raise ValidationError(_("Only an empty box that is still open can be discarded."))
        box.transition(Status.DISCARDED, note)
        _event(box, Kind.DISCARDED, user, now, point=box.point, note=note[:300])
    return box


# Pick-up (couriers of the area)


def pick_up(user, box, now=None):
    """The courier takes a sealed box; (box, picked). The same courier scanning it again is a
    retry and changes nothing; another courier is told who has it."""
    now = now or timezone.now()
    _may(user, box, "transport.pickup_box", _("This box is outside the area you collect from."))
    with transaction.atomic():
        box = _locked(box)
        if box.status == Status.IN_TRANSIT:
            if box.picked_up_by_id == user.pk:
                return box, False
            raise ValidationError(
                _("Box %(box)s was picked up by %(who)s at %(time)s.")
                % {"box": box.barcode, "who": _who(box.picked_up_by), "time": _when(box.picked_up_at)},
                code="taken",
            )
        if box.status == Status.OPEN:
            raise ValidationError(
                _("Box %(box)s is not sealed yet: the point is still packing it.") % {"box": box.barcode},
                code="open",
            )
        if box.status != Status.SEALED:
            raise ValidationError(
                _("Box %(box)s is %(status)s: nothing to pick up.")
                % {"box": box.barcode, "status": box.get_status_display()},
                code="done",
            )
        box.transition(Status.IN_TRANSIT, picked_up_at=now, picked_up_by=user)
        _event(box, Kind.PICKED_UP, user, now, point=box.point, lab=box.lab)
    return box, True


# Receipt at the lab (its staff)


def _receiving(user, box):
    _may(user, box, "transport.receive_box", _("This box is not heading to your lab."))
    box = _locked(box)
    if box.status == Status.RECEIVED:
        raise ValidationError(
            _("Box %(box)s was received by %(who)s at %(time)s.")
            % {"box": box.barcode, "who": _who(box.received_by), "time": _when(box.received_at)},
            code="received",
        )
    if box.status not in (Status.SEALED, Status.IN_TRANSIT):
        raise ValidationError(
            _("Box %(box)s is %(status)s: it cannot be received.")
            % {"box": box.barcode, "status": box.get_status_display()},
            code="not_sealed",
        )
    return box


def start_receipt(user, box, now=None):
    """The lab scans the box: it has arrived (the time the deadline is measured against); its
    tubes are checked next. Scanning it again changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        box = _receiving(user, box)
        _arrive(user, box, now)
    return box


def _arrive(user, box, now):
    if box.arrived_at is None:
        box.arrived_at = now
        box.save(update_fields=["arrived_at", "last_updated"])
        _event(box, Kind.ARRIVED, user, now, lab=box.lab)


def check_tube(user, box, barcode, now=None):
    """The lab scans a tube it found in the box: "found" (on the list), "extra" (not on it: kept
    for the reconciliation) or "again" (scanned before)."""
    now = now or timezone.now()
    code = tube_code(barcode)
    with transaction.atomic():
        box = _receiving(user, box)
        _arrive(user, box, now)
        return _check(user, box, code, now)


def _check(user, box, code, now):
    entry = box.tubes.filter(barcode=code).first()
    if entry is not None and entry.state == State.PACKED:
        entry.state, entry.checked_at, entry.checked_by = State.FOUND, now, user
        entry.save(update_fields=["state", "checked_at", "checked_by"])
        return entry, "found"
    if entry is not None:
        return entry, "again"
    tube = Tube.objects.filter(barcode=code).first()
    entry = BoxTube.objects.create(
        box=box, tube=tube, barcode=code, state=State.EXTRA, added_at=now, checked_at=now, checked_by=user
    )
    return entry, "extra"


def uncheck_tube(user, box, barcode):
    """Undo a tube scan at the lab before the receipt is confirmed."""
    code = identity.normalise_text(barcode)
    with transaction.atomic():
        box = _receiving(user, box)
        entry = box.tubes.filter(barcode=code).first()
        if entry is None or entry.state == State.PACKED:
            raise ValidationError(_("Tube %(tube)s was not scanned here.") % {"tube": code})
        if entry.state == State.EXTRA:
            entry.delete()
        else:
            entry.state, entry.checked_at, entry.checked_by = State.PACKED, None, None
            entry.save(update_fields=["state", "checked_at", "checked_by"])
    return box


def reconciliation(box):
    """The box's list against what the lab scanned: {"expected", "found", "missing", "extra"} as
    lists of barcodes. Before the receipt, "missing" holds the tubes not scanned yet."""
    rows = list(box.tubes.order_by("barcode").values_list("barcode", "state"))
    found = [b for b, s in rows if s == State.FOUND]
    missing = [b for b, s in rows if s in (State.PACKED, State.MISSING)]
    extra = [b for b, s in rows if s == State.EXTRA]
    return {"expected": sorted(found + missing), "found": found, "missing": missing, "extra": extra}


def receive_box(user, box, tubes=None, note="", now=None):
    """Confirm the receipt: the tubes not scanned are missing, those scanned but not on the list
    extra; both are stored on the receipt and need a note, as does a box that arrives without a
    courier's pick-up scan. `tubes` (the API) are scanned first, in the same transaction. The
    receiver confirming again is a retry and changes nothing."""
    now = now or timezone.now()
    note = (note or "").strip()[:300]
    codes = [tube_code(t) for t in tubes or ()]
    with transaction.atomic():
        try:
            box = _receiving(user, box)
        except ValidationError as exc:
            box = Box.objects.get(pk=box.pk)
            if exc.code == "received" and box.received_by_id == user.pk:
                return box
            raise
        _arrive(user, box, now)
        for code in codes:
            _check(user, box, code, now)
        result = reconciliation(box)
        problems = []
        if result["missing"]:
            problems.append(_("%(n)d missing") % {"n": len(result["missing"])})
        if result["extra"]:
            problems.append(_("%(n)d extra") % {"n": len(result["extra"])})
        if box.status == Status.SEALED:
            problems.append(_("no pick-up scan"))
        if problems and not note:
            raise ValidationError(
                _("%(problems)s: write a note saying what you found before confirming.")
                % {"problems": "、".join(problems)},
                code="note_required",
            )
        box.tubes.filter(state=State.PACKED).update(state=State.MISSING)
        box.transition(
            Status.RECEIVED,
            note,
            received_at=box.arrived_at or now,
            received_by=user,
            missing_count=len(result["missing"]),
            extra_count=len(result["extra"]),
            receipt_note=note,
        )
        summary = _("%(found)d of %(expected)d tubes found, %(missing)d missing, %(extra)d extra") % {
            "found": len(result["found"]),
            "expected": len(result["expected"]),
            "missing": len(result["missing"]),
            "extra": len(result["extra"]),
        }
        _event(box, Kind.RECEIVED, user, now, lab=box.lab, note=f"{summary}. {note}".strip()[:300])
    return box


# Sending a box elsewhere (the command centre)


def reroute(user, box, lab, note, now=None):
    """Send a box that has not been received to another lab, with the reason."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the box goes to another lab.")})
    _may(user, box, "transport.change_box", _("You may not send this box elsewhere."))
    with transaction.atomic():
        box = _locked(box)
        if not box.in_use:
            raise ValidationError(_("Only a box on its way can be sent to another lab."))
        if not Lab.objects.restrict(user, "view").filter(pk=lab.pk, is_active=True).exists():
            raise ValidationError({"lab": _("Choose a lab that receives boxes.")})
        if lab.pk == box.lab_id:
            return box
        before = box.lab
        box.lab = lab
        box.save(update_fields=["lab", "last_updated"])
        check_in_scope(user, box, "change")
        _event(box, Kind.REROUTED, user, now, lab=lab, note=f"{before.name} → {lab.name}: {note}"[:300])
    return box


# Reads for other apps


def lab_of_tube(tube):
    """The lab the tube was delivered to: the lab of the received box it was found in (or turned
    up in as an extra tube); the latest such receipt; None if it has not reached a lab."""
    entry = (
        BoxTube.objects.filter(tube=tube, state__in=(State.FOUND, State.EXTRA), box__status=Status.RECEIVED)
        .select_related("box__lab")
        .order_by("-box__received_at", "-id")
        .first()
    )
    return entry.box.lab if entry else None


def delivered_entries(lab):
    """The box entries that deliver a tube to `lab` (a BoxTube queryset): found in its received
    boxes or turned up in them as extra tubes. A tube missing at the receipt is not delivered."""
    return BoxTube.objects.filter(
        box__lab=lab, box__status=Status.RECEIVED, state__in=(State.FOUND, State.EXTRA), tube__isnull=False
    )


def delivered_tubes(lab):
    """The tubes delivered to `lab` (a Tube queryset; see `delivered_entries`). The lab results part
    scopes a lab's results by this."""
    return Tube.objects.filter(pk__in=delivered_entries(lab).values("tube_id"))


# The transport board


def board_counts(boxes, now):
    """Counts for the board over `boxes` (already scoped and narrowed to a round), in one query."""
    in_use = Q(status__in=Box.IN_USE)
    return boxes.aggregate(
        open=Count("pk", filter=Q(status=Status.OPEN)),
        sealed=Count("pk", filter=Q(status=Status.SEALED)),
        in_transit=Count("pk", filter=Q(status=Status.IN_TRANSIT)),
        late=Count("pk", filter=in_use & Q(due_at__lt=now)),
        due_soon=Count("pk", filter=in_use & Q(due_at__gte=now, due_at__lte=now + DUE_SOON)),
        received=Count("pk", filter=Q(status=Status.RECEIVED)),
        received_late=Count("pk", filter=Q(status=Status.RECEIVED, received_at__gt=F("due_at"))),
        with_missing=Count("pk", filter=Q(status=Status.RECEIVED, missing_count__gt=0)),
    )


def board_lists(boxes, now, limit=50):
    """The boxes to act on: late (not received, deadline passed), due within 30 minutes, in transit."""
    rows = boxes.select_related("point", "lab", "picked_up_by").order_by("due_at", "id")
    in_use = rows.filter(status__in=Box.IN_USE)
    return {
        "late": list(in_use.filter(due_at__lt=now)[:limit]),
        "due_soon": list(in_use.filter(due_at__gte=now, due_at__lte=now + DUE_SOON)[:limit]),
        "in_transit": list(rows.filter(status=Status.IN_TRANSIT)[:limit]),
    }


PUNCTUALITY_BY = {
    "point": ("point_id", "point__name"),
    "courier": ("picked_up_by_id", "picked_up_by__username"),
    "lab": ("lab_id", "lab__name"),
}


def punctuality(boxes, by, now):
    """On time and late per point, courier or lab: received boxes by their receipt, and boxes not
    received whose deadline has passed (late already, whatever happens next). Exactly at the
    deadline is on time. Rows: {"key", "name", "on_time", "late", "share"} (share on time, %)."""
    key, name = PUNCTUALITY_BY[by]
    received = Q(status=Status.RECEIVED, due_at__isnull=False)
    late = (received & Q(received_at__gt=F("due_at"))) | Q(status__in=Box.IN_USE, due_at__lt=now)
    rows = (
        boxes.order_by()
        .values(key, name)
        .annotate(
            on_time=Count("pk", filter=received & Q(received_at__lte=F("due_at"))),
            late=Count("pk", filter=late),
        )
        .filter(Q(on_time__gt=0) | Q(late__gt=0))
    )
    out = []
    for row in rows:
        total = row["on_time"] + row["late"]
        out.append(
            {
                "key": row[key],
                "name": row[name] or "—",
                "on_time": row["on_time"],
                "late": row["late"],
                "share": round(100 * row["on_time"] / total, 1) if total else None,
            }
        )
    out.sort(key=lambda r: (r["share"] if r["share"] is not None else 101, -r["late"], str(r["name"])))
    return out


def recompute_deadlines(campaign):
    """A round's delivery deadline changed: every box of the round gets its new due time."""
    due = F("first_sample_at") + datetime.timedelta(hours=campaign.transport_hours)
    # Only the boxes whose due time differs: saving a round for another reason writes nothing.
    return (
        Box.objects.filter(campaign=campaign, first_sample_at__isnull=False)
        .exclude(due_at=due)
        .update(due_at=due)
    )
