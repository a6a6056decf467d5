"""Resident services (`bench/run.py --only homeservices`): the open requests board for a city with
50,000 open requests (decision 0038).

50,000 open service requests spread over the demo's households (one a household and kind, as the
partial unique constraint allows), written with COPY and removed afterwards, then:

- homeservices_board_commander: GET /homeservices/ as the district commander (open requests,
  nearest deadline first, first page of 50, capped count). Goal p95 < 300 ms.
- homeservices_board_overdue_commander: GET /homeservices/?open=true&overdue=true&kind=shopping.
- homeservices_board_street: the board filtered to the first street (?open=true&area=CODE).

Baseline of each: the page's main query (its page of rows), run raw through psycopg in the same
run; <figure>.ratio_to_query is page p95 / query p95.
"""

import datetime
import random

from bench.run import analyze, emit, log, percentile, time_page

GOAL_MS = 300
OPEN = 50_000
KINDS = ("shopping", "medicine", "hospital", "farming", "animals", "psychological", "other")
MARK = "bench-hs-"


def remove_rows():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM homeservices_servicerequest WHERE client_id LIKE %s", [MARK + "%"])


def build_rows(now, seed=1):
    """OPEN open requests: (household, kind) pairs drawn without repeats, deadlines around now (a
    tenth overdue), a few assigned; written straight with COPY (the board reads, it does not care
    how they came)."""
    from django.db import connection

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT h.id, h.area_id, p.id FROM areas_household h "
            "JOIN LATERAL (SELECT id FROM people_person WHERE household_id = h.id ORDER BY id LIMIT 1) p ON true "
            "ORDER BY h.id"
        )
        households = cursor.fetchall()
        cursor.execute(
            "SELECT household_id, kind FROM homeservices_servicerequest WHERE status IN ('new', 'assigned', 'in_progress')"
        )
        taken = set(cursor.fetchall())  # the demo's own open requests: one open a household and kind
    pairs = [(h, k) for h in households for k in KINDS if (h[0], k) not in taken]
    chosen = rng.sample(pairs, min(OPEN, len(pairs)))
    statuses = ("new", "assigned", "in_progress")
    columns = (
        "household_id, person_id, area_id, kind, urgency, details, description, source, client_id, status, "
        "due_at, requested_at, additions, prescription_photo, done_note, done_photo, confirmed_how, "
        "confirmation_note, cancel_reason"
    )
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        with cursor.copy(f"COPY homeservices_servicerequest ({columns}) FROM STDIN") as copy:
            for n, ((household, area, person), kind) in enumerate(chosen):
                due = now + datetime.timedelta(minutes=rng.randint(-600, 4000))
                copy.write_row(
                    (
                        household,
                        person,
                        area,
                        kind,
                        rng.choice(("urgent", "high", "normal", "low")),
                        '{"items": "大米 5kg"}' if kind == "shopping" else "{}",
                        "",
                        "phone",
                        f"{MARK}{n}",
                        statuses[n % 3],
                        due,
                        due - datetime.timedelta(hours=24),
                        0,
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                    )
                )
    return len(chosen)


def emit_figure(figure, samples, parts, results, **extra):
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    base95 = percentile(parts["main"], 95)
    log(f"bench: {figure}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; its main query p95 {base95:.1f} ms")
    emit(f"{figure}.p50", p50, "ms", None, results, requests=len(samples), **extra)
    emit(
        f"{figure}.p95",
        p95,
        "ms",
        f"p95 < {GOAL_MS} ms",
        results,
        met=p95 < GOAL_MS,
        baseline_p95_ms=round(base95, 2),
        ratio_to_query=round(p95 / base95, 1) if base95 else None,
        **extra,
    )
    emit(f"{figure}.baseline_query", base95, "ms", None, results, requests=len(samples))
    emit(f"{figure}.ratio_to_query", p95 / base95 if base95 else None, "x", None, results)


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from epigrid.areas.models import Area, Level

    commander = get_user_model().objects.get(username="demo_commander")
    street = Area.objects.filter(level=Level.STREET).order_by("code").first()
    n = args.warmup + args.requests
    remove_rows()
    try:
        written = build_rows(timezone.now(), args.seed)
        analyze(["homeservices_servicerequest"], verb="ANALYZE")
        log(f"bench: homeservices: {written} open requests")
        client = Client()
        client.force_login(commander)
        figures = [
            ("homeservices_board_commander", "/homeservices/"),
            ("homeservices_board_overdue_commander", "/homeservices/?open=true&overdue=true&kind=shopping"),
            ("homeservices_board_street", f"/homeservices/?open=true&area={street.code}"),
        ]
        for figure, url in figures:
            samples, parts = time_page(figure, client, [url] * n, args.warmup, "homeservices_servicerequest")
            emit_figure(figure, samples, parts, results, open_requests=written)
    finally:
        remove_rows()
        connection.close()
