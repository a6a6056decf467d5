"""What the person and household pages show of control (registered in ControlConfig.ready through
core.panels, so `people` and `areas` never import control; decision 0016): the open key-person
entry with its current measure and days left, the risk zones covering the household, and a
one-tap link to register a person as a key person. A few queries per page, whatever the data."""

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from epigrid.control import worklists
from epigrid.control.models import ControlMeasure, KeyPerson, Zone


def _prefixes(path):
    return [path[: i + 1] for i, char in enumerate(path) if char == "/" and i > 0]


def _narrowest_first(zone):
    return (-len(zone.area.path), zone.building_id is None, not zone.unit, -zone.pk)


def zones_covering(area, building_id=None, unit=""):
    """Zones in force (or being lifted) on `area` or an area above it, on the whole area or on
    `building_id` (the whole building or `unit`); the narrowest first. One query."""
    prefixes = _prefixes(area.path)
    where = Q(building__isnull=True)
    if building_id:
        where |= Q(building_id=building_id, unit="") | Q(building_id=building_id, unit=unit or "\0")
    zones = (
        Zone.objects.filter(where, area__path__in=prefixes)
        .exclude(status=Zone.Status.LIFTED)
        .select_related("area", "building")
    )
    return sorted(zones, key=_narrowest_first)


def zones_in_force():
    """{area path: [zones]} of every zone not lifted (with area and building), for
    `zones_covering_among`: a checkpoint keeps it a few seconds instead of asking per scan."""
    by_path = {}
    for zone in Zone.objects.exclude(status=Zone.Status.LIFTED).select_related("area", "building"):
        by_path.setdefault(zone.area.path, []).append(zone)
    return by_path


def zones_covering_among(by_path, area, building_id=None, unit=""):
    """`zones_covering` answered from `zones_in_force()`'s map: the same zones, no query."""
    found = [
        zone
        for prefix in _prefixes(area.path)
        for zone in by_path.get(prefix, ())
        if zone.building_id is None
        or (building_id and zone.building_id == building_id and (not zone.unit or zone.unit == unit))
    ]
    return sorted(found, key=_narrowest_first)


def entry_summary(entry, measures, today):
    """The entry with the step it is in today and the days left until its last step ends."""
    steps = [m for m in measures if m.status != ControlMeasure.Status.CANCELLED]
    ends = [m.planned_end for m in steps]
    end = max(ends) if ends and None not in ends else None
    return {
        "entry": entry,
        "step": worklists.current_step(steps, today),
        "end": end,
        "days_left": (end - today).days if end else None,
    }


def _rights(user):
    return user.has_scoped_perm("control.view_keyperson"), user.has_scoped_perm("control.add_keyperson")


def register_url(person):
    return f"{reverse('control:keyperson_add')}?{urlencode({'person': person.pk})}"


def _zones_context(user, zones):
    visible = (
        set(
            Zone.objects.restrict(user, "view")
            .filter(pk__in=[z.pk for z in zones])
            .values_list("pk", flat=True)
        )
        if zones
        else set()
    )
    for zone in zones:
        zone.visible = zone.pk in visible
    return zones


def _open_entries(user, persons, today):
    """{person pk: summary} of the open entries the user may see, and the set of person pks under
    control in an area the user does not see."""
    entries = list(
        KeyPerson.objects.filter(person__in=persons, status=KeyPerson.Status.OPEN)
        .select_related("area")
        .prefetch_related(Prefetch("measures", queryset=ControlMeasure.objects.order_by("sequence")))
    )
    visible = (
        set(
            KeyPerson.objects.restrict(user, "view")
            .filter(pk__in=[e.pk for e in entries])
            .values_list("pk", flat=True)
        )
        if entries
        else set()
    )
    shown = {e.person_id: entry_summary(e, e.measures.all(), today) for e in entries if e.pk in visible}
    elsewhere = {e.person_id for e in entries if e.pk not in visible}
    return shown, elsewhere


def person_panel(request, person):
    may_view, may_add = _rights(request.user)
    if not (may_view or may_add) or person.is_merged:
        return None
    today = timezone.localdate()
    shown, elsewhere = _open_entries(request.user, [person.pk], today)
    household = person.household
    zones = zones_covering(
        household.area if household else person.area,
        household.building_id if household else None,
        household.unit if household else "",
    )
    return {
        "summary": shown.get(person.pk),
        "elsewhere": person.pk in elsewhere,
        "zones": _zones_context(request.user, zones),
        "register_url": register_url(person)
        if may_add and person.pk not in shown and person.pk not in elsewhere
        else "",
    }


def household_panel(request, household):
    from epigrid.people.models import Person

    may_view, may_add = _rights(request.user)
    if not (may_view or may_add):
        return None
    today = timezone.localdate()
    members = list(
        Person.objects.restrict(request.user, "view")
        .filter(household=household, merged_into__isnull=True)
        .only("pk", "name")
        .order_by("name", "pk")
    )
    shown, elsewhere = _open_entries(request.user, [m.pk for m in members], today)
    for member in members:
        member.summary = shown.get(member.pk)
        member.elsewhere = member.pk in elsewhere
        member.register_url = (
            register_url(member) if may_add and not (member.summary or member.elsewhere) else ""
        )
    zones = zones_covering(household.area, household.building_id, household.unit)
    return {"members": members, "zones": _zones_context(request.user, zones), "may_view": may_view}
