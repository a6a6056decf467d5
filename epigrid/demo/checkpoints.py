"""The demo district's checkpoints 卡口: a city road entry, a district road entry and a gate for the
showcase community and each community with a controlled zone, with a week of passages.

- The last six days are written in bulk (persons and vehicles through the entries, residents
  through the gates; some refused, some sent to testing), as the counts of a week at the gates.
- Today's passages go through `checkpoints.services` as the gate page makes them: arrivals from a
  high- and a low-risk area handed to the showcase community (ledger entries made; one received,
  one waiting on today's work), a yellow code sent to testing, a red code sent to isolation, a
  resident with a fever, a car with three passengers, an override with its reason.
- `demo_checkpoint` is posted at the showcase community's gate; shifts fill today and tomorrow.

Deterministic for a seed on a given day: fixed orders and a seeded random generator."""

import datetime
import random
import uuid

from django.db.models import Count
from django.utils import timezone

from epigrid.areas.models import Area, Level
from epigrid.audit.services import log_bulk_create
from epigrid.checkpoints import services
from epigrid.checkpoints.models import Checkpoint, Decision, Passage, Shift, VehicleCheck
from epigrid.control.models import Zone
from epigrid.core.context import change_context
from epigrid.people.models import Person

DAYS = 7
PER_DAY = {"city_entry": 24, "district_entry": 16, "community_gate": 10}
PLATES = ["甘A{:05d}", "甘AD{:05d}", "陕A{:05d}", "青A{:05d}", "宁A{:05d}", "甘B{:05d}"]
ORIGINS = [
    ("天水市", "low"),
    ("西安市", "low"),
    ("西宁市", "none"),
    ("上海市浦东新区", "high"),
    ("武威市", "none"),
]


def _uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def build_checkpoints(plan, areas, users, today=None, seed=1):
    today = today or timezone.localdate()
    now = timezone.now()
    rng = random.Random(f"demo-checkpoints:{seed}")
    district = areas[plan.district.code]
    city = district.parent
    showcase = areas[plan.grids_list[0].code].parent  # the showcase grid's community
    staff = users.get("checkpoint_staff")
    entries = [
        Checkpoint.objects.create(
            name="G30连霍高速兰州东收费站",
            kind=Checkpoint.Kind.CITY_ENTRY,
            area=city,
            location="兰州东收费站出口",
        ),
        Checkpoint.objects.create(
            name="城关区雁滩路卡口",
            kind=Checkpoint.Kind.DISTRICT_ENTRY,
            area=district,
            location="雁滩路与南滨河路口",
        ),
    ]
    communities = [showcase] + [
        a
        for a in Area.objects.filter(
            pk__in=Zone.objects.exclude(status="lifted").values("area__parent_id"), level=Level.COMMUNITY
        ).order_by("code")
        if a.pk != showcase.pk
    ][:2]
    gates = [
        Checkpoint.objects.create(
            name=f"{c.name}东门", kind=Checkpoint.Kind.COMMUNITY_GATE, area=c, location="东门岗亭"
        )
        for c in communities
    ]
    if staff is not None:
        gates[0].staff.add(staff)
    for checkpoint in entries + gates:
        for day in (today, today + datetime.timedelta(days=1)):
            for starts, ends, leader in (
                (datetime.time(0), datetime.time(8), "夜班"),
                (datetime.time(8), datetime.time(16), "早班"),
                (datetime.time(16), datetime.time(23, 59), "晚班"),
            ):
                Shift.objects.create(checkpoint=checkpoint, day=day, starts=starts, ends=ends, leader=leader)
    residents = list(
        Person.objects.filter(area__path__startswith=district.path, merged_into__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:2000]
    )
    if not residents:
        return
    _past_week(rng, entries + gates, residents, today, now)
    with change_context(user=staff, source="command"):
        _today(
            rng,
            entries,
            gates[0],
            showcase,
            staff,
            [users.get(r) for r in ("grid_worker", "community_officer")],
            now,
        )


def _past_week(rng, checkpoints, residents, today, now):
    """Six days of counts at every checkpoint, written in bulk (with their change-log rows)."""
    vehicles, passages = [], []
    for back in range(DAYS - 1, 0, -1):
        day = today - datetime.timedelta(days=back)
        for checkpoint in checkpoints:
            for n in range(PER_DAY[checkpoint.kind]):
                at = timezone.make_aware(
                    datetime.datetime.combine(day, datetime.time(6 + n % 16, rng.randrange(60)))
                )
                vehicle = None
                if checkpoint.is_entry and n % 2 == 0:
                    vehicle = VehicleCheck(
                        checkpoint=checkpoint,
                        client_id=_uuid(rng),
                        at=at,
                        plate=rng.choice(PLATES).format(rng.randrange(100000)),
                        kind=rng.choice(
                            (VehicleCheck.Kind.CAR, VehicleCheck.Kind.CAR, VehicleCheck.Kind.TRUCK)
                        ),
                    )
                    vehicles.append(vehicle)
                origin, risk = rng.choice(ORIGINS) if checkpoint.is_entry else ("", "none")
                roll = rng.random()
                decision = (
                    Decision.REFUSE
                    if roll < 0.04
                    else Decision.TESTING
                    if roll < 0.12
                    else Decision.ISOLATION
                    if roll < 0.13
                    else Decision.PASS
                )
                passages.append(
                    Passage(
                        checkpoint=checkpoint,
                        client_id=_uuid(rng),
                        at=at,
                        direction="in" if checkpoint.is_entry or n % 2 else "out",
                        person_id=rng.choice(residents),
                        vehicle=vehicle,
                        origin=origin,
                        origin_risk=risk if risk != "high" else "none",
                        temperature=rng.choice(("36.2", "36.5", "36.7", "36.4")),
                        health_code=Passage.HealthCode.GREEN
                        if decision == Decision.PASS
                        else Passage.HealthCode.YELLOW,
                        suggested=decision,
                        decision=decision,
                    )
                )
    VehicleCheck.objects.bulk_create(vehicles)
    Passage.objects.bulk_create(passages)
    log_bulk_create(vehicles)
    log_bulk_create(passages)


def _today(rng, entries, gate, community, staff, receivers, now):
    """Today's passages through the service, as the gate page sends them."""
    protocol_persons = list(
        Person.objects.filter(
            area__path__startswith=community.path, merged_into__isnull=True, household__isnull=False
        )
        .exclude(key_entries__status="open")
        .order_by("id")[:12]
    )
    if len(protocol_persons) < 10:
        return
    p = iter(protocol_persons)
    entry = entries[1]
    car = {"client_id": str(_uuid(rng)), "plate": "甘A·2B668", "kind": "car"}
    scans = [
        # Arrivals handed to the showcase community: one from a high-risk area, one from a low-risk one.
        _scan(
            rng,
            entry,
            next(p),
            now,
            95,
            origin="上海市浦东新区",
            origin_risk="high",
            destination=community.code,
        ),
        _scan(rng, entry, next(p), now, 90, origin="天水市", origin_risk="low", destination=community.code),
        # A car with three passengers.
        *[_scan(rng, entry, next(p), now, 80, vehicle=car, temperature="36.4") for _ in range(3)],
        # Codes and a fever at the community gate.
        _scan(rng, gate, next(p), now, 60, health_code="yellow"),
        _scan(rng, gate, next(p), now, 45, health_code="red"),
        _scan(rng, gate, next(p), now, 30, temperature="37.9"),
        # An override with its reason.
        _scan(
            rng,
            gate,
            next(p),
            now,
            15,
            health_code="yellow",
            decision="pass",
            reason="持当日阴性证明，送检后返回",
        ),
        _scan(rng, gate, next(p), now, 5, direction="out"),
    ]
    # The system records at the road entry (no demo account is posted there), the gate's staff at the gate.
    services.record(None, scans[:5], now=now, posts={entry.pk: entry})
    services.record(staff, scans[5:], now=now, posts={gate.pk: gate})
    # The first arrival has been received by a demo official of its area (the other one waits).
    handed = (
        Passage.objects.filter(handed_to__path__startswith=community.path, received_at__isnull=True)
        .select_related("handed_to")
        .order_by("at")
        .first()
    )
    receiver = next(
        (u for u in receivers if u is not None and handed and services.may_receive(u, handed)), None
    )
    if receiver is not None:
        services.receive(receiver, handed)


def _scan(rng, checkpoint, person, now, minutes_ago, **fields):
    return {
        "client_id": str(_uuid(rng)),
        "checkpoint": checkpoint.pk,
        "at": (now - datetime.timedelta(minutes=minutes_ago)).isoformat(),
        "direction": "in",
        "health_code": "green",
        "person": {"doc_number": person.doc_number},
        **fields,
    }


def checkpoint_counts():
    today = timezone.localdate()
    return {
        "checkpoints": Checkpoint.objects.count(),
        "passages": Passage.objects.count(),
        "today": Passage.objects.filter(at__date=today).count(),
        "vehicles": VehicleCheck.objects.count(),
        "decisions": dict(Passage.objects.order_by().values_list("decision").annotate(n=Count("id"))),
        "handed_to_communities": Passage.objects.filter(handed_to__isnull=False).count(),
        "waiting_to_be_received": Passage.objects.filter(
            handed_to__isnull=False, received_at__isnull=True
        ).count(),
    }
