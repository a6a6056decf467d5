"""The demo district's centralized isolation sites 集中隔离点: a requisitioned hotel and a
purpose-built site, filed under the district, with rooms in every state.

- The hotel (floors 2-4, ten rooms a floor: an accessible room and a double on each) is staffed by
  `demo_isolation`; the purpose-built site (one floor of twenty singles) has no staff account: the
  command centre allocates there.
- Every key person whose centralized step is running lives in a room (checked in on the step's
  first day), the earliest ones at the hotel; persons whose centralized step ended have their
  stays checked out on its end day (rooms cleaned since, but those left today or yesterday still
  to be cleaned); one person was transferred from the hotel to the purpose-built site, the last
  one allocated is still on the way (allocated, not checked in), a child's parent stays as a
  companion when the district has a child in isolation, and one room of each site is out of
  service.
- Two persons went to hospital from the hotel 转院就医 (through `services.to_hospital`, their steps
  hospitalized in control): one yesterday, back today in a free room (a new stay linked to the
  hospital one), the other this morning, still there.

Moves go through `isolation.services` (the rows are few: tens, not thousands, whatever the
district's size), so the rooms' states and the stays' history are exactly what the pages make.
Deterministic for a seed on a given day: fixed orders, no randomness."""

import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Count
from django.utils import timezone

from epigrid.audit.services import log_bulk_create
from epigrid.control.models import ControlMeasure, MeasureKind
from epigrid.isolation import services
from epigrid.isolation.models import Reading, Room, Site, Stay, WasteHandover

HOTEL = ("城关区集中隔离点·雁滩酒店", "城关区雁滩路2188号", 34)
CABIN = ("城关区方舱隔离点（东岗）", "城关区东岗东路1号", 20)
# Daily rates (yuan a night) as agreed with the hotel and for the purpose-built site.
RATES = {HOTEL[0]: Decimal("180.00"), CABIN[0]: Decimal("120.00")}
EMPLOYER = "兰州建工集团有限公司"
EARLY_REASON = "专家评估：末次暴露时间核实有误，提前解除，转居家健康监测"
WASTE_COMPANY = "兰州市医疗废物集中处置中心"
WASTE_COLLECTORS = ("王建军", "李师傅")
CHECK_IN_HOUR = 15  # the transfer bus arrives in the afternoon
CHECK_OUT_HOUR = 10
OUT_OF_SERVICE_NOTE = "空调维修"
HOSPITAL_NOTES = (
    "发热38.9℃伴咳嗽，转兰州大学第一医院发热门诊",
    "腹痛待查，转甘肃省人民医院急诊",
)
BACK_NOTE = "出院：排除感染，返回隔离点继续集中隔离"
MAX_PAST_STAYS = 12  # stays already over: enough for the history, few enough to keep rooms free


def _at(day, hour):
    # Never later than the build: today's events happened by now.
    return min(timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0))), timezone.now())


def _rooms(site, floors, per_floor, doubles=True):
    rooms = []
    for floor in floors:
        for n in range(1, per_floor + 1):
            double = doubles and n == per_floor
            rooms.append(
                Room(
                    site=site,
                    number=f"{floor}{n:02d}",
                    floor=floor,
                    kind=Room.Kind.MULTI
                    if double
                    else Room.Kind.ACCESSIBLE
                    if doubles and n == 1
                    else Room.Kind.SINGLE,
                    beds=2 if double else 1,
                )
            )
    Room.objects.bulk_create(rooms)
    log_bulk_create(rooms)
    return list(site.rooms.order_by("floor", "number"))


def build_isolation(district, users, today=None):
    today = today or timezone.localdate()
    commander = users["district_commander"]
    hotel = Site.objects.create(
        name=HOTEL[0],
        kind=Site.Kind.HOTEL,
        area=district,
        address=HOTEL[1],
        capacity=HOTEL[2],
        daily_rate=RATES[HOTEL[0]],
    )
    cabin = Site.objects.create(
        name=CABIN[0],
        kind=Site.Kind.PURPOSE_BUILT,
        area=district,
        address=CABIN[1],
        capacity=CABIN[2],
        daily_rate=RATES[CABIN[0]],
    )
    if users.get("isolation_staff"):
        hotel.staff.add(users["isolation_staff"])
    free = {hotel.pk: _rooms(hotel, (2, 3, 4), 10), cabin.pk: _rooms(cabin, (1,), 20, doubles=False)}
    broken = {site.pk: free[site.pk].pop(3) for site in (hotel, cabin)}
    singles = {pk: [r for r in rooms if r.beds == 1] for pk, rooms in free.items()}
    doubles = [r for r in free[hotel.pk] if r.beds > 1]

    def next_room(companion=False):
        # A child with a parent takes a double; the others fill the hotel, then the cabin.
        if companion and doubles:
            return doubles.pop(0)
        for pk in (hotel.pk, cabin.pk):
            if singles[pk]:
                return singles[pk].pop(0)
        return None

    centralized = ControlMeasure.objects.filter(kind=MeasureKind.CENTRALIZED).select_related(
        "key_person__person__household"
    )
    _past_stays(commander, centralized, next_room, singles, today)
    # As many as the rooms take (a big district has more than two sites' worth), keeping a single
    # free at the cabin for the transfer below.
    room_count = sum(len(rooms) for rooms in singles.values()) + len(doubles) - 1
    steps = list(
        centralized.filter(status__in=(ControlMeasure.Status.ACTIVE, ControlMeasure.Status.PLANNED)).order_by(
            "start", "pk"
        )[:room_count]
    )
    # Step started: the person lives here; step from tomorrow: the room is allocated, the person on
    # the way (without such steps, the last one to start is).
    arriving = [m for m in steps if m.status == ControlMeasure.Status.PLANNED] or steps[-1:]
    _broken_room(commander, broken, arriving[:1], today)
    stays = []
    for measure in steps:
        stay = _stay(commander, measure, next_room, checked_in=measure not in arriving, today=today)
        if stay is not None:
            stays.append(stay)
    # A single person moves (a child and its parent would need a double).
    with_companion = set(
        Stay.objects.filter(companion_of__isnull=False).values_list("companion_of", flat=True)
    )
    checked_in = [
        s
        for s in stays
        if s.status == Stay.Status.CHECKED_IN and s.site_id == hotel.pk and s.pk not in with_companion
    ]
    if checked_in and singles[cabin.pk]:
        services.transfer(
            commander,
            checked_in[0],
            singles[cabin.pk].pop(),
            note="转至方舱，腾出酒店房间",
            now=_at(today, 11),
        )
    _hospital(commander, hotel, today)
    _todays_checks(commander, users.get("isolation_staff"), hotel, today)
    _payers(commander)
    _released_home(commander, users, today)
    _todays_tests(commander, users.get("isolation_staff"), hotel, today)
    _waste(commander, users.get("isolation_staff"), hotel, cabin, today)


def _hospital(commander, hotel, today):
    """Two of the hotel's persons (alone in their rooms, in since before yesterday) went to
    hospital: the first yesterday and back today in a free single, the second this morning and
    still there. Nobody else's plan changes; without such persons the demo has no hospital stay."""
    alone = Stay.objects.filter(companion_of__isnull=False).values("companion_of")
    candidates = list(
        Stay.objects.filter(
            site=hotel,
            status=Stay.Status.CHECKED_IN,
            companion_of__isnull=True,
            measure__status=ControlMeasure.Status.ACTIVE,
            checked_in_at__date__lt=today,
        )
        .exclude(pk__in=alone)
        .select_related("room")
        .order_by("checked_in_at", "pk")[:2]
    )
    if not candidates:
        return
    yesterday = _at(today - datetime.timedelta(days=1), 10)
    # The one who is back went first, yesterday, so they arrived before that; with one person only,
    # the demo shows the one in hospital now.
    if len(candidates) == 1 or candidates[0].checked_in_at >= yesterday:
        back, still = None, candidates[0]
    else:
        back, still = candidates
    if back is not None:
        gone = services.to_hospital(commander, back, HOSPITAL_NOTES[0], now=yesterday)
        room = (
            Room.objects.filter(status=Room.Status.FREE, beds=1, site__is_active=True)
            .order_by(
                # Back at the hotel when it has a free single, else at the cabin.
                models.Case(models.When(site=hotel, then=0), default=1),
                "floor",
                "number",
            )
            .first()
        )
        if room is not None:
            services.back_from_hospital(commander, gone, room, note=BACK_NOTE, now=_at(today, 10))
    services.to_hospital(commander, still, HOSPITAL_NOTES[1], now=_at(today, 8))


def _payers(commander):
    """Most stays are the government's; every fifth person pays for themselves, and the first
    stay of the hotel's third floor is paid by an employer (a building site's workers)."""
    stays = list(Stay.objects.filter(checked_in_at__isnull=False).order_by("site_id", "room__number", "pk"))
    for i, stay in enumerate(stays):
        if i % 5 == 4:
            services.set_payer(commander, stay, Stay.Payer.SELF)
    employer = next(
        (s for s in stays if s.room.number.startswith("3") and s.payer == Stay.Payer.GOVERNMENT), None
    )
    if employer is not None:
        services.set_payer(commander, stay=employer, payer=Stay.Payer.EMPLOYER, employer=EMPLOYER)


def _released_home(commander, users, today):
    """Two persons leave today through control (at the end of their step, or released early with
    the reason): each goes home to the next step of the plan. The first is still to be received by
    their grid (the demo grid worker's, when one of theirs is in isolation); the other has been."""
    candidates = list(
        Stay.objects.filter(
            status=Stay.Status.CHECKED_IN,
            companion_of__isnull=True,
            measure__status=ControlMeasure.Status.ACTIVE,
            measure__key_person__measures__sequence__gt=1,
            # The person back from hospital stays: the showcase of the return.
            from_hospital__isnull=True,
        )
        .exclude(pk__in=Stay.objects.filter(companion_of__isnull=False).values("companion_of"))
        .select_related("measure__key_person__area")
        .distinct()
        .order_by("measure__planned_end", "pk")
    )
    # Nobody with a fever today leaves: the doctor sees them first.
    fevers = services.fever_stays(candidates, today)
    candidates = [s for s in candidates if s.pk not in fevers]
    grid = users.get("grid_worker")
    paths = grid.scope_paths("control.change_keyperson") if grid is not None else None

    def order(stay):
        # At the planned end first (the usual way out; an early release moves the plan), then the
        # demo grid worker's persons, so their today's page shows the hand-over.
        ends_today = stay.measure.planned_end is not None and stay.measure.planned_end <= today
        mine = bool(paths) and any(stay.measure.key_person.area.path.startswith(p) for p in paths)
        return (not ends_today, not mine)

    chosen = sorted(candidates, key=order)[:2]
    for i, stay in enumerate(chosen):
        early = stay.measure.planned_end and stay.measure.planned_end > today
        stay = services.check_out(
            commander,
            stay,
            note="" if early else "集中隔离期满",
            early_reason=EARLY_REASON if early else "",
        )
        if i == 1 and stay.home_step_id:
            # Received by the first demo official whose area the person comes home to (a big
            # district's person may live outside every demo account's area: then nobody has yet).
            receivers = [users.get(role) for role in ("grid_worker", "community_officer", "street_officer")]
            receiver = next(
                (u for u in receivers if u is not None and services.homecomings(u).filter(pk=stay.pk).exists()),
                None,
            )
            if receiver is not None:
                services.receive_home(receiver, stay)


def _todays_tests(commander, staff, hotel, today):
    """Tests due today by the protocol: the first half at each site sampled already, one with its
    negative result back."""
    for site in Site.objects.order_by("pk"):
        user = staff if site.pk == hotel.pk and staff else commander
        due = list(services.tests_due(Stay.objects.filter(site=site), today).order_by("room__number", "pk"))
        for i, stay in enumerate(due[: len(due) // 2]):
            services.record_test(user, stay, "negative" if i == 0 else "pending")


def _waste(commander, staff, hotel, cabin, today):
    """Medical waste collected every day at about 17:00 for the last three days, signed by both
    sides; today's handover at the hotel waits for the collector's signature."""
    for days_ago in (3, 2, 1, 0):
        day = today - datetime.timedelta(days=days_ago)
        for site in (hotel, cabin):
            if days_ago == 0 and site.pk == cabin.pk:
                continue
            user = staff if site.pk == hotel.pk and staff else commander
            occupied = site.stays.filter(status=Stay.Status.CHECKED_IN).count()
            handover = services.record_waste(
                user,
                site,
                bags=max(2, occupied // 3 + days_ago),
                weight_kg=Decimal(max(2, occupied // 3 + days_ago)) * Decimal("2.35"),
                company=WASTE_COMPANY,
                collector_name=WASTE_COLLECTORS[days_ago % 2],
                handed_over_at=_at(day, 17),
                now=_at(day, 17),
            )
            if days_ago:
                services.collector_signs(user, handover, now=_at(day, 17))


def _stay(commander, measure, next_room, checked_in, today):
    person = measure.key_person.person
    child = _is_child(person, today)
    room = next_room(companion=child)
    if room is None:
        return None
    # Tomorrow's arrivals were allocated this noon (after the broken room was found).
    allocated_at = _at(measure.start, 9) if measure.start <= today else _at(today, 12)
    stay = services.allocate(commander, person, room, entry=measure.key_person, now=allocated_at)
    if checked_in:
        stay = services.check_in(commander, stay, now=_at(measure.start, CHECK_IN_HOUR))
        if child:
            _companion(commander, stay, room, measure.start)
    return stay


def _broken_room(commander, broken, arriving, today):
    """Out of service at both sites; at the hotel the air conditioning failed in the room first
    allocated to tomorrow's arrival: that allocation was cancelled (a checked-out stay that never
    checked in) and the person gets another room."""
    for room in broken.values():
        if arriving and room.site.kind == Site.Kind.HOTEL:
            person = arriving[0].key_person.person
            stay = services.allocate(commander, person, room, now=_at(today, 8))
            services.check_out(commander, stay, note="房间空调故障，取消分配", now=_at(today, 10))
        services.set_out_of_service(commander, room, True, note=OUT_OF_SERVICE_NOTE)


def _is_child(person, today):
    born = person.birth_date
    return born is not None and born > _years_before(today, 18)


def _years_before(day, years):
    # 29 February has no twin in most years: the day before it stands in.
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _past_stays(commander, centralized, next_room, singles, today):
    """Stays of centralized steps already over: checked out on the step's end day; rooms left
    before yesterday have been cleaned since."""
    ended = centralized.filter(
        status__in=(ControlMeasure.Status.COMPLETED, ControlMeasure.Status.RELEASED_EARLY),
        ended_on__isnull=False,
    ).order_by("-ended_on", "-pk")[:MAX_PAST_STAYS]
    for measure in reversed(ended):
        room = next_room()
        if room is None:
            return
        stay = services.allocate(commander, measure.key_person.person, room, now=_at(measure.start, 9))
        # Linked to the step it carried out (allocate links only an open step).
        Stay.objects.filter(pk=stay.pk).update(measure=measure)
        stay = services.check_in(commander, stay, now=_at(measure.start, CHECK_IN_HOUR))
        services.check_out(commander, stay, note="集中隔离期满", now=_at(measure.ended_on, CHECK_OUT_HOUR))
        if measure.ended_on < today - datetime.timedelta(days=1):
            services.mark_clean(commander, room)
            singles[room.site_id].append(Room.objects.get(pk=room.pk))


def _companion(commander, stay, room, day):
    """A parent from the child's household stays with them as a companion (in a double room: a
    big district runs out of doubles, and a child in a single stays alone)."""
    household = stay.person.household
    if household is None or room.beds < 2:
        return
    adult = (
        household.members.exclude(pk=stay.person_id)
        .filter(birth_date__lte=_years_before(day, 18), merged_into__isnull=True)
        .exclude(pk__in=Stay.objects.filter(status__in=Stay.ACTIVE).values("person_id"))
        # Not someone under control themselves (a close contact of a traced case): they get a room
        # of their own when their own step comes.
        .exclude(key_entries__status="open")
        .order_by("birth_date", "pk")
        .first()
    )
    if adult is not None:
        companion = services.allocate(commander, adult, room, companion_of=stay, now=_at(day, 9))
        services.check_in(commander, companion, now=_at(day, CHECK_IN_HOUR))


def _todays_checks(commander, staff, hotel, today):
    """Today's temperatures at the sites: the morning check done by everyone when the build runs
    in the afternoon, and of the current check about two thirds of each site (floor by floor, so
    the phone page shows a floor done, one half done and one still due), with one fever."""
    now = timezone.now()
    slot = services.slot_at(now)
    fever_given = False
    for site in Site.objects.filter(pk__in=Stay.objects.values("site")).order_by("pk"):
        user = staff if site.pk == hotel.pk and staff else commander
        stays = list(
            Stay.objects.filter(site=site, status=Stay.Status.CHECKED_IN, checked_in_at__date__lte=today)
            .select_related("room")
            .order_by("room__floor", "room__number", "pk")
        )
        done = stays[: len(stays) * 2 // 3]
        for i, stay in enumerate(stays):
            if slot == Reading.Slot.AFTERNOON:
                services.record_reading(
                    user, stay, f"36.{2 + i % 6}", day=today, slot=Reading.Slot.MORNING, now=now
                )
            if stay not in done:
                continue
            fever = not fever_given
            fever_given = True
            services.record_reading(
                user,
                stay,
                "38.2" if fever else f"36.{3 + i % 5}",
                symptoms="咳嗽、乏力" if fever else "",
                day=today,
                slot=slot,
                now=now,
            )


def isolation_counts():
    """Sites, rooms by status, stays by status, and the places left."""
    rooms = dict(Room.objects.values_list("status").order_by().annotate(n=Count("pk")))
    stays = dict(Stay.objects.values_list("status").order_by().annotate(n=Count("pk")))
    figures = services.with_availability(Site.objects.all())
    return {
        "sites": Site.objects.count(),
        "rooms": {status: rooms.get(status, 0) for status in Room.Status.values},
        "stays": {status: stays.get(status, 0) for status in Stay.Status.values},
        "companions": Stay.objects.filter(companion_of__isnull=False).count(),
        "available": sum(services.available(site) for site in figures),
        "readings_today": Reading.objects.filter(day=timezone.localdate()).count(),
        "fevers_today": sum(site.fevers for site in services.with_fevers(Site.objects.all())),
        "tests_due_today": services.tests_due(Stay.objects.all()).count(),
        "home_to_receive": Stay.objects.filter(
            home_step__isnull=False, home_received_at__isnull=True
        ).count(),
        "home_received": Stay.objects.filter(home_received_at__isnull=False).count(),
        "payers": dict(
            Stay.objects.filter(checked_in_at__isnull=False)
            .values_list("payer")
            .order_by()
            .annotate(n=Count("pk"))
        ),
        "waste_handovers": WasteHandover.objects.count(),
    }
