"""Isolation-site figures (`bench/run.py --only isolation`): site occupancy city-wide with 200 sites
and 20,000 rooms (issue #11: < 200 ms).

200 sites of 100 rooms each (10 floors of 10) are added under the demo's district, with stays in
about 65% of the rooms (checked in, or allocated and on the way) and a fifth of the persons' morning
temperature of today (some fevers), so every part of the site list's one grouped query (occupied,
allocated, free rooms, fevers today, tests today) has rows to count. Then, as the district
commander (whose grant covers every site):
- isolation_site_list_commander: GET /isolation/, the site list with availability per site and the
  total over every site (services.availability);
- isolation_availability_commander: GET /api/v1/isolation-sites/availability/, every open site's
  places and the total in one answer.
Goal p95 < 200 ms (aim: half). Baseline: the page's main query (the first reading isolation_site)
run raw after each request, and all its SELECTs.

The figure needs the sites, not the residents: 13,000 of the demo's persons are put in rooms, so any
demo of 13,000 residents or more serves (e.g. `--residents 20000`); the 1M build is not needed. The
rows are bulk-inserted before and deleted afterwards (the tables vacuumed): the database stays as
built.
"""

import datetime
import random

from bench.run import analyze, emit, log, percentile, time_page

SITES = 200
FLOORS, PER_FLOOR = 10, 10  # 100 rooms a site: 20,000 rooms
PREFIX = "BENCH隔离点"
GOAL_MS = 200
TABLES = ("isolation_site", "isolation_room", "isolation_stay", "isolation_reading")


def remove_bench_sites():
    from django.db import connection

    with connection.cursor() as cursor:
        sites = "SELECT id FROM isolation_site WHERE name LIKE %s"
        like = [PREFIX + "%"]
        cursor.execute(
            f"DELETE FROM isolation_reading WHERE stay_id IN (SELECT id FROM isolation_stay WHERE site_id IN ({sites}))",
            like,
        )
        cursor.execute(f"DELETE FROM isolation_stay WHERE site_id IN ({sites})", like)
        cursor.execute(f"DELETE FROM isolation_room WHERE site_id IN ({sites})", like)
        cursor.execute("DELETE FROM isolation_site WHERE name LIKE %s", like)
        return cursor.rowcount


def add_sites(seed):
    """SITES sites with their rooms, stays and today's morning readings; returns the counts."""
    from django.utils import timezone

    from epigrid.areas.models import Area, Level
    from epigrid.isolation.models import Reading, Room, Site, Stay
    from epigrid.people.models import Person

    rng = random.Random(f"bench-isolation:{seed}")
    district = Area.objects.filter(level=Level.DISTRICT).order_by("code").first()
    sites = Site.objects.bulk_create(
        [
            Site(
                name=f"{PREFIX}{n:03d}",
                kind=Site.Kind.HOTEL if n % 3 else Site.Kind.PURPOSE_BUILT,
                area=district,
                capacity=FLOORS * PER_FLOOR - 4,
                daily_rate=150,
            )
            for n in range(SITES)
        ]
    )
    rooms = Room.objects.bulk_create(
        [
            Room(site=site, number=f"{f}{r:02d}", floor=f, beds=1)
            for site in sites
            for f in range(1, FLOORS + 1)
            for r in range(1, PER_FLOOR + 1)
        ],
        batch_size=5000,
    )
    busy = rng.sample(rooms, int(len(rooms) * 0.65))
    taken = Stay.objects.filter(status__in=Stay.ACTIVE).values("person_id")
    persons = list(
        Person.objects.filter(merged_into__isnull=True)
        .exclude(pk__in=taken)
        .order_by("pk")
        .values_list("pk", flat=True)[: len(busy)]
    )
    if len(persons) < len(busy):
        raise SystemExit(f"bench: isolation needs {len(busy):,} persons; build a demo of that many residents")
    now = timezone.now()
    stays, occupied = [], []
    for room, person in zip(busy, persons, strict=True):
        arrived = rng.random() < 0.92
        allocated_at = now - datetime.timedelta(days=rng.uniform(0, 7))
        stays.append(
            Stay(
                person_id=person,
                site=room.site,
                room=room,
                status=Stay.Status.CHECKED_IN if arrived else Stay.Status.ALLOCATED,
                allocated_at=allocated_at,
                checked_in_at=allocated_at + datetime.timedelta(hours=2) if arrived else None,
                payer=rng.choice(Stay.Payer.values),
            )
        )
        occupied.append(room.pk)
    stays = Stay.objects.bulk_create(stays, batch_size=5000)
    Room.objects.filter(pk__in=occupied).update(status=Room.Status.OCCUPIED)
    today = timezone.localdate()
    readings = [
        Reading(
            stay=stay,
            day=today,
            slot=Reading.Slot.MORNING,
            temperature="38.1" if rng.random() < 0.02 else "36.5",
            recorded_at=now,
        )
        for stay in stays
        if stay.status == Stay.Status.CHECKED_IN and rng.random() < 0.2
    ]
    Reading.objects.bulk_create(readings, batch_size=5000)
    return {"sites": len(sites), "rooms": len(rooms), "stays": len(stays), "readings": len(readings)}


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    remove_bench_sites()
    try:
        counts = add_sites(args.seed)
        analyze(TABLES)
        log(f"bench: isolation: added {counts}")
        client = Client()
        client.force_login(get_user_model().objects.get(username="demo_commander"))
        for figure, url in (
            ("isolation_site_list_commander", "/isolation/"),
            ("isolation_availability_commander", "/api/v1/isolation-sites/availability/"),
        ):
            samples, parts = time_page(
                figure, client, [url] * (args.warmup + args.requests), args.warmup, "isolation_site"
            )
            p50, p95 = percentile(samples, 50), percentile(samples, 95)
            base95 = percentile(parts["main"], 95)
            sql95 = percentile(parts["sql"], 95)
            cpu50 = percentile(parts["cpu"], 50)
            log(
                f"bench: {figure}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; main query p95 {base95:.1f} ms, "
                f"all SELECTs p95 {sql95:.1f} ms; Python CPU p50 {cpu50:.1f} ms"
            )
            emit(f"{figure}.p50", p50, "ms", None, results, requests=len(samples), **counts)
            emit(
                f"{figure}.p95",
                p95,
                "ms",
                f"p95 < {GOAL_MS} ms",
                results,
                met=p95 < GOAL_MS,
                aim=f"p95 < {GOAL_MS // 2} ms",
                aim_met=p95 < GOAL_MS // 2,
                requests=len(samples),
                queries=round(sum(parts["queries"]) / len(parts["queries"])),
                cpu_p50_ms=round(cpu50, 2),
                sql_p95_ms=round(sql95, 2),
                baseline="the page's main query run raw",
                baseline_p95_ms=round(base95, 2),
                ratio_to_query=round(p95 / base95, 1),
                notes="needs 13,000 persons, not the 1M build (e.g. --residents 20000)",
                **counts,
            )
            emit(f"{figure}.baseline_query", base95, "ms", None, results, requests=len(samples))
            emit(f"{figure}.ratio_to_query", p95 / base95, "x", None, results)
    finally:
        removed = remove_bench_sites()
        log(f"bench: isolation: removed {removed:,} bench sites and their rows")
        analyze(TABLES)
        connection.close()
