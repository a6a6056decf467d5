"""Lab-result figures (`bench/run.py --only results`), on the demo's finished round.

- pooled_positive_persons_commander: GET /api/v1/tubes/<barcode>/persons/ of the demo's pooled-
  positive tubes as the district commander (the persons of the tube with household, building,
  grid and grid workers: whom to hold and retest). Goal p95 < 50 ms (aim: half). Baseline: the
  request's main query (the first reading testing_sample) run raw after each request, and all its
  SELECTs.
"""

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
