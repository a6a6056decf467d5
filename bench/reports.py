"""Daily-report figure (`bench/run.py --only reports`): the roll-up of a city of 5,000 units.

- report_rollup_5000_units: 5,000 synthetic communities (10 districts × 25 streets × 20) are
  added under the demo city with 14 days of community daily reports (19 in 20 units send, some
  late, some zero), then `reports.services.rollup(form, today, city)` is timed (the service: two
  grouped queries, the numeric fields summed from the JSON values in the database) and so is the
  roll-up page /reports/rollup/?area=<city> as a commander granted the city (the roll-up, the
  missing units with their officers, the late list). Goal p95 < 300 ms (aim: half). Baseline: the
  service's SQL statements run raw through psycopg after each call, so both are timed the same
  number of times, interleaved; the ratio is service p95 / raw p95.

The rows are inserted in one transaction that is rolled back at the end (the test client runs in
the same connection, inside it): the database stays as built.
"""

import datetime
import random
import time

from bench.run import emit, log, percentile

DISTRICTS, STREETS, COMMUNITIES = 10, 25, 20
DAYS = 14
GOAL_MS = 300


class _Rollback(Exception):
    pass


def add_units(city):
    """The synthetic districts, streets and communities (paths written as Area.save would)."""
    from epigrid.areas.models import Area, Level

    def area(code, name, level, parent):
        return Area(code=code, name=name, level=level, parent=parent, path=f"{parent.path}{code}/")

    districts = Area.objects.bulk_create(
        [area(f"{city.code[:4]}{50 + d:02d}", f"基准区{d}", Level.DISTRICT, city) for d in range(DISTRICTS)]
    )
    streets = Area.objects.bulk_create(
        [
            area(f"{d.code}{s:03d}000", f"{d.name}街道{s}", Level.STREET, d)
            for d in districts
            for s in range(1, STREETS + 1)
        ]
    )
    return Area.objects.bulk_create(
        [
            area(f"{s.code[:9]}{c:03d}", f"{s.name}社区{c}", Level.COMMUNITY, s)
            for s in streets
            for c in range(1, COMMUNITIES + 1)
        ]
    )


def add_reports(form, units, today, seed):
    from django.utils import timezone

    from epigrid.reports.models import Submission

    rng = random.Random(f"bench-reports:{seed}")
    numeric = [f["key"] for f in form.fields if f["type"] == "int"]
    rows = []
    for back in range(DAYS):
        day = today - datetime.timedelta(days=back)
        deadline = form.deadline(day)
        for unit in units:
            if rng.random() < 0.05:
                continue
            late = rng.random() < 0.08
            sent = deadline + datetime.timedelta(minutes=rng.randint(1, 300) * (1 if late else -1))
            values = {k: rng.randint(0, 30) for k in numeric}
            values["notes"] = ""
            rows.append(
                Submission(
                    form=form,
                    unit=unit,
                    day=day,
                    values=values,
                    live={},
                    zero=rng.random() < 0.1,
                    first_submitted_at=sent,
                    submitted_at=min(sent, timezone.now()),
                    late=late,
                )
            )
    Submission.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from epigrid.accounts.models import Grant
    from epigrid.areas.models import Area, Level
    from epigrid.reports import services
    from epigrid.reports.models import ReportForm

    city = Area.objects.filter(level=Level.CITY).order_by("code").first()
    form = ReportForm.objects.get(code="community_daily")
    today = timezone.localdate()
    figure = "report_rollup_5000_units"
    try:
        with transaction.atomic():
            units = add_units(city)
            rows = add_reports(form, units, today, args.seed)
            commander = get_user_model().objects.create_user("bench_city_commander")
            Grant.objects.create(user=commander, role="district_commander", area=city)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE areas_area, reports_submission")
            expected = Area.objects.filter(level=form.unit_level, path__startswith=city.path).count()
            log(f"bench: reports: {len(units):,} units added ({expected:,} in the city), {rows:,} reports")
            for _ in range(args.warmup):
                services.rollup(form, today, city)
            with CaptureQueriesContext(connection) as ctx:
                rolled = services.rollup(form, today, city)
            statements = [
                q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
            ]
            assert sum(r["expected"] for r in rolled) == expected
            service, raw = [], []
            with connection.cursor() as wrapper:
                cursor = wrapper.cursor  # psycopg's own: nothing of Django in the baseline
                for _ in range(args.requests):
                    start = time.perf_counter()
                    services.rollup(form, today, city)
                    service.append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    for sql in statements:
                        cursor.execute(sql)
                        cursor.fetchall()
                    raw.append((time.perf_counter() - start) * 1000)
            client = Client()
            client.force_login(commander)
            url = f"/reports/rollup/?form={form.code}&day={today.isoformat()}&area={city.code}"
            pages = []
            for index in range(args.warmup + args.requests):
                start = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, response.status_code
                if index >= args.warmup:
                    pages.append(elapsed)
            p50, p95 = percentile(service, 50), percentile(service, 95)
            raw95, page95 = percentile(raw, 95), percentile(pages, 95)
            log(
                f"bench: {figure}: service p50 {p50:.1f} ms, p95 {p95:.1f} ms; raw SQL p95 {raw95:.1f} ms; "
                f"page p95 {page95:.1f} ms ({len(statements)} statements)"
            )
            common = {"units": expected, "reports": rows, "requests": len(service)}
            emit(f"{figure}.p50", p50, "ms", None, results, **common)
            emit(
                f"{figure}.p95",
                p95,
                "ms",
                f"p95 < {GOAL_MS} ms",
                results,
                met=p95 < GOAL_MS,
                aim=f"p95 < {GOAL_MS // 2} ms",
                aim_met=p95 < GOAL_MS // 2,
                baseline_sql_p95_ms=round(raw95, 2),
                ratio_to_sql=round(p95 / raw95, 1) if raw95 else None,
                **common,
            )
            emit(
                f"{figure}.page_p95",
                page95,
                "ms",
                f"p95 < {GOAL_MS} ms",
                results,
                met=page95 < GOAL_MS,
                page_p50_ms=round(percentile(pages, 50), 2),
                **common,
            )
            emit(f"{figure}.baseline_sql", raw95, "ms", None, results, requests=len(raw))
            emit(f"{figure}.ratio_to_sql", p95 / raw95 if raw95 else None, "x", None, results)
            raise _Rollback
    except _Rollback:
        pass
