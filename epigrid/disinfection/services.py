"""Named service functions of disinfection (decision 0036): the one way writes happen, for pages,
API, imports and the demo.

- `generate_rounds(user, area, day)`: for each rule in force in `area`'s subtree, one round per
  period of the day with one due task per matching site (type, and the zone level over the site
  now, from control's zones). Idempotent: the rule rows are locked, existing rounds and tasks are
  kept, so running it twice (or two officers at once) adds nothing.
- `complete(user, task, ...)`: locks the task; a retry by the same operator changes nothing, a
  second operator is refused.
- `record_trip` / `hand_over`: a vehicle's trip and its waste handed over (by the recorder,
  received by a named receiver); `plan_terminal` from a case's addresses
  (`tracing.services.case_addresses`), `schedule_terminal` (the time the residents' notice
  says), then `notify` → `record_terminal` → `post_notice`.
- Reads: `coverage(user, rounds, root)` (done ÷ due by child area, one GROUP BY) and
  `round_counts(user, round_ids)` (one GROUP BY for a page of rounds).
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.audit.services import log_bulk_create
from epigrid.control import panels as control_zones
from epigrid.core.imports import bulk_insert
from epigrid.core.scoping import may, may_at
from epigrid.disinfection.models import NO_ZONE, Round, Rule, Site, Task, Terminal, Trip, WasteKind
from epigrid.disinfection.photos import validate_photo

PLAN = "disinfection.add_round"
COMPLETE = "disinfection.change_task"
ADD_TRIP = "disinfection.add_trip"
HAND_OVER = "disinfection.change_trip"
ADD_TERMINAL = "disinfection.add_terminal"
WORK_TERMINAL = "disinfection.change_terminal"

MAX_CONCENTRATION = 100_000  # mg/L: above any working dilution (the stock itself is ~50,000)
MAX_CONTACT_MINUTES = 24 * 60
SIX = Decimal("0.000001")


def _require(user, obj, action="change"):
    if user is not None and not may(user, obj, action):
        raise PermissionDenied(_("You may not change this record."))


# -- rounds ----------------------------------------------------------------------------------------


def zone_level(by_path, area_path, building_id=None):
    """The level of the narrowest zone in force over a site (its area, or its building), or
    NO_ZONE; `by_path` is `control.panels.zones_in_force()`, read once per generation."""
    zones = control_zones.zones_covering_among(by_path, _PathOnly(area_path), building_id=building_id)
    return zones[0].level if zones else NO_ZONE


class _PathOnly:
    """What control's zone reader needs of an area: its path."""

    __slots__ = ("path",)

    def __init__(self, path):
        self.path = path


def generate_rounds(user, area, day, now=None):
    """Rounds of `day` for the rules in force in `area`'s subtree; returns (rounds, new tasks)."""
    if not may_at(user, PLAN, area):
        raise PermissionDenied(_("You may not plan disinfection rounds in %(area)s.") % {"area": area.name})
    now = now or timezone.now()
    by_path = control_zones.zones_in_force()
    rounds, created = [], 0
    with transaction.atomic():
        # One generator at a time per rule: the second finds the first's rounds and tasks.
        rules = list(
            Rule.objects.select_for_update(of=("self",))
            .filter(area__path__startswith=area.path, active=True)
            .select_related("area")
            .order_by("pk")
        )
        levels = {}
        for rule in rules:
            if user is not None and not may_at(user, PLAN, rule.area):
                continue
            # Plain tuples, not model instances: a district's rule may cover tens of thousands.
            candidates = (
                Site.objects.filter(
                    area__path__startswith=rule.area.path, site_type=rule.site_type, active=True
                )
                .order_by("pk")
                .values_list("pk", "area_id", "building_id", "area__path")
            )
            sites = [
                (pk, area_id)
                for pk, area_id, building_id, path in candidates.iterator(chunk_size=5000)
                if _level(levels, by_path, pk, path, building_id) == rule.zone_level
            ]
            loaded = None
            for period in range(1, rule.per_day + 1):
                rnd, _new = Round.objects.get_or_create(
                    area=rule.area,
                    rule=rule,
                    date=day,
                    period=period,
                    defaults={
                        "site_type": rule.site_type,
                        "zone_level": rule.zone_level,
                        "team": rule.team,
                        "created_by": user,
                        "created_at": now,
                    },
                )
                have = set(rnd.tasks.values_list("site_id", flat=True))
                missing = [pk for pk, _area in sites if pk not in have]
                if missing and loaded is None:
                    # The new tasks' sites and areas in one query: the change log names each.
                    loaded = Site.objects.select_related("area").in_bulk([pk for pk, _area in sites])
                new = [Task(round=rnd, site=loaded[pk], area=loaded[pk].area) for pk in missing]
                if new:
                    bulk_insert(Task, new)
                    log_bulk_create(new)
                created += len(new)
                rounds.append(rnd)
    return rounds, created


def _level(cache, by_path, pk, path, building_id):
    if pk not in cache:
        cache[pk] = zone_level(by_path, path, building_id)
    return cache[pk]


def _decimal(value, label, low, high):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(_("%(field)s is not a number.") % {"field": label}) from None
    if not low <= number <= high:
        raise ValidationError(
            _("%(field)s must be between %(low)s and %(high)s.") % {"field": label, "low": low, "high": high}
        )
    return number


def _evidence(disinfectant, concentration, contact_minutes, area_treated_m2):
    disinfectant = (disinfectant or "").strip()
    if not disinfectant:
        raise ValidationError(_("Name the disinfectant."))
    concentration = _decimal(concentration, _("Concentration (mg/L)"), 1, MAX_CONCENTRATION)
    minutes = _decimal(contact_minutes, _("Contact time (min)"), 1, MAX_CONTACT_MINUTES)
    treated = _decimal(area_treated_m2, _("Area treated (m²)"), 0, 10_000_000)
    if concentration is None or minutes is None:
        raise ValidationError(_("Give the concentration and the contact time."))
    return disinfectant[:60], int(concentration), int(minutes), treated


def complete(
    user,
    task,
    *,
    disinfectant,
    concentration,
    contact_minutes,
    area_treated_m2=None,
    photo=None,
    latitude=None,
    longitude=None,
    note="",
    done_at=None,
):
    """Record a site disinfected: the photo is required (checked as an image), GPS optional."""
    disinfectant, concentration, minutes, treated = _evidence(
        disinfectant, concentration, contact_minutes, area_treated_m2
    )
    lat = _decimal(latitude, _("Latitude"), -90, 90)
    lon = _decimal(longitude, _("Longitude"), -180, 180)
    with transaction.atomic():
        task = Task.objects.select_for_update().select_related("site", "round").get(pk=task.pk)
        _require(user, task)
        if task.status == Task.Status.DONE:
            if user is not None and task.operator_id == getattr(user, "pk", None):
                return task  # a retry (a phone resending): the first completion stands
            raise ValidationError(_("This site was already recorded as done in this round."))
        if not photo:
            raise ValidationError(_("Take a photo of the disinfected site."))
        validate_photo(photo)
        task.status = Task.Status.DONE
        task.done_at = done_at or timezone.now()
        task.operator = user
        task.disinfectant, task.concentration, task.contact_minutes = disinfectant, concentration, minutes
        task.area_treated_m2 = treated if treated is not None else task.site.size_m2
        # Six decimals (about 0.1 m) is what the columns keep: the saved row equals the returned one.
        task.latitude, task.longitude = (None if v is None else v.quantize(SIX) for v in (lat, lon))
        task.note = (note or "")[:200]
        task.photo.save(photo.name or "photo.jpg", photo, save=False)
        task.save()
    return task


def coverage(user, rounds, root):
    """Sites done ÷ due of `rounds` (a queryset or ids) under `root`, per child area of `root`:
    one GROUP BY over the tasks the user may see, summed up to the children in Python.
    Returns (rows, total); a row is {area, due, done, pct}."""
    children = list(Area.objects.filter(parent=root).select_related("parent").order_by("path"))
    grouped = (
        Task.objects.restrict(user)
        .filter(round__in=rounds, area__path__startswith=root.path)
        .values("area__path")
        .annotate(due=Count("pk"), done=Count("pk", filter=Q(status=Task.Status.DONE)))
        .order_by()
    )
    rows = {c.path: {"area": c, "due": 0, "done": 0} for c in children}
    own = {"area": root, "due": 0, "done": 0}
    for item in grouped:
        path = item["area__path"]
        target = next((rows[p] for p in rows if path.startswith(p)), own)
        target["due"] += item["due"]
        target["done"] += item["done"]
    result = [r for r in rows.values() if r["due"]]
    if own["due"]:
        result.insert(0, own)
    total = {"area": root, "due": sum(r["due"] for r in result), "done": sum(r["done"] for r in result)}
    for row in (*result, total):
        row["pct"] = round(100 * row["done"] / row["due"], 1) if row["due"] else None
    return result, total


def round_counts(user, round_ids):
    """{round id: (due, done)} over the tasks the user may see: one GROUP BY for a page of rounds."""
    grouped = (
        Task.objects.restrict(user)
        .filter(round_id__in=list(round_ids))
        .values("round_id")
        .annotate(due=Count("pk"), done=Count("pk", filter=Q(status=Task.Status.DONE)))
        .order_by()
    )
    return {g["round_id"]: (g["due"], g["done"]) for g in grouped}


# -- vehicles and trips ----------------------------------------------------------------------------


def record_trip(user, vehicle, *, started_at, waste_kind=WasteKind.NONE, tonnage=0, destination="", note=""):
    if user is not None and not may(user, vehicle, "view"):
        raise PermissionDenied(_("You may not record trips of this vehicle."))
    if not may_at(user, ADD_TRIP, vehicle.area):
        raise PermissionDenied(_("You may not record trips of this vehicle."))
    tons = _decimal(tonnage or 0, _("Tonnage (t)"), 0, 100) or Decimal("0")
    if waste_kind != WasteKind.NONE and tons <= 0:
        raise ValidationError(_("Give the tonnage of the waste carried."))
    trip = Trip(
        vehicle=vehicle,
        area=vehicle.area,
        date=timezone.localtime(started_at).date(),
        started_at=started_at,
        waste_kind=waste_kind,
        tonnage=tons,
        destination=(destination or "")[:100],
        note=(note or "")[:200],
    )
    trip.full_clean()
    trip.save()
    return trip


def hand_over(user, trip, *, received_by, received_unit="", at=None):
    """The waste handed over at the destination: handed by `user` (who records it), received by
    the named receiver. Repeating the same handover changes nothing; another receiver is refused."""
    received_by = (received_by or "").strip()
    if not received_by:
        raise ValidationError(_("Name who received the load."))
    with transaction.atomic():
        trip = Trip.objects.select_for_update().get(pk=trip.pk)
        _require(user, trip)
        if trip.waste_kind == WasteKind.NONE:
            raise ValidationError(_("Only a trip carrying waste is handed over."))
        if trip.handed_at is not None:
            if trip.received_by == received_by:
                return trip
            raise ValidationError(_("Already handed over to %(name)s.") % {"name": trip.received_by})
        trip.handed_by = user
        trip.handed_at = at or timezone.now()
        trip.received_by = received_by[:50]
        trip.received_unit = (received_unit or "").strip()[:100]
        trip.save()
    return trip


# -- terminal disinfection -------------------------------------------------------------------------


def plan_terminal(user, case, team=None, now=None):
    """One terminal disinfection per address of the case (its home, the places of its trajectory),
    from `tracing.services.case_addresses`; idempotent. Returns (all of the case's, created)."""
    from epigrid.tracing import services as tracing

    addresses = tracing.case_addresses(case)
    for address in addresses:
        if not may_at(user, ADD_TERMINAL, address["area"]):
            raise PermissionDenied(
                _("You may not plan terminal disinfection in %(area)s.") % {"area": address["area"].name}
            )
    created = []
    with transaction.atomic():
        existing = {(t.kind, t.source_key): t for t in Terminal.objects.select_for_update().filter(case=case)}
        for address in addresses:
            if (address["kind"], address["key"]) in existing:
                continue
            terminal = Terminal(
                case=case,
                case_label=str(case),
                kind=address["kind"],
                area=address["area"],
                building=address["building"],
                address=address["address"],
                source_key=address["key"],
                team=team,
                created_at=now or timezone.now(),
            )
            terminal.save()
            created.append(terminal)
    return list(Terminal.objects.filter(case=case).order_by("kind", "pk")), created


def _step(user, terminal, target, done_states, refuse=None, **fields):
    with transaction.atomic():
        terminal = Terminal.objects.select_for_update().get(pk=terminal.pk)
        _require(user, terminal)
        if refuse and terminal.status in refuse:
            raise ValidationError(refuse[terminal.status])
        if terminal.status in done_states:
            return terminal  # repeated: the first record stands
        return terminal.transition(target, **fields)


def schedule_terminal(user, terminal, *, planned_at, contact_minutes=None, ventilation_minutes=None):
    """When the team will come, how long the disinfectant is to act and how long the rooms are
    aired after it: what the residents' notice before tells them. Changed freely until the
    disinfection is recorded (a visit put off is planned again), never after."""
    S = Terminal.Status
    if planned_at is None:
        raise ValidationError(_("Give the planned date and time."))
    minutes = _decimal(contact_minutes, _("Contact time (min)"), 1, MAX_CONTACT_MINUTES)
    airing = _decimal(ventilation_minutes, _("Ventilation (min)"), 0, MAX_CONTACT_MINUTES)
    with transaction.atomic():
        terminal = Terminal.objects.select_for_update().get(pk=terminal.pk)
        _require(user, terminal)
        if terminal.status not in (S.PLANNED, S.NOTIFIED):
            raise ValidationError(
                _("A terminal disinfection that is “%(status)s” is not planned again.")
                % {"status": terminal.get_status_display()}
            )
        terminal.planned_at = planned_at
        if minutes is not None:
            terminal.contact_minutes = int(minutes)
        if airing is not None:
            terminal.ventilation_minutes = int(airing)
        terminal.save()
    return terminal


def notify(user, terminal, at=None):
    """The residents told before (告知): who and when."""
    S = Terminal.Status
    return _step(
        user,
        terminal,
        S.NOTIFIED,
        {S.NOTIFIED, S.DISINFECTED, S.CLOSED},
        notified_at=at or timezone.now(),
        notified_by=user,
    )


def record_terminal(
    user, terminal, *, disinfectant, concentration, contact_minutes, area_treated_m2=None, note="", at=None
):
    """The disinfection itself: only once the residents were told (the national rule)."""
    S = Terminal.Status
    disinfectant, concentration, minutes, treated = _evidence(
        disinfectant, concentration, contact_minutes, area_treated_m2
    )
    return _step(
        user,
        terminal,
        S.DISINFECTED,
        {S.DISINFECTED, S.CLOSED},
        refuse={S.PLANNED: _("Tell the residents first.")},
        done_at=at or timezone.now(),
        operator=user,
        disinfectant=disinfectant,
        concentration=concentration,
        contact_minutes=minutes,
        area_treated_m2=treated,
        note=(note or "")[:200],
    )


def post_notice(user, terminal, at=None):
    """The notice posted after (公示): who and when."""
    S = Terminal.Status
    return _step(user, terminal, S.CLOSED, {S.CLOSED}, posted_at=at or timezone.now(), posted_by=user)


def cancel_terminal(user, terminal, note):
    S = Terminal.Status
    if not (note or "").strip():
        raise ValidationError(_("Give a reason."))
    return _step(user, terminal, S.CANCELLED, {S.CANCELLED}, note=note.strip()[:200])
