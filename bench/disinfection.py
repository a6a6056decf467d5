"""Disinfection figures (`bench/run.py --only disinfection`): a round's live coverage over 20,000
sites (issue #14: < 300 ms).

20,000 garbage points 垃圾收集点 are added across the demo district's grids with a rule (once a
day) at the district; today's round is generated through `disinfection.services.generate_rounds`
(timed: disinfection_generate_20000_sites, and again to show it adds nothing:
disinfection_generate_again), and half its tasks are marked done. Then, as the district commander:
- disinfection_round_page_commander: GET /disinfection/rounds/<id>/, the round page with its
  coverage by street (one GROUP BY of the round's tasks by area path, summed to the children) and
  its first sites;
- disinfection_round_coverage_api_commander: GET /api/v1/disinfection-rounds/<id>/coverage/.
Goal p95 < 300 ms (aim: half). Baseline: the page's main query (the first reading
disinfection_task: the coverage GROUP BY) run raw after each request; ratio = page p95 / query p95.

The figure needs the district's grids, not the residents: any demo serves (e.g. `--residents
20000`). The rows are removed afterwards (the tables vacuumed): the database stays as built.
"""

import time

from bench.run import analyze, emit, log, percentile, time_page

SITES = 20_000
PREFIX = "BENCH消杀点"
GOAL_MS = 300
TABLES = ("disinfection_site", "disinfection_task", "disinfection_round", "disinfection_rule")


def remove_bench_rows():
    from django.db import connection

    with connection.cursor() as cursor:
        rules = "SELECT id FROM disinfection_rule WHERE disinfectant = %s"
        cursor.execute(
            f"DELETE FROM disinfection_task WHERE round_id IN (SELECT id FROM disinfection_round WHERE rule_id IN ({rules}))",
            [PREFIX],
        )
        cursor.execute(f"DELETE FROM disinfection_round WHERE rule_id IN ({rules})", [PREFIX])
        cursor.execute("DELETE FROM disinfection_rule WHERE disinfectant = %s", [PREFIX])
        cursor.execute(
            "DELETE FROM disinfection_task WHERE site_id IN (SELECT id FROM disinfection_site WHERE name LIKE %s)",
            [PREFIX + "%"],
        )
        cursor.execute("DELETE FROM disinfection_site WHERE name LIKE %s", [PREFIX + "%"])
        return cursor.rowcount


def add_sites():
    from decimal import Decimal

    from epigrid.areas.models import Area, Level
    from epigrid.control import panels as control_zones
    from epigrid.disinfection import services
    from epigrid.disinfection.models import Site

    district = Area.objects.filter(level=Level.DISTRICT).order_by("code").first()
    by_path = control_zones.zones_in_force()
    # Grids under no zone: every site then falls to the bench's rule (sites under no zone).
    grids = [
        g
        for g in Area.objects.filter(path__startswith=district.path, level=Level.GRID).order_by("path")
        if services.zone_level(by_path, g.path) == ""
    ]
    Site.objects.bulk_create(
        [
            Site(area=grids[n % len(grids)], name=f"{PREFIX}{n:05d}", site_type="bin", size_m2=Decimal(12))
            for n in range(SITES)
        ],
        batch_size=5000,
    )
    return district, len(grids)


def emit_figure(figure, samples, parts, results, **extra):
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    base50, base95 = percentile(parts["main"], 50), percentile(parts["main"], 95)
    log(f"bench: {figure}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; the coverage query p95 {base95:.1f} ms")
    emit(f"{figure}.p50", p50, "ms", None, results, requests=len(samples), **extra)
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
        baseline_p95_ms=round(base95, 2),
        ratio_to_query=round(p95 / base95, 1) if base95 else None,
        **extra,
    )
    emit(f"{figure}.baseline_query", base95, "ms", None, results, p50=round(base50, 2), requests=len(samples))
    emit(f"{figure}.ratio_to_query", p95 / base95 if base95 else None, "x", None, results)


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from epigrid.disinfection import services
    from epigrid.disinfection.models import Rule, Task

    commander = get_user_model().objects.get(username="demo_commander")
    n = args.warmup + args.requests
    remove_bench_rows()  # leftovers of an interrupted run
    try:
        district, grids = add_sites()
        Rule.objects.create(
            area=district,
            site_type="bin",
            per_day=1,
            disinfectant=PREFIX,
            concentration=1000,
            contact_minutes=30,
        )
        analyze(TABLES, verb="ANALYZE")
        today = timezone.localdate()
        start = time.monotonic()
        rounds, created = services.generate_rounds(None, district, today)
        seconds = time.monotonic() - start
        rnd = next(r for r in rounds if r.rule.disinfectant == PREFIX)
        emit("disinfection_generate_20000_sites", seconds, "s", None, results, tasks=created, grids=grids)
        start = time.monotonic()
        _again, created_again = services.generate_rounds(None, district, today)
        emit("disinfection_generate_again", time.monotonic() - start, "s", None, results, tasks=created_again)
        ids = list(Task.objects.filter(round=rnd).order_by("pk").values_list("pk", flat=True))
        Task.objects.filter(pk__in=ids[::2]).update(
            status=Task.Status.DONE, done_at=timezone.now(), operator=commander
        )
        analyze(TABLES, verb="ANALYZE")
        due = len(ids)
        log(f"bench: disinfection round {rnd.pk}: {due:,} sites due over {grids} grids, half done")
        client = Client()
        client.force_login(commander)
        figures = [
            ("disinfection_round_page_commander", f"/disinfection/rounds/{rnd.pk}/"),
            ("disinfection_round_coverage_api_commander", f"/api/v1/disinfection-rounds/{rnd.pk}/coverage/"),
        ]
        for figure, url in figures:
            samples, parts = time_page(figure, client, [url] * n, args.warmup, "disinfection_task")
            emit_figure(figure, samples, parts, results, sites=due)
    finally:
        remove_bench_rows()
        analyze(TABLES)
        connection.close()
