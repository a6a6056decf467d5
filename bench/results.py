"""Lab-result figures (`bench/run.py --only results`), on the demo's finished round.

- pooled_positive_persons_commander: GET /api/v1/tubes/<barcode>/persons/ of the demo's pooled-
  positive tubes as the district commander (the persons of the tube with household, building,
  grid and grid workers: whom to hold and retest). Goal p95 < 50 ms (aim: half). Baseline: the
  request's main query (the first reading testing_sample) run raw after each request, and all its
  SELECTs.
"""

import time

from bench.run import emit, log, percentile, time_page

GOAL_PERSONS_MS = 50


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from epigrid.results.models import Result, TubeResult

    barcodes = list(
        TubeResult.objects.filter(result=Result.POOLED_POSITIVE).values_list("tube__barcode", flat=True)[:5]
    )
    if not barcodes:
        raise SystemExit("bench: the demo has no pooled-positive tube")
    commander = get_user_model().objects.get(username="demo_commander")
    client = Client()
    client.force_login(commander)
    try:
        urls = [
            f"/api/v1/tubes/{barcodes[n % len(barcodes)]}/persons/"
            for n in range(args.warmup + args.requests)
        ]
        figure = "pooled_positive_persons_commander"
        samples, parts = time_page(figure, client, urls, args.warmup, "testing_sample")
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        base95, sql95 = percentile(parts["main"], 95), percentile(parts["sql"], 95)
        cpu50 = percentile(parts["cpu"], 50)
        log(
            f"bench: {figure}: {len(barcodes)} tubes, p50 {p50:.1f} ms, p95 {p95:.1f} ms; main query p95 "
            f"{base95:.1f} ms, all SELECTs p95 {sql95:.1f} ms; Python CPU p50 {cpu50:.1f} ms"
        )
        emit(f"{figure}.p50", p50, "ms", None, results, requests=len(samples))
        emit(
            f"{figure}.p95",
            p95,
            "ms",
            f"p95 < {GOAL_PERSONS_MS} ms",
            results,
            met=p95 < GOAL_PERSONS_MS,
            aim=f"p95 < {GOAL_PERSONS_MS // 2} ms",
            aim_met=p95 < GOAL_PERSONS_MS // 2,
            requests=len(samples),
            queries=round(sum(parts["queries"]) / len(parts["queries"])),
            cpu_p50_ms=round(cpu50, 2),
            sql_p95_ms=round(sql95, 2),
            baseline="the request's main query run raw",
            baseline_p95_ms=round(base95, 2),
            ratio_to_query=round(p95 / base95, 1),
        )
        emit(f"{figure}.baseline_query", base95, "ms", None, results, requests=len(samples))
        emit(f"{figure}.ratio_to_query", p95 / base95, "x", None, results)
    finally:
        connection.close()


# -- lab results through the import path ---------------------------------------------------------------

GOAL_IMPORT_RATE = 100_000  # results/s (Epi Viaduct moved 120,000 lab rows/s)
BENCH_PREFIX = "BR"  # the bench's tubes and boxes: barcodes no demo object uses
RESULT_TABLES = ("results_tuberesult", "testing_tube", "testing_sample", "transport_box", "transport_boxtube")


def _setup_tubes(lab, campaign, pooled, per_pool, single, opened):
    """The rounds' tubes delivered to `lab`, written server-side (INSERT … SELECT): `pooled` tubes of
    `per_pool` residents each and `single` one-person tubes, every resident sampled once per kind,
    sealed and received in boxes of 100 at the lab. Returns {barcode: persons in it}."""
    from django.db import connection

    total = pooled + single
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_desks ON COMMIT DROP AS SELECT d.id, d.point_id, "
            "row_number() OVER (ORDER BY d.id) - 1 AS n FROM testing_desk d JOIN testing_samplingpoint p "
            "ON p.id = d.point_id WHERE p.campaign_id = %s",
            [campaign.pk],
        )
        cursor.execute("SELECT count(*) FROM bench_desks")
        (desks,) = cursor.fetchone()
        if not desks:
            raise SystemExit("bench: the demo's finished round has no desks")
        cursor.execute(
            "CREATE TEMP TABLE bench_persons ON COMMIT DROP AS SELECT id, "
            "row_number() OVER (ORDER BY id) - 1 AS n FROM people_person"
        )
        cursor.execute("CREATE INDEX ON bench_persons (n)")
        cursor.execute("SELECT count(*) FROM bench_persons")
        (persons,) = cursor.fetchone()
        # Tube g (1-based): pooled first, then single; 100 consecutive tubes share a desk and a box.
        cursor.execute(
            f"""
            INSERT INTO testing_tube (created, last_updated, barcode, capacity, count, status, opened_at,
                closed_at, sealed_at, campaign_id, desk_id, point_id)
            SELECT %(opened)s, %(opened)s, '{BENCH_PREFIX}' || lpad(g::text, 9, '0'),
                CASE WHEN g <= %(pooled)s THEN %(per_pool)s ELSE 1 END,
                CASE WHEN g <= %(pooled)s THEN %(per_pool)s ELSE 1 END, 'sealed', %(opened)s,
                %(opened)s + interval '20 minutes', %(opened)s + interval '30 minutes', %(campaign)s, d.id, d.point_id
            FROM generate_series(1, %(total)s) g JOIN bench_desks d ON d.n = ((g - 1) / 100) %% %(desks)s
            """,
            {**locals(), "campaign": campaign.pk},
        )
        cursor.execute(
            f"""
            INSERT INTO testing_sample (created, last_updated, client_id, position, via, repeat, scanned_at,
                received_at, status, campaign_id, desk_id, person_id, point_id, tube_id)
            SELECT t.opened_at, t.opened_at, gen_random_uuid(), s.pos, 'document', false, t.opened_at,
                t.opened_at, 'active', t.campaign_id, t.desk_id, p.id, t.point_id, t.id
            FROM testing_tube t
            CROSS JOIN LATERAL (SELECT substr(t.barcode, 3)::int AS g) AS b
            CROSS JOIN LATERAL generate_series(0, t.count - 1) AS s(pos)
            JOIN bench_persons p ON p.n = CASE WHEN b.g <= %(pooled)s THEN ((b.g - 1) * %(per_pool)s + s.pos)
                                               ELSE (b.g - %(pooled)s - 1) END %% %(persons)s
            WHERE t.barcode LIKE '{BENCH_PREFIX}%%'
            """,
            locals(),
        )
        cursor.execute(
            f"""
            INSERT INTO transport_box (created, last_updated, barcode, status, opened_at, sealed_at, tube_count,
                picked_up_at, arrived_at, received_at, missing_count, extra_count, receipt_note, first_sample_at,
                due_at, campaign_id, point_id, lab_id)
            SELECT %(opened)s, %(opened)s, '{BENCH_PREFIX}X' || lpad(k::text, 7, '0'), 'received', %(opened)s,
                %(opened)s + interval '40 minutes', least(100, %(total)s - k * 100),
                %(opened)s + interval '50 minutes', %(opened)s + interval '2 hours', %(opened)s + interval '2 hours',
                0, 0, '', %(opened)s, %(opened)s + interval '4 hours', %(campaign)s, d.point_id, %(lab)s
            FROM generate_series(0, (%(total)s - 1) / 100) k JOIN bench_desks d ON d.n = k %% %(desks)s
            """,
            {**locals(), "campaign": campaign.pk, "lab": lab.pk},
        )
        cursor.execute(
            f"""
            INSERT INTO transport_boxtube (barcode, state, added_at, checked_at, box_id, tube_id)
            SELECT t.barcode, 'found', t.sealed_at, t.sealed_at + interval '90 minutes', x.id, t.id
            FROM testing_tube t
            JOIN transport_box x ON x.barcode = '{BENCH_PREFIX}X' || lpad(((substr(t.barcode, 3)::int - 1) / 100)::text, 7, '0')
            WHERE t.barcode LIKE '{BENCH_PREFIX}%%'
            """
        )


def _settle():
    """The set-up's own deferred constraint checks run now (a COMMIT would), its tables analysed
    and written out (CHECKPOINT): the timed import pays for none of it. Rolled back with the rest
    (deleting two million samples would check every reference to each)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("ANALYZE testing_tube, testing_sample, transport_box, transport_boxtube")
        cursor.execute("CHECKPOINT")


def _result_rows(pooled, single, opened, rng):
    """The two LIS files' rows: (pooled rows, single rows, bad rows, flagged tubes). Mostly negative;
    20 pooled positives, 10 invalid pooled tubes, 10 single positives; 0.1% of rows bad (unknown
    tube, unreadable result, Ct out of range)."""
    import datetime

    from django.utils import timezone

    def stamp(minutes):
        return timezone.localtime(opened + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")

    tested, reported = [stamp(150 + m) for m in range(60)], [stamp(200 + m) for m in range(60)]
    flagged = {}
    for g in rng.sample(range(1, pooled + 1), 30):
        flagged[g] = "混管阳性" if len(flagged) < 20 else "无效"
    for g in rng.sample(range(pooled + 1, pooled + single + 1), 10):
        flagged[g] = "阳性"
    bad = 0

    def rows(first, last):
        nonlocal bad
        out = []
        for g in range(first, last + 1):
            minute = g % 60
            result, ct1, ct2 = flagged.get(g, "阴性"), "", ""
            if result in ("混管阳性", "阳性"):
                ct1, ct2 = f"{rng.uniform(22, 34):.2f}", f"{rng.uniform(22, 34):.2f}"
            code = f"{BENCH_PREFIX}{g:09d}"
            if g not in flagged and g % 1000 == 7:
                bad += 1
                kind = (g // 1000) % 3
                if kind == 0:
                    code = f"{BENCH_PREFIX}X{g:08d}"  # no such tube
                elif kind == 1:
                    result = "阴阳"  # not a result
                else:
                    ct1 = "51.5"  # Ct outside 0–45
            out.append([code, result, ct1, ct2, tested[minute], reported[minute], ""])
        return out

    pooled_rows = rows(1, pooled)
    single_rows = rows(pooled + 1, pooled + single)
    return pooled_rows, single_rows, bad, flagged


def _copy_baseline(rows, lab, campaign, now):
    """Seconds to COPY the same rows, as TubeResult rows with every column known (the tube's id,
    round, point, sampling time and due time looked up untimed), into a table like
    results_tuberesult (its indexes and check constraints), and check the constraints; rolled
    back."""
    import datetime

    from django.db import connection, transaction

    from epigrid.results.models import TubeResult

    codes = [row[0] for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.barcode, t.id, t.campaign_id, t.point_id, t.opened_at FROM unnest(%s::varchar[]) b(code) "
            "JOIN testing_tube t ON t.barcode = b.code",
            [codes],
        )
        tubes = {r[0]: r[1:] for r in cursor.fetchall()}
    span = datetime.timedelta(hours=campaign.turnaround_hours)
    results = {"阴性": "negative", "混管阳性": "pooled_positive", "阳性": "positive", "无效": "invalid"}
    table = []
    for code, result, ct1, ct2, tested, reported, _reason in rows:
        tube = tubes.get(code)
        if tube is None or result not in results or ct1 == "51.5":
            continue
        table.append(
            (now, now, results[result], ct1 or None, ct2 or None, tested, reported, tube[3], tube[3] + span,
             "import", tube[1], lab.pk, tube[2], tube[0])
        )
    columns = (
        "created, last_updated, result, ct_orf1ab, ct_n, tested_at, reported_at, sampled_at, due_at, source, "
        "campaign_id, lab_id, point_id, tube_id"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A table like results_tuberesult (columns, indexes, constraints), not the table itself:
            # rolled-back rows would leave a million dead entries in its unique index for the
            # import to step over.
            cursor.execute(
                f"CREATE TABLE bench_results_copy (LIKE {TubeResult._meta.db_table} INCLUDING ALL)"
            )
        start = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY bench_results_copy ({columns}) FROM STDIN") as copy:
                for row in table:
                    copy.write_row(row)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds, len(table)


def measure_import(args, results):
    """lab_results_import: 100,000 pooled tubes (10 residents each: 1,000,000 persons' worth) in an xlsx
    and 1,000,000 single tubes in a CSV, as the lab's LIS exports them, through the import pipeline
    (core.imports.run_import with results.imports.LabResultResource, dry_run=False: reading, cleaning,
    planning, writing, the follow-up of the flagged tubes, up to the deferred constraint checks) as
    the lab's staff. Baseline: a raw COPY of the same result rows into results_tuberesult with every
    column already known, in the same run. Set-up (tubes, samples, boxes received at the lab) and the
    results are rolled back: the database stays as built."""
    import datetime
    import gc
    import os
    import random
    import tempfile

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.run import vacuum
    from epigrid.core.context import change_context
    from epigrid.core.imports import run_import
    from epigrid.core.tabular import write_xlsx
    from epigrid.demo import data
    from epigrid.results.imports import COLUMNS, LabResultResource
    from epigrid.testing.models import Campaign
    from epigrid.transport.models import Lab

    pooled, single, per_pool = args.results_pooled, args.results_single, 10
    user = get_user_model().objects.get(username=data.DEMO_USERS["lab_staff"][0])
    lab = Lab.objects.filter(staff=user).order_by("pk").first()
    campaign = Campaign.objects.filter(status=Campaign.Status.FINISHED).order_by("-pk").first()
    now = timezone.now()
    opened = now - datetime.timedelta(hours=6)
    rng = random.Random(args.seed)
    settings.EPIGRID_IMPORT_MAX_ROWS = max(settings.EPIGRID_IMPORT_MAX_ROWS, pooled + single + 10)
    files = []
    try:
        start = time.perf_counter()
        pooled_rows, single_rows, bad, flagged = _result_rows(pooled, single, opened, rng)
        headers = [c.header for c in COLUMNS]
        fd, xlsx = tempfile.mkstemp(suffix=".xlsx", prefix="bench-results-")
        os.close(fd)
        files.append(xlsx)
        write_xlsx(xlsx, headers, pooled_rows, sheet_name="检测结果")
        fd, csv_path = tempfile.mkstemp(suffix=".csv", prefix="bench-results-")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(",".join(headers) + "\r\n")
            out.writelines(",".join(row) + "\r\n" for row in single_rows)
        files.append(csv_path)
        log(
            f"bench: lab_results_import: wrote {pooled:,} pooled rows (xlsx) and {single:,} single rows (csv), "
            f"{bad:,} bad, in {time.perf_counter() - start:.1f} s"
        )
        with transaction.atomic():  # rolled back at the end: the database stays as built
            start = time.perf_counter()
            _setup_tubes(lab, campaign, pooled, per_pool, single, opened)
            _settle()
            log(f"bench: lab_results_import: set up {pooled + single:,} tubes in {time.perf_counter() - start:.1f} s")
            copy_seconds, copied = _copy_baseline(pooled_rows + single_rows, lab, campaign, now)
            del pooled_rows, single_rows
            gc.collect()
            timings, outcome = [], {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
            with change_context(user=user, source="job"):
                for path, name in ((xlsx, "lis.xlsx"), (csv_path, "lis.csv")):
                    start = time.perf_counter()
                    with open(path, "rb") as fileobj:
                        result = run_import(LabResultResource(user, lab), fileobj, name, dry_run=False)
                    with connection.cursor() as cursor:  # what COMMIT would check
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    timings.append(time.perf_counter() - start)
                    for key in outcome:
                        outcome[key] += getattr(result, key)
                    log(f"bench: lab_results_import: {name}: {timings[-1]:.1f} s, {result.as_dict() | {'errors': len(result.errors), 'rows': 0}}")
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM retests_retesttask t JOIN testing_tube u ON u.id = (SELECT tube_id FROM "
                    "retests_poolfollowup f WHERE f.id = t.follow_up_id) WHERE u.barcode LIKE %s",
                    [f"{BENCH_PREFIX}%"],
                )
                (tasks,) = cursor.fetchone()
            transaction.set_rollback(True)
    finally:
        for path in files:
            os.unlink(path)
        vacuum(RESULT_TABLES + ("retests_retesttask", "retests_poolfollowup"))
    rows = pooled + single
    seconds = sum(timings)
    rate, copy_rate = rows / seconds, copied / copy_seconds
    expected_tasks = 30 * per_pool
    ok = outcome["rejected"] == bad and outcome["created"] == rows - bad and tasks == expected_tasks
    if not ok:
        log(f"bench: lab_results_import: expected {bad} rejected, {rows - bad} created, {expected_tasks} tasks; got {outcome}, {tasks} tasks")
    emit(
        "lab_results_import",
        rate,
        "results/s",
        f">= {GOAL_IMPORT_RATE:,} results/s",
        results,
        met=rate >= GOAL_IMPORT_RATE and ok,
        aim=f">= {2 * GOAL_IMPORT_RATE:,} results/s",
        aim_met=rate >= 2 * GOAL_IMPORT_RATE and ok,
        rows=rows,
        seconds=round(seconds, 2),
        pooled_xlsx_s=round(timings[0], 2),
        single_csv_s=round(timings[1], 2),
        **outcome,
        retest_tasks=tasks,
        copy_rows_per_s=round(copy_rate),
        ratio_to_copy=round(rate / copy_rate, 3),
    )
    emit("lab_results_import.copy_baseline", copy_rate, "rows/s", None, results, rows=copied)
    emit("lab_results_import.ratio_to_copy", rate / copy_rate, "x", None, results)
