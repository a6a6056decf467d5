"""Mass-testing figures (`bench/run.py --only testing`), on the demo's running round.

- scan_ingest: scans a second through the real HTTP batch API (POST /api/v1/samples/batch/,
  token auth as the samplers posted at the desks): gunicorn serves the bench database on this
  machine, CLIENTS threads (one per desk, each with its own keep-alive connection) send batches
  of BATCH scans of real residents' document numbers (residents the round has not reached yet)
  into fresh tubes, 10 to a tube as the round pools. Like phones on a bad network they resend
  about RESEND of their batches whole (the answer "was lost") and carry CARRY of each batch's
  scans into the next one too. Bodies are encoded before the clock starts, so the clients spend
  their CPU on sending, not on JSON. Afterwards the database is checked: every client id answered
  `accepted` is there once (`lost`), and no other row is (`duplicated`); each tube's count is its
  samples. Baseline: a raw COPY, in the same run, of what the ingest wrote: the tube rows, the
  sample rows (new keys, new client ids of the desks' kind) and the sampled-person rows, into the
  same tables with their indexes and constraints, rolled back; `ratio_to_copy` = ingest rate / COPY
  rate in scans a second (goal >= 0.3); the sample rows alone are printed too
  (`ratio_to_copy_samples_only`). Client ids are UUIDv7, as the desk page makes them.
- Server: gunicorn with the shipped gunicorn.conf.py (gthread; threads outnumber the connections
  a worker holds; batches of more than testing.api.LIVE_SCANS take one of
  EPIGRID_INGEST_BULK_SLOTS per process).
- desk_scan: meanwhile one more desk scans one person at a time (a batch of one), as a desk
  does; the round trip's p95 (goal < 100 ms). Baseline: a raw one-row INSERT of a sample (with
  its commit) through psycopg right after each, under the same load.
- coverage_district (/api/v1/campaigns/<id>/coverage/?area=<district>: the district and each
  street, as the commander), coverage_street and coverage_community (the next levels of the
  drill-down): goal < 1 s; baseline: the request's SELECTs (the grouped counts) run raw.
- missed_list_grid (/testing/<id>/missed/?area=<grid> as the grid worker, the finished round's
  sweep list) and missed_list_grid_running (the running round's, most of the grid): p95 < 100 ms;
  baseline: the page's main query run raw.

Everything the bench adds (tubes with the bench's barcodes, their samples and sampled persons,
the samplers' API tokens) is removed afterwards and the tables vacuumed: the database stays as
built. The figures are emitted on stdout through run.emit like the other groups.
"""

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.run import ROOT, analyze, emit, log, percentile, time_page

GOAL_SCANS = 5000  # scans a second
AIM_SCANS = 2 * GOAL_SCANS
GOAL_RATIO = 0.3
GOAL_COVERAGE_MS = 1000
GOAL_MISSED_MS = 100
GOAL_DESK_MS = 100
CLIENTS = 50
BATCH = 100
RESEND = 0.1  # of the batches, sent again whole
CARRY = 0.02  # of a batch's scans, sent again in the next batch
BENCH_ROUND = 99  # tube barcodes 6299…: never the demo's (6201…, 6202…)
BARCODE_PREFIX = f"62{BENCH_ROUND:02d}"
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "3"))
THREADS = int(os.environ.get("BENCH_WEB_THREADS", "24"))  # as shipped (gunicorn.conf.py)
COVERAGE_REQUESTS = 20  # a district's counts take a while: fewer requests than the pages
TABLES = ("testing_sample", "testing_tube", "testing_sampledperson", "authtoken_token")
BATCH_PATH = "/api/v1/samples/batch/"


def client_id(rng, ms):
    """A client id as the desk page makes them (epigrid.demo.testing.uuid7)."""
    from epigrid.demo.testing import uuid7

    return str(uuid7(rng, ms))


def tube_barcode(serial):
    from stdnum import luhn

    body = f"{BARCODE_PREFIX}{serial:07d}"
    return body + luhn.calc_check_digit(body)


# -- the set-up --------------------------------------------------------------------------------


def remove_bench_rows():
    """Delete the bench's tubes (by their barcodes), their samples and sampled persons, and the
    samplers' API tokens (the demo issues none)."""
    from django.db import connection, transaction

    start = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        tubes = "SELECT id FROM testing_tube WHERE barcode LIKE %s"
        samples = f"SELECT id FROM testing_sample WHERE tube_id IN ({tubes})"
        like = [BARCODE_PREFIX + "%"]
        cursor.execute(f"SELECT count(*) FROM testing_sample WHERE tube_id IN ({tubes})", like)
        if cursor.fetchone()[0]:
            # Sample.moved_to has no index (nothing reads by it): the foreign-key check of each
            # deleted row would scan the whole table. An index for the time of the delete.
            cursor.execute("CREATE INDEX bench_sample_moved_to ON testing_sample (moved_to_id)")
        cursor.execute(f"UPDATE testing_hometask SET sample_id = NULL WHERE sample_id IN ({samples})", like)
        cursor.execute(f"DELETE FROM testing_sampledperson WHERE first_sample_id IN ({samples})", like)
        cursor.execute(f"DELETE FROM testing_sample WHERE tube_id IN ({tubes})", like)
        removed = cursor.rowcount
        cursor.execute("DELETE FROM testing_tube WHERE barcode LIKE %s", like)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DROP INDEX IF EXISTS bench_sample_moved_to")
        cursor.execute(
            "DELETE FROM authtoken_token WHERE user_id IN (SELECT user_id FROM testing_samplingpoint_staff)"
        )
    if removed:
        log(f"bench: removed {removed:,} bench samples in {time.monotonic() - start:.1f} s")
    return removed


def desks_and_tokens(campaign, count):
    """`count` desks of the round's walk-in points, spread over the points (a desk each from
    every point in turn), each with the API token of a sampler posted at its point."""
    from rest_framework.authtoken.models import Token

    from epigrid.testing.models import SamplingPoint

    points = list(
        SamplingPoint.objects.filter(campaign=campaign, is_home_team=False)
        .prefetch_related("desks", "staff")
        .order_by("id")
    )
    per_point = [(p, sorted(p.desks.all(), key=lambda d: d.pk)) for p in points]
    chosen, depth = [], 0
    while len(chosen) < count and any(len(desks) > depth for _p, desks in per_point):
        for point, desks in per_point:
            if len(desks) > depth and len(chosen) < count:
                chosen.append((point, desks[depth]))
        depth += 1
    out = []
    for point, desk in chosen:
        user = sorted(point.staff.all(), key=lambda u: u.pk)[0]
        token, _created = Token.objects.get_or_create(user=user)
        out.append((desk, token.key))
    return out


def unsampled_documents(campaign, count, seed):
    """(doc type, number) of `count` residents the round has neither sampled nor exempted, in a
    seeded random order over the whole district."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.doc_type, p.doc_number FROM people_person p
            WHERE p.merged_into_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM testing_sampledperson s
                              WHERE s.campaign_id = %s AND s.person_id = p.id)
              AND NOT EXISTS (SELECT 1 FROM testing_exemption e
                              WHERE e.campaign_id = %s AND e.person_id = p.id)
            ORDER BY md5(p.id::text || %s) LIMIT %s
            """,
            [campaign.pk, campaign.pk, str(seed), count],
        )
        return cursor.fetchall()


class Desk:
    """One client: its desk, token, scans and the request bodies it will send, in order."""

    def __init__(self, desk, token, campaign, documents, rng, serials):
        self.desk, self.token = desk, token
        self.scans = []
        tube = None
        ms = int(time.time() * 1000)
        for n, (doc_type, number) in enumerate(documents):
            if n % campaign.pooling == 0:
                tube = tube_barcode(next(serials))
            self.scans.append(
                {
                    "client_id": client_id(rng, ms + n * 300),  # a desk scans every few tenths of a second
                    "campaign": campaign.pk,
                    "desk": desk.pk,
                    "tube": tube,
                    "document_type": doc_type,
                    "document_number": number,
                    "scanned_at": None,  # set when the bodies are encoded
                }
            )
        self.bodies = []  # (bytes, scans in it, resent?)
        self.answers = []  # (status, bytes, seconds)

    def encode(self, rng, now, batch, carry=CARRY, resend=RESEND, warmup=0):
        """Request bodies: `warmup` scans first on their own (untimed), then batches."""
        previous = []
        starts = ([0] if warmup else []) + list(range(warmup, len(self.scans), batch))
        for first, end in zip(starts, [*starts[1:], len(self.scans)], strict=True):
            scans = self.scans[first:end]
            for scan in scans:
                scan["scanned_at"] = now
            carried = [s for s in previous if rng.random() < carry]
            body = json.dumps({"scans": scans + carried}).encode()
            self.bodies.append((body, len(scans) + len(carried), False))
            if rng.random() < resend and (first or not warmup):  # the answer was lost: the phone sends it all again
                self.bodies.append((body, len(scans) + len(carried), True))
            previous = scans


def post(conn_box, port, token, body):
    """POST a batch over the thread's keep-alive connection (reconnecting once if the server
    closed it); (status, body bytes)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
    for attempt in range(2):
        if conn_box[0] is None:
            conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn_box[0].request("POST", BATCH_PATH, body, headers)
            response = conn_box[0].getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, ConnectionError, OSError):
            conn_box[0].close()
            conn_box[0] = None
            if attempt:
                raise
    raise AssertionError("unreachable")


# -- the server --------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url, port, token, **settings):
    """gunicorn on the bench database: WORKERS processes with THREADS threads each (gthread
    keeps connections alive; sync workers close each one), persistent database connections;
    `settings`: more of the environment (EPIGRID_CACHE="redis", say)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DB_CONN_MAX_AGE": "600",
        "DJANGO_SETTINGS_MODULE": "epigrid.settings",
        "LOG_LEVEL": "ERROR",
        **settings,
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # The shipped settings (gunicorn.conf.py, as `make run` serves), with the bench's sizes.
    env.update(WEB_WORKERS=str(WORKERS), WEB_THREADS=str(THREADS))
    args = [
        str(gunicorn),
        "epigrid.wsgi",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("bench: gunicorn exited at start")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/", headers={"Authorization": f"Token {token}"})
            conn.getresponse().read()
            conn.close()
            return process
        except OSError:
            time.sleep(0.3)
    stop_server(process)
    raise SystemExit("bench: gunicorn did not answer within a minute")


def stop_server(process):
    """Stop the gunicorn this bench started (its own process group, by id)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- scan ingest -------------------------------------------------------------------------------


def run_clients(port, desks, probe, url):
    """Send every client's bodies (threads released together); the probe desk scans one person
    at a time until they are done. Returns (seconds, probe round trips ms, probe raw inserts ms)."""
    barrier = threading.Barrier(len(desks) + 2)
    done = threading.Event()
    errors = []

    def client(desk):
        box = [None]
        try:
            barrier.wait()
            for body, _n, _resent in desk.bodies[1:]:  # the first was the warm-up
                start = time.perf_counter()
                status, answer = post(box, port, desk.token, body)
                desk.answers.append((status, answer, time.perf_counter() - start))
        except Exception as exc:  # reported, and the figure marked
            errors.append(repr(exc))
        finally:
            if box[0] is not None:
                box[0].close()

    trips, raws = [], []

    def desk_probe():
        import psycopg

        box = [None]
        raw = psycopg.connect(url, autocommit=True)
        try:
            barrier.wait()
            bodies = iter(probe.bodies)
            while not done.is_set():
                body = next(bodies, None)
                if body is None:
                    break
                start = time.perf_counter()
                status, answer = post(box, port, probe.token, body[0])
                trips.append((time.perf_counter() - start) * 1000)
                probe.answers.append((status, answer, 0))
                raws.append(raw_insert_ms(raw, probe))
                time.sleep(0.1)  # a desk scans a person every few seconds; ten desks' worth
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            raw.close()
            if box[0] is not None:
                box[0].close()

    threads = [threading.Thread(target=client, args=(d,)) for d in desks]
    threads.append(threading.Thread(target=desk_probe))
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads[:-1]:
        thread.join()
    seconds = time.perf_counter() - start
    done.set()
    threads[-1].join()
    if errors:
        log(f"bench: scan clients failed: {errors[:3]}")
    return seconds, trips, raws, errors


def raw_insert_ms(raw, probe):
    """One sample row INSERTed and committed through psycopg into the probe's first tube (the
    baseline of a desk's round trip). Written void, so that it counts in no tube; it goes with the
    bench's other rows."""
    from django.utils import timezone

    tube = probe.tube_id
    if tube is None:
        row = raw.execute(
            "SELECT id, point_id FROM testing_tube WHERE desk_id = %s AND barcode LIKE %s LIMIT 1",
            [probe.desk.pk, BARCODE_PREFIX + "%"],
        ).fetchone()
        if row is None:
            return None
        probe.tube_id, probe.point_id = row
        tube = row[0]
    now = timezone.now()
    start = time.perf_counter()
    with raw.transaction():
        raw.execute(
            """INSERT INTO testing_sample (created, last_updated, client_id, campaign_id, point_id,
                desk_id, tube_id, position, person_id, find_id, via, repeat, scanned_at, received_at,
                scanned_by_id, status, moved_to_id)
            VALUES (%s, %s, %s, %s, %s, %s, %s, 99, NULL, NULL, 'document', false, %s, %s, NULL,
                'void', NULL)""",
            [now, now, client_id(random, int(time.time() * 1000)), probe.campaign_id, probe.point_id, probe.desk.pk, tube, now, now],
        )
    return (time.perf_counter() - start) * 1000


def check_outcomes(desks):
    """Accepted client ids, and the answers that were not what the plan expects (a new client id
    accepted, a repeated one a duplicate)."""
    accepted, seen, wrong, statuses = set(), set(), [], {}
    for desk in desks:
        for (body, _n, _resent), (status, answer, _s) in zip(desk.bodies, desk.answers, strict=False):
            if status != 200:
                wrong.append(f"HTTP {status}: {answer[:200]!r}")
                continue
            scans = json.loads(body)["scans"]
            for scan, outcome in zip(scans, json.loads(answer)["outcomes"], strict=True):
                cid = scan["client_id"]
                statuses[outcome["status"]] = statuses.get(outcome["status"], 0) + 1
                expected = "duplicate" if cid in seen else "accepted"
                if outcome["status"] != expected:
                    wrong.append(f"{expected} expected: {outcome}")
                if outcome["status"] == "accepted":
                    accepted.add(cid)
                seen.add(cid)
    return accepted, wrong, statuses


def check_database(accepted):
    """(lost, duplicated, tubes whose count is not their samples, bench sample rows)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.client_id::text FROM testing_sample s JOIN testing_tube t ON t.id = s.tube_id "
            "WHERE t.barcode LIKE %s AND s.status <> 'void'",  # not the desk baseline's raw rows
            [BARCODE_PREFIX + "%"],
        )
        rows = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            """SELECT count(*) FROM testing_tube t WHERE t.barcode LIKE %s AND t.count <>
                (SELECT count(*) FROM testing_sample s WHERE s.tube_id = t.id AND s.status = 'active')""",
            [BARCODE_PREFIX + "%"],
        )
        bad_tubes = cursor.fetchone()[0]
    stored = set(rows)
    lost = len(accepted - stored)
    duplicated = (len(rows) - len(stored)) + len(stored - accepted)
    return lost, duplicated, bad_tubes, len(rows)


SAMPLE_COLUMNS = (
    "created, last_updated, client_id, campaign_id, point_id, desk_id, tube_id, position, "
    "person_id, find_id, via, repeat, scanned_at, received_at, scanned_by_id, status, moved_to_id"
)
TUBE_COLUMNS = (
    "created, last_updated, barcode, campaign_id, point_id, desk_id, capacity, count, household_id, "
    "status, opened_at, opened_by_id, closed_at, sealed_at"
)
SAMPLED_COLUMNS = "campaign_id, person_id, area_id, first_sample_id, sampled_at"
COPY_PREFIX = "6298"  # the baseline's own tube barcodes, rolled back


def copy_baseline(count):
    """Scans a second of a raw COPY of what the ingest wrote for the bench's scans, and rows a
    second of the sample rows alone: (everything, samples only, scans). Everything = the tubes,
    the sample rows and the sampled-person rows (the same tables, indexes and constraints; new
    keys, client ids of the desks' kind and barcodes; the bench's sampled-person rows deleted
    first, untimed, so the same persons count again), checked like a commit would; each rolled
    back."""
    from django.db import connection, transaction

    like = [BARCODE_PREFIX + "%"]
    samples_of = "SELECT id FROM testing_sample WHERE tube_id IN (SELECT id FROM testing_tube WHERE barcode LIKE %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {SAMPLE_COLUMNS} FROM testing_sample s WHERE s.tube_id IN "
            "(SELECT id FROM testing_tube WHERE barcode LIKE %s) AND s.status <> 'void' "
            "ORDER BY s.id LIMIT %s",
            [*like, count],
        )
        samples = [list(r) for r in cursor.fetchall()]
        cursor.execute(f"SELECT {TUBE_COLUMNS} FROM testing_tube WHERE barcode LIKE %s ORDER BY id", like)
        tubes = [list(r) for r in cursor.fetchall()]
        cursor.execute(
            f"SELECT {SAMPLED_COLUMNS} FROM testing_sampledperson WHERE first_sample_id IN ({samples_of})", like
        )
        sampled = cursor.fetchall()
    rng, ms = random.Random("bench-testing:copy"), int(time.time() * 1000)
    for n, row in enumerate(samples):
        row[2] = client_id(rng, ms + n)  # new ids of the same kind as the desks' (UUIDv7)
    for row in tubes:
        row[2] = COPY_PREFIX + row[2][len(BARCODE_PREFIX) :]

    def timed(copies, clear_sampled):
        with transaction.atomic(), connection.cursor() as cursor:
            if clear_sampled:
                cursor.execute(f"DELETE FROM testing_sampledperson WHERE first_sample_id IN ({samples_of})", like)
            start = time.perf_counter()
            for table, columns, rows in copies:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds = time.perf_counter() - start
            transaction.set_rollback(True)
        return seconds

    alone = timed([("testing_sample", SAMPLE_COLUMNS, samples)], False)
    everything = timed(
        [
            ("testing_tube", TUBE_COLUMNS, tubes),
            ("testing_sample", SAMPLE_COLUMNS, samples),
            ("testing_sampledperson", SAMPLED_COLUMNS, sampled),
        ],
        True,
    )
    return len(samples) / everything, len(samples) / alone, len(samples)


def measure_ingest(args, results, url, campaign):
    from django.db import connection
    from django.utils import timezone

    rng = random.Random(f"bench-testing:{args.seed}")
    scans = getattr(args, "testing_scans", 60_000)
    picked = desks_and_tokens(campaign, CLIENTS + 1)
    if len(picked) < CLIENTS + 1:
        raise SystemExit(f"bench: the running round has {len(picked)} desks; {CLIENTS + 1} wanted")
    per_desk = -(-scans // CLIENTS) + campaign.pooling
    probe_scans = 2000
    documents = unsampled_documents(campaign, per_desk * CLIENTS + probe_scans, args.seed)
    if len(documents) < per_desk * CLIENTS + probe_scans:
        raise SystemExit(f"bench: only {len(documents):,} residents left to sample in the running round")
    serials = iter(range(1, 10**7))
    desks = [
        Desk(desk, token, campaign, documents[i * per_desk : (i + 1) * per_desk], rng, serials)
        for i, (desk, token) in enumerate(picked[:CLIENTS])
    ]
    probe_desk, probe_token = picked[CLIENTS]
    probe = Desk(probe_desk, probe_token, campaign, documents[CLIENTS * per_desk :], rng, serials)
    probe.tube_id, probe.campaign_id = None, campaign.pk
    now = timezone.now().isoformat()
    for desk in desks:
        desk.encode(rng, now, BATCH, warmup=campaign.pooling)  # a first tube, untimed
    probe.encode(rng, now, 1, carry=0, resend=0)  # one scan at a time, as a desk sends them
    # Warm-up, untimed: each desk's first batch (its rows count like the others).
    connection.close()  # the server's workers and the clients need the cores, not this process
    port = free_port()
    server = start_server(url, port, probe_token)
    try:
        warm = [(d, d.bodies.pop(0)) for d in desks]
        for desk, body in warm:
            box = [None]
            status, answer = post(box, port, desk.token, body[0])
            desk.answers.append((status, answer, 0))
            box[0].close()
        for desk, body in warm:
            desk.bodies.insert(0, body)
        sent = sum(n for d in desks for _b, n, _r in d.bodies[1:])
        requests = sum(len(d.bodies) - 1 for d in desks)
        resent = sum(1 for d in desks for _b, _n, r in d.bodies[1:] if r)
        log(
            f"bench: scan_ingest: {CLIENTS} desks x {per_desk:,} scans in batches of {BATCH} "
            f"({requests:,} requests, {resent:,} resent whole, {sent:,} scans sent), gunicorn "
            f"{WORKERS} workers x {THREADS} threads on port {port}"
        )
        seconds, trips, raws, errors = run_clients(port, desks, probe, url)
    finally:
        stop_server(server)
    accepted, wrong, statuses = check_outcomes(desks)
    probe_accepted, probe_wrong, _s = check_outcomes([probe])
    timed_new = len(accepted) - sum(
        1 for d in desks for s in json.loads(d.bodies[0][0])["scans"] if s["client_id"] in accepted
    )
    lost, duplicated, bad_tubes, stored = check_database(accepted | probe_accepted)
    rate = timed_new / seconds
    copy_rate, samples_rate, copy_rows = copy_baseline(len(accepted))
    log(
        f"bench: scan_ingest: {timed_new:,} new scans in {seconds:.1f} s = {rate:,.0f}/s; outcomes "
        f"{statuses}; {len(wrong)} unexpected ({wrong[:2]}); database: {stored:,} rows, {lost} lost, "
        f"{duplicated} duplicated, {bad_tubes} tubes with a wrong count; COPY of what the ingest wrote {copy_rate:,.0f} scans/s "
        f"(sample rows alone {samples_rate:,.0f} rows/s)"
    )
    ok = not errors and not wrong and not probe_wrong and lost == 0 and duplicated == 0 and bad_tubes == 0
    emit(
        "scan_ingest",
        rate,
        "scans/s",
        f">= {GOAL_SCANS} scans/s",
        results,
        met=rate >= GOAL_SCANS and ok,
        aim=f">= {AIM_SCANS} scans/s",
        aim_met=rate >= AIM_SCANS and ok,
        clients=CLIENTS,
        batch=BATCH,
        requests=requests,
        resent_batches=resent,
        scans_sent=sent,
        seconds=round(seconds, 2),
        outcomes=statuses,
        unexpected=len(wrong) + len(probe_wrong) + len(errors),
        lost=lost,
        duplicated=duplicated,
        tubes_miscounted=bad_tubes,
        copy_scans_per_s=round(copy_rate),
        ratio_to_copy=round(rate / copy_rate, 3),
        copy_sample_rows_per_s=round(samples_rate),
        ratio_to_copy_samples_only=round(rate / samples_rate, 3),
        server=f"gunicorn gthread {WORKERS}x{THREADS}",
    )
    emit(
        "scan_ingest.copy_baseline",
        copy_rate,
        "scans/s",
        None,
        results,
        scans=copy_rows,
        what="COPY of the tube, sample and sampled-person rows the ingest wrote",
        sample_rows_alone_per_s=round(samples_rate),
    )
    ratio = rate / copy_rate
    emit(
        "scan_ingest.ratio_to_copy",
        ratio,
        "x",
        f">= {GOAL_RATIO}",
        results,
        met=ratio >= GOAL_RATIO,
        aim=f">= {2 * GOAL_RATIO}",
        aim_met=ratio >= 2 * GOAL_RATIO,
        samples_only=round(rate / samples_rate, 3),
    )
    emit("scan_ingest.lost", lost, "samples", "0", results, met=lost == 0)
    emit("scan_ingest.duplicated", duplicated, "samples", "0", results, met=duplicated == 0)
    raws = [r for r in raws if r is not None]
    if trips:
        p50, p95 = percentile(trips, 50), percentile(trips, 95)
        base95 = percentile(raws, 95) if raws else None
        log(
            f"bench: desk_scan: {len(trips)} single scans during the ingest, p50 {p50:.1f} ms, p95 {p95:.1f} ms"
        )
        emit("desk_scan.p50", p50, "ms", None, results, requests=len(trips))
        emit(
            "desk_scan.p95",
            p95,
            "ms",
            f"p95 < {GOAL_DESK_MS} ms",
            results,
            met=p95 < GOAL_DESK_MS and not probe_wrong,
            aim=f"p95 < {GOAL_DESK_MS // 2} ms",
            aim_met=p95 < GOAL_DESK_MS // 2,
            requests=len(trips),
            baseline_p95_ms=round(base95, 2) if base95 else None,
            ratio_to_insert=round(p95 / base95, 1) if base95 else None,
        )
        if base95:
            emit("desk_scan.baseline_insert", base95, "ms", None, results, p50=round(percentile(raws, 50), 2))
            emit("desk_scan.ratio_to_insert", p95 / base95, "x", None, results)


# -- coverage and the missed list --------------------------------------------------------------


def emit_timed(figure, samples, parts, goal_ms, results, **extra):
    """A request figure against `goal_ms` (aim: half), baseline: its SELECTs (or main query) raw."""
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    base = parts["baseline"]
    base50, base95 = percentile(base, 50), percentile(base, 95)
    cpu50 = percentile(parts["cpu"], 50)
    log(
        f"bench: {figure}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; baseline ({parts['what']}) p50 "
        f"{base50:.1f} ms, p95 {base95:.1f} ms; Python CPU p50 {cpu50:.1f} ms"
    )
    emit(f"{figure}.p50", p50, "ms", None, results, requests=len(samples), **extra)
    emit(
        f"{figure}.p95",
        p95,
        "ms",
        f"p95 < {goal_ms} ms",
        results,
        met=p95 < goal_ms,
        aim=f"p95 < {goal_ms // 2} ms",
        aim_met=p95 < goal_ms // 2,
        requests=len(samples),
        **extra,
        queries=round(sum(parts["queries"]) / len(parts["queries"])),
        cpu_p50_ms=round(cpu50, 2),
        baseline=parts["what"],
        baseline_p95_ms=round(base95, 2),
        ratio_to_query=round(p95 / base95, 1),
    )
    emit(f"{figure}.baseline_query", base95, "ms", None, results, p50=round(base50, 2), requests=len(base))
    emit(f"{figure}.ratio_to_query", p95 / base95, "x", None, results, p50=round(p50 / base50, 1))


def measure_pages(args, results, finished, running):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from epigrid.accounts.models import Grant
    from epigrid.areas.models import Area

    User = get_user_model()
    commander = User.objects.get(username="demo_commander")
    grid_worker = User.objects.get(username="demo_grid")
    grid = Grant.objects.select_related("area").get(user=grid_worker, role="grid_worker").area
    district = running.area
    street = Area.objects.filter(parent=district).order_by("code").first()
    community = Area.objects.filter(parent=street).order_by("code").first()
    try:
        client = Client()
        client.force_login(commander)
        base = f"/api/v1/campaigns/{running.pk}/coverage/?area="
        n = min(args.requests, COVERAGE_REQUESTS)
        for figure, node, count in (
            ("coverage_district", district, n),
            ("coverage_street", street, args.requests),
            ("coverage_community", community, args.requests),
        ):
            urls = [base + node.code] * (args.warmup + count)
            samples, parts = time_page(figure, client, urls, args.warmup, "people_person")
            # The baseline is the raw grouped counts: every SELECT of the request.
            parts.update(baseline=parts["sql"], what="its SELECTs run raw: the grouped counts")
            emit_timed(figure, samples, parts, GOAL_COVERAGE_MS, results, area=node.code)
        client = Client()
        client.force_login(grid_worker)
        for figure, campaign in (("missed_list_grid", finished), ("missed_list_grid_running", running)):
            url = reverse("testing:missed", args=[campaign.pk]) + f"?area={grid.code}"
            urls = [url] * (args.warmup + args.requests)
            samples, parts = time_page(figure, client, urls, args.warmup, "people_person")
            parts.update(baseline=parts["main"], what="the page's main query run raw")
            emit_timed(figure, samples, parts, GOAL_MISSED_MS, results, area=grid.code)
    finally:
        connection.close()


def measure(args, results, url):
    from epigrid.testing.models import Campaign

    running = Campaign.objects.filter(status=Campaign.Status.RUNNING).order_by("-starts_at").first()
    finished = Campaign.objects.filter(status=Campaign.Status.FINISHED).order_by("-starts_at").first()
    if running is None or finished is None:
        raise SystemExit("bench: the demo has no running and finished testing round")
    remove_bench_rows()  # leftovers of an interrupted run
    try:
        measure_ingest(args, results, url, running)
    finally:
        remove_bench_rows()
        analyze(TABLES)  # the database stays as built: no dead rows, fresh statistics
    measure_pages(args, results, finished, running)
