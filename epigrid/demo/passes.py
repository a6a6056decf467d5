"""The demo district's household passes 临时出入证: a controlled zone drawn by control's demo gets a
pass for each of its households (one person every two days, issued four days ago by the community),
then a few days of exits and returns at the zone's community gate, one exit refused because the
household's window was used, one person still out now, and a medical-visit pass for one resident.

Everything goes through `passes.services` (scans included), so the windows' counters, the uses and
the refusals are exactly what the gate's page records. The gate is a community gate of the zone's
community if the checkpoints demo made one (its staff sign the scans); without one, the scans carry
no checkpoint. Deterministic for a seed on a given day: fixed orders, no randomness."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils import timezone

from epigrid.checkpoints.models import Checkpoint
from epigrid.control.models import Zone
from epigrid.core.context import change_context
from epigrid.passes import codes, services
from epigrid.passes.models import HouseholdPass, PassUse

# Zone levels in the order a pass demo prefers them: where residents may go out on a quota.
PREFERRED_LEVELS = ("controlled", "medium", "high", "sealed")
DAYS_BACK = 4  # the passes were issued this many days ago
VALID_DAYS = 14
HOUSEHOLDS_OUT = 12  # households whose exits and returns are recorded
EXIT_HOUR, OUT_MINUTES = 8, 150


def _zone():
    zones = [
        z
        for z in Zone.objects.exclude(status="lifted").filter(level__in=PREFERRED_LEVELS).order_by("pk")
        if services.zone_is_controlled(z)
    ]
    zones.sort(key=lambda z: (PREFERRED_LEVELS.index(z.level), z.pk))
    for zone in zones:
        if services.control_services.zone_households(zone).exists():
            return zone
    return None


def _gate(zone):
    """A community gate inside the zone's area, or else one of the community around it."""
    gates = Checkpoint.objects.filter(kind=Checkpoint.Kind.COMMUNITY_GATE, is_active=True).order_by("pk")
    gate = gates.filter(area__path__startswith=zone.area.path).first()
    if gate is None and zone.area.parent_id:
        gate = gates.filter(area__path__startswith=zone.area.parent.path).first()
    return gate


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0))) + datetime.timedelta(
        minutes=minute
    )


def build_passes(users, today=None):
    """Passes for the chosen zone's households and a few days at its gate; returns the passes."""
    zone = _zone()
    if zone is None:
        return []
    today = today or timezone.localdate()
    now = timezone.now()
    issuer = users.get("community_officer")
    start = today - datetime.timedelta(days=DAYS_BACK)
    with change_context(user=issuer, source="command"):
        created = _issue(issuer, zone, today, start)
    gate = _gate(zone)
    scanner = _scanner(gate)
    with change_context(user=scanner, source="command"):
        _scans(created[:HOUSEHOLDS_OUT], gate, scanner, start, today, now)
        _medical(created, today, now)
    return created


def _issue(issuer, zone, today, start):
    """Issued by the community's demo officer where the zone lies in their community, else by the
    system (a zone of another community)."""
    until = _at(today + datetime.timedelta(days=VALID_DAYS), 23, 59)
    try:
        created, _kept = services.issue_for_zone(issuer, zone, valid_until=until, now=_at(start, 7, 30))
    except PermissionDenied:
        created, _kept = services.issue_for_zone(None, zone, valid_until=until, now=_at(start, 7, 30))
    return created


def _scanner(gate):
    """A member of the gate's staff signs the scans (the system when the gate has none)."""
    return gate.staff.order_by("pk").first() if gate is not None else None


def _free_members(household_pass):
    return [p for p in services.members(household_pass) if services.keeping_measure(p) is None]


def _scan(user, household_pass, person, direction, gate, at):
    code = codes.make_code(household_pass)
    try:
        return services.scan(user, code, person, direction, checkpoint=gate, at=at)
    except PermissionDenied:
        # The gate's staff are granted another community than the zone's: the system records it.
        return services.scan(None, code, person, direction, checkpoint=gate, at=at)


def _scans(passes, gate, scanner, start, today, now):
    """Every household goes out once a window, on alternate first days, and is back two and a half
    hours later; the first household's second member tries again within the window and is refused;
    today one person went out half an hour ago (or half-way since midnight) and is not back yet.
    Past days only at fixed hours, today only relative to now: the same seed gives the same uses
    whatever the time of day the demo is built."""
    user = scanner
    midnight = _at(today, 0)
    for offset in range((today - start).days + 1):
        day = start + datetime.timedelta(days=offset)
        eligible = [(i, p) for i, p in enumerate(passes) if not (i + offset) % 2 and _free_members(p)]
        if day == today:
            eligible = eligible[-1:]
        for index, household_pass in eligible:
            members = _free_members(household_pass)
            person = members[(offset // 2) % len(members)]
            if day < today:
                out_at = _at(day, EXIT_HOUR, index * 7)
            else:
                out_at = max(now - datetime.timedelta(minutes=30), midnight + (now - midnight) / 2)
            outcome = _scan(user, household_pass, person, "exit", gate, out_at)
            if outcome.allowed and day < today:
                _scan(user, household_pass, person, "return", gate, out_at + datetime.timedelta(minutes=OUT_MINUTES))
            if index == 0 and offset == 0 and len(members) > 1:
                # A second person of the household within the window: refused, the quota is used.
                _scan(user, household_pass, members[1], "exit", gate, out_at + datetime.timedelta(days=1))


def _medical(passes, today, now):
    """A medical-visit pass for today (a hospital appointment), for a person of the last household."""
    if not passes:
        return
    household_pass = passes[-1]
    members = _free_members(household_pass)
    if not members:
        return
    services.issue(
        None,
        household_pass.household,
        HouseholdPass.Kind.MEDICAL,
        holder=members[0],
        valid_from=_at(today, 7),
        valid_until=_at(today, 20),
        note="兰州大学第一医院 透析",
        now=min(_at(today, 7), now),
    )


def passes_counts():
    """Passes by kind and status, and scans by direction and outcome (refusals by reason)."""
    by_status = dict(HouseholdPass.objects.values_list("status").order_by().annotate(n=Count("pk")))
    by_kind = dict(HouseholdPass.objects.values_list("kind").order_by().annotate(n=Count("pk")))
    uses = PassUse.objects.values_list("direction", "outcome").order_by().annotate(n=Count("pk"))
    refusals = dict(
        PassUse.objects.filter(outcome="refused").values_list("reason").order_by().annotate(n=Count("pk"))
    )
    return {
        "passes": {status: by_status.get(status, 0) for status in HouseholdPass.Status.values},
        "kinds": {kind: by_kind.get(kind, 0) for kind in HouseholdPass.Kind.values},
        "uses": {f"{direction}_{outcome}": n for direction, outcome, n in uses},
        "refusals": refusals,
        "out_now": PassUse.objects.filter(
            direction="exit", outcome="allowed", return_use__isnull=True
        ).count(),
        "at_gates": PassUse.objects.filter(checkpoint__isnull=False).count(),
    }
