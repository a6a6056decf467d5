"""Sample transport figures (`bench/run.py --only transport`), on the demo's running round.

- transport_board_commander: GET /transport/?campaign=<running round> as the district commander
  with a day's 25,000 boxes in the round (the seeds' 25,000 tubes a day, as boxes: the board's
  worst case), at every stage: packing, sealed, in transit (some late, some due within 30
  minutes), received on time and late; and transport_board_panel_commander, the panel htmx
  fetches again every 15 seconds. Goal p95 < 300 ms (aim: half). Baseline: the page's main query
  (the first reading transport_box) run raw after each request, and all its SELECTs.

The boxes are bulk-inserted before and deleted afterwards (the table vacuumed): the database stays
as built.
"""

import datetime
import random

from bench.run import analyze, emit, log, percentile, time_page

BOXES = 25_000
GOAL_BOARD_MS = 300
PREFIX = "BXBENCH"


def remove_bench_boxes():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM transport_boxevent WHERE box_id IN (SELECT id FROM transport_box WHERE barcode LIKE %s)",
            [PREFIX + "%"],
        )
        cursor.execute("DELETE FROM transport_box WHERE barcode LIKE %s", [PREFIX + "%"])
        return cursor.rowcount


def add_boxes(campaign, seed):
    """BOXES boxes of the round over its walk-in points and the labs, opened through the day."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from epigrid.testing.models import SamplingPoint
    from epigrid.transport.models import Box, Lab

    rng = random.Random(f"bench-transport:{seed}")
    points = list(SamplingPoint.objects.filter(campaign=campaign, is_home_team=False).order_by("id"))
    labs = list(Lab.objects.order_by("id"))
    couriers = list(get_user_model().objects.filter(grants__role="courier").distinct()) or [None]
    if not points or not labs:
        raise SystemExit("bench: the demo has no sampling points or labs for the transport figures")
    now = timezone.now()
    hours = campaign.transport_hours
    S = Box.Status
    boxes = []
    for n in range(BOXES):
        first = now - datetime.timedelta(minutes=rng.uniform(5, 20 * 60))
        due = first + datetime.timedelta(hours=hours)
        box = Box(
            barcode=f"{PREFIX}{n:06d}",
            campaign=campaign,
            point=rng.choice(points),
            lab=rng.choice(labs),
            opened_at=first - datetime.timedelta(minutes=rng.uniform(0, 20)),
            first_sample_at=first,
            due_at=due,
        )
        roll = rng.random()
        if roll < 0.08:
            box.status = S.OPEN
        else:
            box.sealed_at = first + datetime.timedelta(minutes=rng.uniform(20, 60))
            box.tube_count = rng.randint(20, 60)
            box.status = S.SEALED
            if roll >= 0.16:
                box.status = S.IN_TRANSIT
                box.picked_up_at = box.sealed_at + datetime.timedelta(minutes=rng.uniform(5, 40))
                box.picked_up_by = rng.choice(couriers)
            if roll >= 0.36:  # most of the day's boxes are at the lab already; a tenth of them late
                late = rng.random() < 0.1
                arrived = (
                    due + datetime.timedelta(minutes=rng.uniform(1, 90))
                    if late
                    else due - datetime.timedelta(minutes=rng.uniform(5, 120))
                )
                arrived = min(arrived, now)
                box.status, box.arrived_at, box.received_at = S.RECEIVED, arrived, arrived
                box.received_by = None
        boxes.append(box)
    Box.objects.bulk_create(boxes, batch_size=5000)
    return len(boxes)


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from epigrid.testing.models import Campaign

    running = Campaign.objects.filter(status=Campaign.Status.RUNNING).order_by("-starts_at").first()
    if running is None:
        raise SystemExit("bench: the demo has no running testing round")
    remove_bench_boxes()
    try:
        added = add_boxes(running, args.seed)
        analyze(("transport_box",))
        log(f"bench: transport: {added:,} boxes added to {running.name}")
        commander = get_user_model().objects.get(username="demo_commander")
        client = Client()
        client.force_login(commander)
        url = f"/transport/?campaign={running.pk}"
        for figure, headers in (
            ("transport_board_commander", {}),
            ("transport_board_panel_commander", {"HTTP_HX_REQUEST": "true"}),
        ):
            client.defaults.clear()
            client.defaults.update(headers)
            samples, parts = time_page(
                figure, client, [url] * (args.warmup + args.requests), args.warmup, "transport_box"
            )
            p50, p95 = percentile(samples, 50), percentile(samples, 95)
            base95 = percentile(parts["main"], 95)
            sql95 = percentile(parts["sql"], 95)
            cpu50 = percentile(parts["cpu"], 50)
            log(
                f"bench: {figure}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; main query p95 {base95:.1f} ms, "
                f"all SELECTs p95 {sql95:.1f} ms; Python CPU p50 {cpu50:.1f} ms"
            )
            emit(f"{figure}.p50", p50, "ms", None, results, requests=len(samples), boxes=added)
            emit(
                f"{figure}.p95",
                p95,
                "ms",
                f"p95 < {GOAL_BOARD_MS} ms",
                results,
                met=p95 < GOAL_BOARD_MS,
                aim=f"p95 < {GOAL_BOARD_MS // 2} ms",
                aim_met=p95 < GOAL_BOARD_MS // 2,
                requests=len(samples),
                boxes=added,
                queries=round(sum(parts["queries"]) / len(parts["queries"])),
                cpu_p50_ms=round(cpu50, 2),
                sql_p95_ms=round(sql95, 2),
                baseline="the page's main query run raw",
                baseline_p95_ms=round(base95, 2),
                ratio_to_query=round(p95 / base95, 1),
            )
            emit(f"{figure}.baseline_query", base95, "ms", None, results, requests=len(samples))
            emit(f"{figure}.ratio_to_query", p95 / base95, "x", None, results)
    finally:
        removed = remove_bench_boxes()
        log(f"bench: transport: removed {removed:,} bench boxes")
        analyze(("transport_box",))
        connection.close()
