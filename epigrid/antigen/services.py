"""Named service functions of antigen self-tests (decision 0021). Pages, the API, the import and
the demo all write through these, so the rules live once:

- `hand_out` / `hand_out_many`: kits per household and round, idempotent (again = correct the count).
- `report`: one result per person and round, idempotent (again = update, the change log keeps the
  earlier one). A positive result, in the same transaction, opens the nucleic-acid follow-up and
  puts the person in the key-person ledger through `control.services.register_key_person`; if
  either fails nothing is saved. An invalid result asks for a retest.
- `report_household_negative`: the one tap "whole household negative" — never overwrites a result
  already reported.
- `batch_report`: the API's idempotent batch, one outcome per item.
- `completion`, `building_completion`, `household_completion`: kits vs reports, by area.
"""

import datetime
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from epigrid.antigen.models import (
    MAX_KITS_PER_HOUSEHOLD,
    AntigenFollowUp,
    AntigenReport,
    AntigenRound,
    KitDistribution,
    Result,
    Via,
)
from epigrid.antigen.photos import validate_photo
from epigrid.areas.models import Area, Household, Level
from epigrid.control import services as control_services
from epigrid.core.scoping import check_in_scope, may
from epigrid.people.models import Person

# The key-person category a positive self-test is registered under: a positive antigen result is
# managed as a suspected case 疑似 until the nucleic-acid test rules it in or out (decision 0021).
KEY_PERSON_CATEGORY = "suspected"
KEY_PERSON_SOURCE = "testing"
MAX_BATCH = 500
# A phone's clock may run a little ahead of the server's.
CLOCK_SLACK = datetime.timedelta(minutes=10)


def _check(user, obj, action):
    if user is not None:
        check_in_scope(user, obj, action)


def _live(person):
    while person.merged_into_id:
        person = person.merged_into
    return person


def check_covered(rnd, area):
    if not rnd.covers(area.path):
        raise ValidationError(_("This round does not cover %(area)s.") % {"area": area.name}, code="outside")


# -- kits ----------------------------------------------------------------------------------------


def check_kits(kits):
    if kits is None or not 0 <= kits <= MAX_KITS_PER_HOUSEHOLD:
        raise ValidationError(
            _("Kits per household are 0 to %(max)d.") % {"max": MAX_KITS_PER_HOUSEHOLD}, code="kits"
        )
    return kits


def hand_out(user, rnd, household, kits, at=None, note=""):
    """Record `kits` handed to `household` in `rnd`: (distribution or None, created/updated/unchanged).
    0 kits for a household without a row records nothing; for one with a row it corrects it to 0."""
    check_kits(kits)
    check_covered(rnd, household.area)
    at = at or timezone.now()
    with transaction.atomic():
        current = KitDistribution.objects.select_for_update().filter(round=rnd, household=household).first()
        if current is None:
            if kits == 0:
                return None, "unchanged"
            try:
                with transaction.atomic():  # a concurrent first hand-out of the same door
                    obj = KitDistribution.objects.create(
                        round=rnd,
                        household=household,
                        area_id=household.area_id,
                        kits=kits,
                        handed_out_at=at,
                        handed_out_by=user,
                        note=note,
                    )
            except IntegrityError:
                current = KitDistribution.objects.select_for_update().get(round=rnd, household=household)
            else:
                _check(user, obj, "add")
                return obj, "created"
        if current.kits == kits and (not note or note == current.note):
            return current, "unchanged"
        current.kits, current.handed_out_at, current.handed_out_by = kits, at, user
        if note:
            current.note = note
        current.save()
        _check(user, current, "change")
        return current, "updated"


def hand_out_many(user, rnd, counts):
    """{household: kits} for a building at once, in one transaction (the phone's one save)."""
    outcomes = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        now = timezone.now()
        for household, kits in counts.items():
            _obj, action = hand_out(user, rnd, household, kits, at=now)
            outcomes[action] += 1
    return outcomes


# -- reports -------------------------------------------------------------------------------------


def check_tested_at(rnd, tested_at, now):
    if tested_at > now + CLOCK_SLACK:
        raise ValidationError(_("A test cannot be reported for a time still to come."), code="future")
    start = timezone.make_aware(datetime.datetime.combine(rnd.starts_on, datetime.time.min))
    if tested_at < start:
        raise ValidationError(_("The test is dated before the round started."), code="early")


def report(user, rnd, person, result, *, tested_at=None, photo=None, note=None, via=Via.WORKER, now=None):
    """Report `person`'s self-test in `rnd`: (report, created/updated/unchanged).

    `user` is whoever records it: a grid worker, or None for the resident's own channel (that
    channel authenticates the person itself; scope then is theirs by definition)."""
    if result not in Result.values:
        raise ValidationError(_("The result is negative, positive or invalid."), code="result")
    now = now or timezone.now()
    person = _live(person)
    check_covered(rnd, person.area)
    if tested_at is not None:
        check_tested_at(rnd, tested_at, now)
    if photo:
        validate_photo(photo)
    with transaction.atomic():
        current = AntigenReport.objects.select_for_update().filter(round=rnd, person=person).first()
        if current is None:
            try:
                with transaction.atomic():  # a concurrent first report of the same person
                    obj = AntigenReport.objects.create(
                        round=rnd,
                        person=person,
                        household_id=person.household_id,
                        area_id=person.area_id,
                        result=result,
                        tested_at=tested_at or now,
                        via=via,
                        reported_by=user,
                        photo=photo or "",
                        note=note or "",
                        retest_requested_at=now if result == Result.INVALID else None,
                    )
            except IntegrityError:
                current = AntigenReport.objects.select_for_update().get(round=rnd, person=person)
            else:
                _check(user, obj, "add")
                _consequences(user, obj, None, now)
                return obj, "created"
        return _update(user, current, result, tested_at, photo, note, via, now)


def _update(user, current, result, tested_at, photo, note, via, now):
    previous = current.result
    same = (
        result == previous
        and (tested_at is None or tested_at == current.tested_at)
        and not photo
        and (note is None or note == current.note)
    )
    if same:
        return current, "unchanged"
    current.result = result
    current.tested_at = tested_at or (current.tested_at if result == previous else now)
    current.via, current.reported_by = via, user
    if photo:
        current.photo = photo
    if note is not None:
        current.note = note
    if result == Result.INVALID and current.retest_requested_at is None:
        current.retest_requested_at = now
    current.save()
    _check(user, current, "change")
    _consequences(user, current, previous, now)
    return current, "updated"


def _consequences(user, obj, previous, now):
    if obj.result == Result.POSITIVE:
        open_follow_up(user, obj, now)
    elif previous == Result.POSITIVE:
        # A corrected positive: the test to arrange is no longer called for. The key-person entry
        # stays: releasing it is control's decision, with its own reasons.
        follow = AntigenFollowUp.objects.filter(report=obj, status=AntigenFollowUp.Status.OPEN).first()
        if follow is not None:
            follow.transition(
                AntigenFollowUp.Status.CANCELLED,
                note=_("The report was corrected to %(result)s.") % {"result": obj.get_result_display()},
            )


def open_follow_up(user, report_, now=None):
    """The nucleic-acid follow-up of a positive report and its key-person entry (both or neither:
    the caller's transaction holds them)."""
    now = now or timezone.now()
    person = report_.person
    entry, _created = control_services.register_key_person(
        person,
        KEY_PERSON_CATEGORY,
        person.area,
        source=KEY_PERSON_SOURCE,
        identified_on=timezone.localtime(report_.tested_at).date(),
        grid_worker=(user.get_full_name() or user.get_username())[:64] if user is not None else "",
        notes=_("Antigen self-test positive (%(round)s); nucleic-acid test to arrange.")
        % {"round": report_.round.name},
    )
    follow = AntigenFollowUp.objects.select_for_update().filter(report=report_).first()
    if follow is None:
        return AntigenFollowUp.objects.create(
            report=report_,
            person=person,
            area_id=report_.area_id,
            key_person=entry,
            due_by=now + datetime.timedelta(hours=report_.round.follow_up_hours),
        )
    if follow.status == AntigenFollowUp.Status.CANCELLED:
        follow.transition(
            AntigenFollowUp.Status.OPEN,
            note=_("Positive again."),
            key_person=entry,
            due_by=now + datetime.timedelta(hours=report_.round.follow_up_hours),
        )
    return follow


def report_household_negative(user, rnd, household, tested_at=None):
    """Every live member of `household` without a result in `rnd` gets a negative one; results
    already reported are kept (a one-tap negative must never hide a positive). Returns the new
    reports."""
    members = Person.objects.filter(household=household, merged_into__isnull=True).select_related("area")
    reported = set(
        AntigenReport.objects.filter(round=rnd, person__in=members).values_list("person_id", flat=True)
    )
    created = []
    with transaction.atomic():
        for person in members:
            if person.pk in reported:
                continue
            obj, action = report(user, rnd, person, Result.NEGATIVE, tested_at=tested_at)
            if action == "created":
                created.append(obj)
    return created


def set_follow_up(user, follow, target, note=""):
    """Move a follow-up (sampled / done / cancelled) through its workflow, in scope."""
    if (
        user is not None
        and not may(user, follow)
    ):
        raise PermissionDenied(_("You may not change this follow-up."))
    if target == AntigenFollowUp.Status.CANCELLED and not (note or "").strip():
        raise ValidationError(_("Say why the test is no longer needed."), code="note")
    fields = {"sampled_at": timezone.now()} if target == AntigenFollowUp.Status.SAMPLED else {}
    if note:
        follow.note = note[:200]  # saved by transition(); its own `note` is the history's
    return follow.transition(target, note=note, **fields)


def batch_report(user, items, via=Via.API):
    """The API's batch: [{round, person, result, tested_at?, note?}] → one outcome per item, in
    order: created / updated / unchanged / refused with the reason. Idempotent per person and
    round, so a client resends a whole batch after a network failure without doubling anything."""
    if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
        raise ValidationError(_("Send 1 to %(max)d reports.") % {"max": MAX_BATCH}, code="batch")
    rounds = {r.pk: r for r in AntigenRound.objects.restrict(user, "view").prefetch_related("areas")}
    # The batch's persons in one query (each item then writes its own report).
    wanted = {_int(item.get("person")) for item in items if isinstance(item, dict)} - {None}
    persons = {p.pk: p for p in Person.objects.restrict(user, "view").select_related("area").filter(pk__in=wanted)}
    outcomes = []
    for index, item in enumerate(items):
        try:
            obj, action = _batch_item(user, rounds, persons, item, via)
        except (ValidationError, PermissionDenied) as exc:
            reason = "; ".join(getattr(exc, "messages", None) or [str(exc)])
            outcomes.append({"index": index, "status": "refused", "reason": reason, "id": None})
        else:
            outcomes.append({"index": index, "status": action, "reason": "", "id": obj.pk})
    return outcomes


def _batch_item(user, rounds, persons, item, via):
    if not isinstance(item, dict):
        raise ValidationError(_("Each report is an object."))
    rnd = rounds.get(_int(item.get("round")))
    if rnd is None:
        raise ValidationError(_("No such round that you can see."))
    person = persons.get(_int(item.get("person")))
    if person is None:
        raise ValidationError(_("No such person in your areas."))
    tested_at = None
    if item.get("tested_at"):
        tested_at = parse_datetime(str(item["tested_at"]))
        if tested_at is None:
            raise ValidationError(_("tested_at is not a date and time (ISO 8601)."))
        if timezone.is_naive(tested_at):
            tested_at = timezone.make_aware(tested_at)
    note = item.get("note")
    with transaction.atomic():  # one item refused leaves the others
        return report(
            user,
            rnd,
            person,
            str(item.get("result", "")),
            tested_at=tested_at,
            note=str(note)[:200] if note is not None else None,
            via=via,
        )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- completion ----------------------------------------------------------------------------------


def scope_grids(rnd, node=None):
    """{grid id: path} of the grids the round covers, under `node` if given."""
    q = Q()
    for area in rnd.areas.all():
        q |= Q(path__startswith=area.path)
    grids = Area.objects.filter(q, level=Level.GRID)
    if node is not None:
        grids = grids.filter(path__startswith=node.path)
    return dict(grids.values_list("id", "path"))


FIGURES = ("households", "reached", "kits", "persons", "reported", "negative", "positive", "invalid")


def _group(queryset, key, **aggregates):
    return {row[key]: row for row in queryset.values(key).annotate(**aggregates).order_by()}


def counts_by(rnd, persons, distributions, reports, households):
    """{key value: figures} from four grouped queries (each on an index by round and grid). Each
    argument is (queryset, the field to group it by)."""
    per = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    queryset, key = households
    for value, row in _group(queryset, key, n=Count("id")).items():
        per[value]["households"] = row["n"]
    queryset, key = distributions
    for value, row in _group(queryset.filter(kits__gt=0), key, n=Count("id"), k=Sum("kits")).items():
        per[value]["reached"], per[value]["kits"] = row["n"], row["k"] or 0
    # Persons served: living in a household that got kits; whom the round expects results from.
    queryset, key = persons
    got_kits = KitDistribution.objects.filter(round=rnd, household=OuterRef("household_id"), kits__gt=0)
    for value, row in _group(queryset.filter(Exists(got_kits)), key, n=Count("id")).items():
        per[value]["persons"] = row["n"]
    queryset, key = reports
    for row in queryset.values(key, "result").annotate(n=Count("id")).order_by():
        per[row[key]][row["result"]] += row["n"]
        per[row[key]]["reported"] += row["n"]
    return per


def figures(values, **extra):
    """A row: the counts plus completion (persons reported of persons served) and reach
    (households with kits of all households)."""
    row = {**dict.fromkeys(FIGURES, 0), **values, **extra}
    expected = max(row["persons"], row["reported"])
    row["missing"] = max(row["persons"] - row["reported"], 0)
    row["completion"] = round(100 * row["reported"] / expected, 1) if expected else None
    row["reach"] = round(100 * row["reached"] / row["households"], 1) if row["households"] else None
    return row


def grid_counts(rnd, grid_ids):
    ids = list(grid_ids)
    return counts_by(
        rnd,
        (Person.objects.filter(area_id__in=ids, merged_into__isnull=True), "area_id"),
        (KitDistribution.objects.filter(round=rnd, area_id__in=ids), "area_id"),
        (AntigenReport.objects.filter(round=rnd, area_id__in=ids), "area_id"),
        (Household.objects.filter(area_id__in=ids), "area_id"),
    )


def completion(rnd, node):
    """The node's row and one per child area (down to grids)."""
    grids = scope_grids(rnd, node)
    counts = grid_counts(rnd, grids)
    children = list(Area.objects.filter(parent=node).order_by("code")) if node.level < Level.GRID else []
    sums = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    total = dict.fromkeys(FIGURES, 0)
    for grid_id, path in grids.items():
        values = counts.get(grid_id, {})
        for name in FIGURES:
            total[name] += values.get(name, 0)
        for child in children:
            if path.startswith(child.path):
                for name in FIGURES:
                    sums[child.pk][name] += values.get(name, 0)
                break
    head = figures(total, code=node.code, name=node.name, level=node.level, area_id=node.pk)
    rows = [
        figures(sums[c.pk], code=c.code, name=c.name, level=c.level, area_id=c.pk)
        for c in children
        if c.pk in sums
    ]
    return head, rows


def building_completion(rnd, grid, building=None):
    """Inside one grid: per building (or, with `building`, per household) the same figures."""
    persons = Person.objects.filter(area=grid, merged_into__isnull=True)
    distributions = KitDistribution.objects.filter(round=rnd, area=grid)
    reports = AntigenReport.objects.filter(round=rnd, area=grid)
    households = Household.objects.filter(area=grid)
    if building is None:
        keys = ("household__building_id", "household__building_id", "household__building_id", "building_id")
    else:
        persons = persons.filter(household__building=building)
        distributions = distributions.filter(household__building=building)
        reports = reports.filter(household__building=building)
        households = households.filter(building=building)
        keys = ("household_id", "household_id", "household_id", "id")
    per = counts_by(
        rnd,
        (persons, keys[0]),
        (distributions, keys[1]),
        (reports, keys[2]),
        (households, keys[3]),
    )
    return [figures(values, key=value) for value, values in per.items() if value is not None]
