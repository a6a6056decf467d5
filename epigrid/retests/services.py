"""Named service functions of the pooled-positive follow-up (decision 0023). The receiver of
`results_changed`, the pages and the demo all write through these.

- `open_follow_ups([(tube, kind)])` (and `open_follow_up(tube, kind)` for one): the follow-up and
  one task per person of each tube, in the caller's transaction (the results' own: a failure here
  refuses the batch, so a flagged tube never lacks its tasks), set-based: a LIS file flagging
  thousands of tubes costs a few queries. Idempotent: the same tube and kind again changes
  nothing; a cancelled follow-up (a correction undone) reopens with its cancelled tasks.
- `cancel_follow_up(tube, kind, reason)`: the tube was corrected away from pooled positive /
  invalid: its follow-up and still open tasks are cancelled (finished ones keep their outcome).
- `hold`, `record_retest`, `record_retest_result`, `record_resample`: the grid worker's taps, each
  under the task's row lock, in scope, through the workflow (history rows) and the change log.
- `apply_lab_results(recorded)` (the receiver of results_recorded): the lab's negative or positive
  result of a retest tube ends the tasks waiting for it, as the worker's tap would (`_resolve`, the
  one shared end); `record_retest` does the same at once when the result came first.
- A positive retest registers the person through `control.services.register_key_person` and
  proposes their building as a risk zone (`ZoneProposal`), both in the same transaction.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.audit.services import log_bulk_create
from epigrid.control import services as control_services
from epigrid.core.imports import bulk_insert
from epigrid.core.scoping import check_in_scope, may
from epigrid.core.tabular import CellError
from epigrid.results.models import Result, TubeResult
from epigrid.results.services import parse_barcode
from epigrid.retests.models import DEFAULT_DUE_HOURS, Kind, PoolFollowUp, RetestTask, ZoneProposal
from epigrid.testing.models import Sample, Tube

# The key-person category of a positive single-tube retest: a community screening positive is
# managed as a suspected case 疑似 (centralized isolation until the CDC rules it in or out; the
# protocols' "confirmed" plan is the monitoring after discharge), as an antigen positive is
# (decision 0021). Anchor: the retest's sampling day (the category's anchor is "identified").
KEY_PERSON_CATEGORY = "suspected"
KEY_PERSON_SOURCE = "testing"
# The lab's results that end a single-tube retest; pooled positive, invalid and pending leave the
# task sampled (the worker arranges another tube).
FINAL_RESULTS = (Result.NEGATIVE, Result.POSITIVE)
# Tubes per look-up query: thousands of flagged tubes stay a few queries, under SQLite's limit of
# bound parameters.
CHUNK = 10_000


def visible_follow_ups(user):
    """Follow-ups in the user's scope, and those holding a task the user sees (a grid worker's
    resident sampled at another grid's point): what the list, the API and the dashboard count."""
    own = PoolFollowUp.objects.restrict(user, "view").values("pk")
    via_tasks = RetestTask.objects.restrict(user, "view").values("follow_up_id")
    return PoolFollowUp.objects.filter(Q(pk__in=own) | Q(pk__in=via_tasks))


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
    (follow_up, created). Runs in the caller's transaction. One tube of `open_follow_ups`."""
    tube_id = tube.pk if isinstance(tube, Tube) else int(tube)
    key = (tube_id, Kind(kind).value)
    opened = open_follow_ups([key], now).get(key)
    if opened is None:
        raise Tube.DoesNotExist(f"No tube {tube_id}.")
    return opened


def open_follow_ups(flagged, now=None):
    """The follow-ups of many flagged tubes at once (`flagged`: (tube id, kind) pairs, e.g. every
    pooled positive of a LIS file) with a task per person in each; returns {(tube id, kind value):
    (follow_up, created)}. Runs in the caller's transaction.

    Set-based, because one batch may flag thousands of tubes: the existing follow-ups, the tubes,
    their samples and the areas are read in one query each (per CHUNK tubes), the new follow-ups
    and tasks are inserted in bulk with the change-log rows their saves would have written.
    Idempotent: an existing follow-up is returned, reopened if a correction had cancelled it. A
    concurrent batch inserting the same tube first (the unique constraint) sends this batch's
    new tubes through one by one, each taking the winner's row where it lost."""
    now = now or timezone.now()
    wanted = list(dict.fromkeys((int(tube_id), Kind(kind).value) for tube_id, kind in flagged))
    if not wanted:
        return {}
    existing = _existing_follow_ups(sorted({tube_id for tube_id, _kind in wanted}))
    opened = {}
    for key in wanted:
        follow = existing.get(key)
        if follow is not None:
            if follow.status == PoolFollowUp.Status.CANCELLED:
                _reopen(follow, now)  # a correction undone: rare, one by one
            opened[key] = (follow, False)
    # In tube order: two batches inserting the same tubes queue on the first one they share
    # instead of deadlocking on each other's half.
    new = sorted(key for key in wanted if key not in existing)
    if not new:
        return opened
    try:
        with transaction.atomic():
            created = _create_follow_ups(new, now)
    except IntegrityError:
        for key in new:
            opened.update(_open_one(key, now))
    else:
        opened.update({key: (follow, True) for key, follow in created.items()})
    return opened


def _existing_follow_ups(tube_ids):
    """{(tube id, kind): follow-up} of these tubes, locked in id order (a second writer waits
    here instead of reopening the same row)."""
    existing = {}
    for ids in _chunks(tube_ids):
        for follow in PoolFollowUp.objects.select_for_update().filter(tube_id__in=ids).order_by("pk"):
            existing[(follow.tube_id, follow.kind)] = follow
    return existing


def _open_one(key, now):
    try:
        with transaction.atomic():
            created = _create_follow_ups([key], now)
    except IntegrityError:
        # A concurrent batch flagged the same tube first: use its follow-up. No such follow-up:
        # the error was something else, and refuses the batch.
        winner = PoolFollowUp.objects.filter(tube_id=key[0], kind=key[1]).first()
        if winner is None:
            raise
        return {key: (winner, False)}
    return {k: (follow, True) for k, follow in created.items()}


def _chunks(values, size=None):
    size = size or CHUNK
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _create_follow_ups(keys, now):
    """Insert the follow-ups of `keys` ((tube id, kind) not opened yet) and their tasks;
    {key: follow_up}. A tube that does not exist is left out."""
    hours = due_hours()
    due_by = now + datetime.timedelta(hours=hours)
    tubes = {}
    for ids in _chunks(sorted({tube_id for tube_id, _kind in keys})):
        # The barcode names the follow-up in the change log; the point's area files it.
        tubes.update(
            (tube.pk, tube)
            for tube in Tube.objects.filter(pk__in=ids).select_related("point").only("barcode", "point__area")
        )
    follows = {
        key: PoolFollowUp(
            tube=tubes[key[0]],
            kind=key[1],
            area_id=tubes[key[0]].point.area_id,
            opened_at=now,
            due_by=due_by,
            due_hours=hours,
        )
        for key in keys
        if key[0] in tubes
    }
    if not follows:
        return {}
    # bulk_create, not COPY: a unique violation must surface as Django's IntegrityError (above).
    PoolFollowUp.objects.bulk_create(list(follows.values()))
    _create_tasks(list(follows.values()))
    return follows


def _create_tasks(follows):
    """One task per active sample of each follow-up's tube: the samples of all tubes in one
    query, the tasks written in bulk (COPY on PostgreSQL), then the change-log rows of the
    follow-ups and tasks, each as its save would have written it."""
    by_tube = {}
    for follow in follows:
        by_tube.setdefault(follow.tube_id, []).append(follow)
    tasks = []
    for ids in _chunks(sorted(by_tube)):
        samples = (
            Sample.objects.filter(tube_id__in=ids, status=Sample.Status.ACTIVE)
            .order_by("tube_id", "position")
            .values_list(
                "pk",
                "tube_id",
                "person_id",
                "person__name",
                "person__area_id",
                "person__household_id",
                "find__area_id",
                "find__name",
            )
        )
        for sample_id, tube_id, person_id, name, area_id, household_id, find_area_id, find_name in samples:
            for follow in by_tube[tube_id]:
                if person_id is None:
                    # Sampled unregistered: listed by the find's name in the find's grid until registered.
                    name, household_id = find_name or "", None
                    area_id = find_area_id or follow.area_id
                tasks.append(
                    RetestTask(
                        follow_up=follow,
                        kind=follow.kind,
                        sample_id=sample_id,
                        person_id=person_id,
                        name=name,
                        area_id=area_id,
                        household_id=household_id,
                        due_by=follow.due_by,
                    )
                )
    bulk_insert(RetestTask, tasks)
    # The change log files each row under its area's path and names a follow-up by its tube:
    # the areas are read once here, so building the rows costs no query per row.
    areas = Area.objects.in_bulk({obj.area_id for obj in [*follows, *tasks]})
    for obj in [*follows, *tasks]:
        obj.area = areas[obj.area_id]
    log_bulk_create(follows)
    log_bulk_create(tasks)
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
    (to the tube itself when it is already in the system). When that tube already has the lab's
    negative or positive result (the result came first, so nothing was waiting for it), a
    pooled-positive task is resolved by it at once, as `apply_lab_results` would have."""
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
        if retest_tube is not None and task.kind == Kind.POOLED_POSITIVE:
            stored = (
                TubeResult.objects.filter(tube=retest_tube, result__in=FINAL_RESULTS)
                .values_list("result", flat=True)
                .first()
            )
            if stored is not None:
                task = _lab_result(user, task, retest_tube.pk, code, stored)
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
    plan) and proposes their building as a risk zone, all or nothing. The worker's tap; the lab's
    own result of the retest tube ends the task the same way (`apply_lab_results`)."""
    if result not in FINAL_RESULTS:
        raise ValidationError(_("A retest result is negative or positive."), code="result")
    with transaction.atomic():
        _check(user, task)
        task = _locked(task)
        if task.kind != Kind.POOLED_POSITIVE:
            raise ValidationError(_("An invalid tube's task ends with the resample."))
        if task.status != RetestTask.Status.SAMPLED:
            raise ValidationError(_("Record the single-tube retest (its barcode) first."), code="status")
        return _resolve(user, task, result, note, timezone.now())


def _resolve(user, task, result, note, now, **fields):
    """The one end of a sampled pooled-positive task (locked by the caller), for the worker's tap
    and the lab's result alike: negative → released; positive → key person and zone proposal.
    `fields` are set with the move (the retest tube, when the result linked it)."""
    if result == Result.NEGATIVE:
        task.transition(
            RetestTask.Status.RELEASED, note=note or _("Retest negative"), resolved_at=now, **fields
        )
    else:
        _positive(user, task, note, now, **fields)
    _close_if_finished(task.follow_up_id)
    return task


def _positive(user, task, note, now, **fields):
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
        RetestTask.Status.POSITIVE,
        note=note or _("Retest positive"),
        resolved_at=now,
        key_person=entry,
        **fields,
    )
    propose_zone(task, now)


# -- the lab's result of the retest tube (the receiver of results_recorded) -------------------------


def apply_lab_results(recorded, now=None):
    """The lab's negative or positive result of a single-tube retest resolves the pooled-positive
    tasks waiting for it (sampled; matched by the retest tube, or by its barcode when the worker
    typed it before the tube was scanned into the system). `recorded`: [(tube id, barcode,
    result)] as results_recorded sends it, up to a whole LIS file: the few waiting tasks are read
    in one query and the batch is matched against them in memory, never a query per row. Runs in
    the results' transaction with user None (the system); returns the tasks it touched."""
    waiting = RetestTask.objects.filter(
        status=RetestTask.Status.SAMPLED, kind=Kind.POOLED_POSITIVE
    ).values_list("pk", "retest_tube_id", "retest_barcode")
    by_tube, by_barcode = {}, {}
    for pk, tube_id, barcode in waiting:
        if tube_id is not None:
            by_tube.setdefault(tube_id, []).append(pk)
        if barcode:
            by_barcode.setdefault(barcode, []).append(pk)
    if not by_tube and not by_barcode:
        return []
    found = {}
    # A file's `recorded` stays in the database (results.filelane): ask it for these tubes only.
    if hasattr(recorded, "matching"):
        recorded = recorded.matching(by_tube, by_barcode)
    for tube_id, barcode, result in recorded:
        if (tube_id in by_tube or barcode in by_barcode) and result in FINAL_RESULTS:
            for pk in (*by_tube.get(tube_id, ()), *by_barcode.get(barcode, ())):
                found[pk] = (tube_id, barcode, result)
    if not found:
        return []
    now = now or timezone.now()
    # Every matched task locked at once, in id order, before any follow-up is: a worker's tap
    # (task, then its follow-up) on a sibling task then waits or finishes first, never deadlocks
    # with the lab's batch. A task a tap resolved meanwhile is no longer sampled: left alone.
    tasks = list(
        RetestTask.objects.select_for_update()
        .filter(pk__in=sorted(found), status=RetestTask.Status.SAMPLED)
        .order_by("pk")
    )
    return [_lab_result(None, task, *found[task.pk], now=now) for task in tasks]


def _lab_result(user, task, tube_id, barcode, result, now=None):
    """Resolve the sampled `task` (locked by the caller) by the lab's `result` of its retest tube,
    linking the tube when only its barcode was known. In a savepoint: a positive that cannot be
    registered (an unregistered person, no protocol in force) must not refuse the lab's batch; the
    task stays sampled with a note saying why, for the worker to finish by hand."""
    fields = {} if task.retest_tube_id else {"retest_tube_id": tube_id}
    note = _("The lab's result of tube %(barcode)s: %(result)s.") % {
        "barcode": barcode,
        "result": Result(result).label,
    }
    try:
        with transaction.atomic():
            return _resolve(user, task, result, note, now or timezone.now(), **fields)
    except ValidationError as exc:
        task = RetestTask.objects.get(pk=task.pk)  # the copy in memory may hold the rolled-back move
        task.note = (
            _("The lab's result of tube %(barcode)s (%(result)s) could not be recorded: %(reason)s")
            % {"barcode": barcode, "result": Result(result).label, "reason": " ".join(exc.messages)}
        )[:200]
        if fields:
            task.retest_tube_id = tube_id
        task.save(update_fields=["note", "retest_tube", "last_updated"])
        return task


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
    if user is not None and not may(user, proposal):
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
