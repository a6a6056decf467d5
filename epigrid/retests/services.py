"""Named service functions of the pooled-positive follow-up (decision 0023). The receiver of
`results_changed`, the pages and the demo all write through these.

- `open_follow_up(tube, kind)`: the follow-up and one task per person of the tube, in the caller's
  transaction (the results' own: a failure here refuses the batch, so a flagged tube never lacks
  its tasks). Idempotent: the same tube and kind again changes nothing; a cancelled follow-up
  (a correction undone) reopens with its cancelled tasks.
- `cancel_follow_up(tube, kind, reason)`: the tube was corrected away from pooled positive /
  invalid: its follow-up and still open tasks are cancelled (finished ones keep their outcome).
- `hold`, `record_retest`, `record_retest_result`, `record_resample`: the grid worker's taps, each
  under the task's row lock, in scope, through the workflow (history rows) and the change log.
- A positive retest registers the person through `control.services.register_key_person` and
  proposes their building as a risk zone (`ZoneProposal`), both in the same transaction.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.control import services as control_services
from epigrid.core.scoping import check_in_scope
from epigrid.core.tabular import CellError
from epigrid.results.services import parse_barcode
from epigrid.retests.models import DEFAULT_DUE_HOURS, Kind, PoolFollowUp, RetestTask, ZoneProposal
from epigrid.testing.models import Sample, Tube

# The key-person category of a positive single-tube retest: a community screening positive is
# managed as a suspected case 疑似 (centralized isolation until the CDC rules it in or out; the
# protocols' "confirmed" plan is the monitoring after discharge), as an antigen positive is
# (decision 0021). Anchor: the retest's sampling day (the category's anchor is "identified").
KEY_PERSON_CATEGORY = "suspected"
KEY_PERSON_SOURCE = "testing"


def due_hours():
    return int(getattr(settings, "RETEST_DUE_HOURS", DEFAULT_DUE_HOURS))


def _check(user, task, action="change"):
    if user is None:
        return
    if not RetestTask.objects.restrict(user, action).filter(pk=task.pk).exists():
        raise PermissionDenied(_("You may not change this retest task."))


def _locked(task):
    return RetestTask.objects.select_for_update().get(pk=task.pk)


def _actor(user):
    return (user.get_full_name() or user.get_username())[:64] if user is not None else ""


# -- opening and cancelling (the receiver of results_changed) -------------------------------------


def open_follow_up(tube, kind, now=None):
    """The follow-up of `tube` for `kind` (Kind) with a task per person in it; returns
    (follow_up, created). Runs in the caller's transaction."""
    now = now or timezone.now()
    tube = tube if isinstance(tube, Tube) else Tube.objects.select_related("point").get(pk=tube)
    follow = PoolFollowUp.objects.select_for_update().filter(tube=tube, kind=kind).first()
    if follow is not None:
        if follow.status == PoolFollowUp.Status.CANCELLED:
            _reopen(follow, now)
        return follow, False
    hours = due_hours()
    try:
        with transaction.atomic():
            follow = PoolFollowUp.objects.create(
                tube=tube,
                kind=kind,
                area_id=tube.point.area_id,
                opened_at=now,
                due_by=now + datetime.timedelta(hours=hours),
                due_hours=hours,
            )
            _create_tasks(follow, now)
    except IntegrityError:  # a concurrent batch flagged the same tube first: use its follow-up
        return PoolFollowUp.objects.get(tube=tube, kind=kind), False
    return follow, True


def _create_tasks(follow, now):
    samples = (
        Sample.objects.filter(tube=follow.tube_id, status=Sample.Status.ACTIVE)
        .select_related("person", "find")
        .order_by("position")
    )
    tasks = []
    for sample in samples:
        person = sample.person
        if person is not None:
            area_id, name, household_id = person.area_id, person.name, person.household_id
        else:
            find = sample.find
            area_id = find.area_id if find is not None else follow.area_id
            name, household_id = (find.name if find is not None else ""), None
        tasks.append(
            RetestTask.objects.create(
                follow_up=follow,
                kind=follow.kind,
                sample=sample,
                person=person,
                name=name,
                area_id=area_id,
                household_id=household_id,
                due_by=follow.due_by,
            )
        )
    return tasks


def _reopen(follow, now):
    note = _("Flagged again by the lab.")
    follow.transition(
        PoolFollowUp.Status.OPEN,
        note=note,
        opened_at=now,
        due_by=now + datetime.timedelta(hours=follow.due_hours),
    )
    for task in RetestTask.objects.select_for_update().filter(
        follow_up=follow, status=RetestTask.Status.CANCELLED
    ):
        task.transition(RetestTask.Status.OPEN, note=note, due_by=follow.due_by)


def cancel_follow_up(tube_id, kind, result_label=""):
    """A correction took the tube away from `kind`: its follow-up and open tasks are cancelled."""
    follow = PoolFollowUp.objects.select_for_update().filter(tube_id=tube_id, kind=kind).first()
    if follow is None or follow.status == PoolFollowUp.Status.CANCELLED:
        return follow
    note = _("The tube's result was corrected to %(result)s.") % {"result": result_label}
    for task in RetestTask.objects.select_for_update().filter(follow_up=follow, status__in=RetestTask.ACTIVE):
        task.transition(RetestTask.Status.CANCELLED, note=note)
    if follow.status == PoolFollowUp.Status.OPEN:
        follow.transition(PoolFollowUp.Status.CANCELLED, note=note)
    return follow


def _close_if_finished(follow_id):
    follow = PoolFollowUp.objects.select_for_update().get(pk=follow_id)
    if follow.status != PoolFollowUp.Status.OPEN:
        return
    if not RetestTask.objects.filter(follow_up=follow, status__in=RetestTask.ACTIVE).exists():
        follow.transition(PoolFollowUp.Status.DONE, note=_("Every person has been followed up."))


# -- the grid worker's taps ---------------------------------------------------------------------


def hold(user, task, note=""):
    """已原地管控: the person is held in place (at home) until the retest."""
    with transaction.atomic():
        _check(user, task)
        task = _locked(task)
        if task.kind != Kind.POOLED_POSITIVE:
            raise ValidationError(_("Only a pooled-positive tube's persons are held in place."))
        return task.transition(
            RetestTask.Status.HELD, note=note or _("Held in place"), held_at=timezone.now()
        )


def _barcode(value):
    try:
        return parse_barcode(value or "")
    except CellError as exc:
        raise ValidationError(str(exc), code="barcode") from None


def record_retest(user, task, barcode, note=""):
    """已单管复核 (or 已重采 for an invalid tube): the single tube sampled, linked by its barcode
    (to the tube itself when it is already in the system)."""
    code = _barcode(barcode)
    with transaction.atomic():
        _check(user, task)
        task = _locked(task)
        if code == task.follow_up.tube.barcode:
            raise ValidationError(_("The retest needs a new tube, not the pooled one."), code="barcode")
        retest_tube = Tube.objects.filter(barcode=code).first()
        note = note or _("Single tube %(barcode)s") % {"barcode": code}
        task = task.transition(
            RetestTask.Status.SAMPLED,
            note=note,
            sampled_at=timezone.now(),
            retest_barcode=code,
            retest_tube=retest_tube,
            held_at=task.held_at or (timezone.now() if task.kind == Kind.POOLED_POSITIVE else None),
        )
        return task


def record_resample(user, task, note=""):
    """The resample of an invalid tube's person came back (or was sent on): the task is done."""
    with transaction.atomic():
        _check(user, task)
        task = _locked(task)
        if task.kind != Kind.INVALID:
            raise ValidationError(_("A pooled-positive retest ends with its result."))
        task.transition(RetestTask.Status.DONE, note=note or _("Resampled"), resolved_at=timezone.now())
        _close_if_finished(task.follow_up_id)
        return task


def record_retest_result(user, task, result, note=""):
    """复核阴性 releases the person; 复核阳性 registers them as a key person (the active protocol's
    plan) and proposes their building as a risk zone, all or nothing."""
    if result not in ("negative", "positive"):
        raise ValidationError(_("A retest result is negative or positive."), code="result")
    with transaction.atomic():
        _check(user, task)
        task = _locked(task)
        if task.kind != Kind.POOLED_POSITIVE:
            raise ValidationError(_("An invalid tube's task ends with the resample."))
        if task.status != RetestTask.Status.SAMPLED:
            raise ValidationError(_("Record the single-tube retest (its barcode) first."), code="status")
        now = timezone.now()
        if result == "negative":
            task.transition(RetestTask.Status.RELEASED, note=note or _("Retest negative"), resolved_at=now)
        else:
            _positive(user, task, note, now)
        _close_if_finished(task.follow_up_id)
        return task


def _positive(user, task, note, now):
    person = task.person
    if person is None:
        raise ValidationError(
            _("Register %(name)s as a resident first: a key person must be a registered person.")
            % {"name": task.name}
        )
    sampled = timezone.localtime(task.sampled_at or now).date()
    entry, _created = control_services.register_key_person(
        person,
        KEY_PERSON_CATEGORY,
        person.area,
        source=KEY_PERSON_SOURCE,
        identified_on=sampled,
        grid_worker=_actor(user),
        notes=_("Single-tube retest %(retest)s positive (pooled tube %(tube)s).")
        % {"retest": task.retest_barcode, "tube": task.follow_up.tube.barcode},
    )
    task.transition(
        RetestTask.Status.POSITIVE, note=note or _("Retest positive"), resolved_at=now, key_person=entry
    )
    propose_zone(task, now)


def propose_zone(task, now=None):
    """The person's building proposed as a risk zone (one open proposal per building)."""
    household = task.household
    if household is None:
        return None
    building = household.building
    existing = ZoneProposal.objects.filter(building=building, status=ZoneProposal.Status.PROPOSED).first()
    if existing is not None:
        return existing
    reason = _("Positive single-tube retest of a resident (pooled tube %(tube)s).") % {
        "tube": task.follow_up.tube.barcode
    }
    try:
        with transaction.atomic():
            return ZoneProposal.objects.create(
                building=building,
                area_id=building.area_id,
                task=task,
                reason=reason,
                proposed_at=now or timezone.now(),
            )
    except IntegrityError:
        return ZoneProposal.objects.get(building=building, status=ZoneProposal.Status.PROPOSED)


def zone_levels():
    """The active protocol's zone levels, highest first (as every protocol lists them)."""
    protocol = control_services.active_protocol()
    return list(protocol.rules["zones"]["levels"]) if protocol is not None else []


def decide_proposal(user, proposal, target, note="", level=None):
    """The street confirms or dismisses a proposal. Confirming draws the building's risk zone
    through control (`draw_zone`, at `level` or the protocol's highest), dated from the positive
    retest, in the same transaction; the user must be one who may draw zones there."""
    if user is not None and not ZoneProposal.objects.restrict(user, "change").filter(pk=proposal.pk).exists():
        raise PermissionDenied(_("You may not decide this proposal."))
    with transaction.atomic():
        proposal = ZoneProposal.objects.select_for_update().get(pk=proposal.pk)
        if target != ZoneProposal.Status.CONFIRMED:
            return proposal.transition(target, note=note)
        levels = zone_levels()
        if not levels:
            raise ValidationError(_("No protocol is in force: a zone cannot be drawn."), code="protocol")
        level = level or levels[0]
        if level not in levels:
            raise ValidationError(
                _("Unknown zone level “%(level)s”.") % {"level": str(level)[:20]}, code="level"
            )
        task = proposal.task
        case_on = (
            timezone.localdate(task.sampled_at or task.resolved_at)
            if task and (task.sampled_at or task.resolved_at)
            else None
        )
        today = timezone.localdate()
        zone = control_services.draw_zone(
            proposal.building.area, level, today, building=proposal.building, last_case_on=case_on or today
        )
        if user is not None:
            check_in_scope(user, zone, "add")  # drawing zones is the street's and the command centre's
        return proposal.transition(target, note=note, zone=zone)
