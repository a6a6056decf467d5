"""The demo district's disinfection 消杀: sites of every type in the showcase street (a compound,
toilets, a sampling, supply and parcel point per community; the street's roads and a square; a
garbage point and a common area per building of the showcase community), a team led by
`demo_disinfection_leader`, rules (once a day everywhere, garbage points twice; more in zones in
force), today's rounds generated from them and half done with photos, yesterday's all done; the
vehicles (spray, road, medical-waste and garbage trucks) with today's trips, tonnage and
handovers; a terminal disinfection of a demo case's home and places, at every step (the home done
with both residents' notices to print, a place planned and told, the others still to plan).

Every write goes through `disinfection.services` as the pages do. Deterministic: fixed names and
offsets, no randomness; photos are small PNGs drawn with Pillow."""

import datetime
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Q
from django.utils import timezone
from PIL import Image, ImageDraw

from epigrid.areas.models import Area, Building, Level
from epigrid.control import panels as control_zones
from epigrid.disinfection import services
from epigrid.disinfection.models import (
    Round,
    Rule,
    Site,
    SiteType,
    Task,
    Team,
    Terminal,
    Trip,
    Vehicle,
    VehicleKind,
)

H = datetime.timedelta(hours=1)
CHEMICAL = {
    SiteType.TOILET: ("含氯消毒剂", 1000, 30),
    SiteType.BIN: ("含氯消毒剂", 1000, 30),
}
DEFAULT_CHEMICAL = ("含氯消毒剂", 500, 30)


def _png(label, color=(40, 120, 90)):
    image = Image.new("RGB", (160, 120), color)
    ImageDraw.Draw(image).text((10, 50), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(f"{label}.png", buffer.getvalue(), content_type="image/png")


def _sites(street, community):
    sites = []

    def add(area, name, kind, size, building=None):
        site, _new = Site.objects.get_or_create(
            area=area, name=name, defaults={"site_type": kind, "size_m2": Decimal(size), "building": building}
        )
        sites.append(site)

    add(street, f"{street.name}主干道一", SiteType.ROAD, 12000)
    add(street, f"{street.name}主干道二", SiteType.ROAD, 9000)
    add(street, f"{street.name}文化广场", SiteType.PARK, 6500)
    for c in Area.objects.filter(parent=street, level=Level.COMMUNITY).order_by("code"):
        add(c, f"{c.name}小区", SiteType.COMPOUND, 30000)
        add(c, f"{c.name}公厕一", SiteType.TOILET, 60)
        add(c, f"{c.name}公厕二", SiteType.TOILET, 45)
        add(c, f"{c.name}核酸采样点", SiteType.SAMPLING, 200)
        add(c, f"{c.name}物资供应点", SiteType.SUPPLY, 150)
        add(c, f"{c.name}快递收发点", SiteType.PARCEL, 80)
    buildings = (
        Building.objects.filter(area__parent=community).select_related("area").order_by("area__path", "pk")
    )
    for b in buildings[:24]:
        add(b.area, f"{b.name}垃圾收集点", SiteType.BIN, 12, b)
        add(b.area, f"{b.name}楼道及电梯", SiteType.COMMON_AREA, 400, b)
    return sites


def _rules(street, team):
    levels = {
        z.level
        for path, zones in control_zones.zones_in_force().items()
        for z in zones
        if path.startswith(street.path) or street.path.startswith(path)
    }
    for kind in SiteType.values:
        chem, conc, minutes = CHEMICAL.get(kind, DEFAULT_CHEMICAL)
        for level in ("", *sorted(levels)):
            per_day = 2 if kind == SiteType.BIN or level else 1
            Rule.objects.get_or_create(
                area=street,
                site_type=kind,
                zone_level=level,
                defaults={
                    "per_day": per_day,
                    "team": team,
                    "disinfectant": chem,
                    "concentration": conc,
                    "contact_minutes": minutes,
                },
            )


def _complete(leader, tasks, when, share):
    """Complete the first `share` of tasks as the leader, a few minutes apart."""
    tasks = list(tasks)
    count = int(len(tasks) * share)
    for n, task in enumerate(tasks[:count]):
        rule = task.round.rule
        services.complete(
            leader,
            task,
            disinfectant=rule.disinfectant,
            concentration=rule.concentration,
            contact_minutes=rule.contact_minutes,
            area_treated_m2=task.site.size_m2,
            photo=_png(f"S{task.site_id}"),
            latitude=Decimal("36.061000") + Decimal(n) / 10000,
            longitude=Decimal("103.834000") + Decimal(n) / 10000,
            done_at=when + n * datetime.timedelta(minutes=4),
        )
    return count


def _vehicles(street, team, leader, now):
    fleet = [
        ("甘A·D1201", VehicleKind.SPRAY),
        ("甘A·D1202", VehicleKind.ROAD),
        ("甘A·D1203", VehicleKind.ROAD),
        ("甘A·Y0119", VehicleKind.MEDICAL),
        ("甘A·L3301", VehicleKind.GARBAGE_LARGE),
        ("甘A·S5501", VehicleKind.GARBAGE_SMALL),
    ]
    vehicles = {}
    for plate, kind in fleet:
        plate = plate.replace("·", "")
        vehicle, _new = Vehicle.objects.get_or_create(
            plate=plate, defaults={"area": street, "kind": kind, "team": team}
        )
        vehicles[kind] = vehicle
    if Trip.objects.filter(vehicle__in=vehicles.values()).exists():
        return
    start = now.replace(hour=6, minute=0, second=0, microsecond=0)
    if start > now - 2 * H:
        start = now - 6 * H
    spray = services.record_trip(
        leader, vehicles[VehicleKind.SPRAY], started_at=start, destination=f"{street.name}主干道"
    )
    medical = services.record_trip(
        leader,
        vehicles[VehicleKind.MEDICAL],
        started_at=start + H,
        waste_kind="medical",
        tonnage="0.35",
        destination="兰州市医疗废物集中处置中心",
    )
    services.hand_over(
        leader, medical, received_by="王建国", received_unit="兰州市医疗废物集中处置中心", at=start + 2 * H
    )
    for n, tons in enumerate(("8.20", "7.60", "9.10")):
        trip = services.record_trip(
            leader,
            vehicles[VehicleKind.GARBAGE_LARGE],
            started_at=start + n * 2 * H,
            waste_kind="household",
            tonnage=tons,
            destination="城关区生活垃圾转运站",
        )
        if n < 2:  # the last load is still on its way
            services.hand_over(
                leader,
                trip,
                received_by="李明",
                received_unit="城关区生活垃圾转运站",
                at=start + (n * 2 + 1) * H,
            )
    services.record_trip(
        leader,
        vehicles[VehicleKind.GARBAGE_SMALL],
        started_at=start + 30 * datetime.timedelta(minutes=1),
        waste_kind="household",
        tonnage="1.40",
        destination="城关区生活垃圾转运站",
    )
    return spray


def _terminal(district, district_user, leader, team, now):
    from epigrid.tracing.models import Case

    case = Case.objects.filter(area__path__startswith=district.path).order_by("pk").first()
    if case is None:
        return
    terminals, _created = services.plan_terminal(district_user, case, team=team, now=now - 20 * H)
    chem = ("含氯消毒剂", 1000, 60)
    for n, terminal in enumerate(terminals):
        if n > 1 or terminal.status != Terminal.Status.PLANNED:
            continue
        # The home was done this morning; the first place is due in two hours (its notice before
        # is the one to print); the other places wait for their time.
        planned = now - 17 * H if n == 0 else now + 2 * H
        services.schedule_terminal(leader, terminal, planned_at=planned, contact_minutes=chem[2])
        services.notify(leader, terminal, at=now - 18 * H + n * H)
        if n == 0:  # the home: done and the notice posted
            services.record_terminal(
                leader,
                terminal,
                disinfectant=chem[0],
                concentration=chem[1],
                contact_minutes=chem[2],
                area_treated_m2="85",
                at=now - 16 * H,
            )
            services.post_notice(leader, terminal, at=now - 15 * H)


def build_disinfection(district, community, users, today=None, now=None):
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    street_user, leader = users.get("street_officer"), users.get("disinfection_leader")
    commander = users.get("district_commander")
    if None in (street_user, leader, commander):
        return
    street = community.parent
    if not leader.first_name:
        # The residents' notices name the team leader and the number to call (masked unless revealed).
        leader.first_name, leader.phone = "刘建华", "+8613609310427"
        leader.save(update_fields=["first_name", "phone"])
    team, _new = Team.objects.get_or_create(
        area=street, name=f"{street.name}消杀一队", defaults={"leader": leader, "members": 12}
    )
    Team.objects.get_or_create(area=street, name=f"{street.name}消杀二队", defaults={"members": 8})
    _sites(street, community)
    _rules(street, team)
    yesterday = today - datetime.timedelta(days=1)
    start = timezone.make_aware(datetime.datetime.combine(yesterday, datetime.time(7, 0)))
    for day, share, begin in ((yesterday, 1.0, start), (today, 0.5, None)):
        rounds, _n = services.generate_rounds(street_user, street, day, now=now)
        tasks = (
            Task.objects.filter(round__in=rounds, status=Task.Status.DUE)
            .select_related("round__rule", "site")
            .order_by("round__period", "site__name", "pk")
        )
        when = begin or max(
            now - 5 * H, timezone.make_aware(datetime.datetime.combine(day, datetime.time(0, 5)))
        )
        _complete(leader, tasks, when, share)
    _vehicles(street, team, leader, now)
    _terminal(district, commander, leader, team, now)


def disinfection_counts():
    tasks = Task.objects.aggregate(due=Count("pk"), done=Count("pk", filter=Q(status=Task.Status.DONE)))
    return {
        "sites": dict(Site.objects.values_list("site_type").annotate(n=Count("pk")).order_by()),
        "rules": Rule.objects.count(),
        "rounds": Round.objects.count(),
        "tasks": tasks,
        "vehicles": Vehicle.objects.count(),
        "trips": Trip.objects.count(),
        "terminals": dict(Terminal.objects.values_list("status").annotate(n=Count("pk")).order_by()),
    }
