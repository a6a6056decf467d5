"""Gate figure (`bench/run.py --only checkpoints`): gate scans sustained, while pass quotas are checked.

What one "scan" is, exactly:
- a person scan: one POST /api/v1/passages/batch/ holding one passage whose person is the resident
  ID as the card reader gives it (`{"doc_number": ...}`), green code, 36.5 °C, going in at a
  community gate. Served, it is the whole of a scan: the ID number charged as a lookup (count and
  audit row), the person read with their open entry and latest result, the zones over the home,
  the suggestion, the passage and its change-log row, committed. The gate page does the same work
  in two requests — `GET /api/v1/checkpoints/<id>/assess/` (the lookup and the assessment, what the
  staff wait for) and then the queued passage with the signed token, sent at once when online, so
  in batches of one — and in larger batches only when syncing a queue kept offline; one request per
  scan is therefore the gate's usual batch size, and it carries the work of both.
- a pass scan: one POST /api/v1/pass-uses/scan/ of a household pass at the demo's controlled zone
  (every exit a claim on its pass's quota, most refused once the window's exit is used; a third are
  returns).

GATES checkpoint gates, each with its own staff account (API token) and keep-alive connection, scan
persons one after another without pause (closed loop: a gate sends its next scan when the answer to
the last one arrives), while PASS_GATES more gates scan passes the same way, for DURATION seconds,
through gunicorn serving the bench database with the shipped gunicorn.conf.py. gate_scans.rate is
the answered requests of both kinds per second over the load; p95 / p50 are of each request's round
trip as the gate's client sees it (both kinds together; each kind's p95 is given too). Goal: >= 200
scans a second with p95 < 100 ms (aim: twice the rate, half the time). Baseline: a raw one-row
INSERT (and commit) of a passage through psycopg, timed in the same run after the load;
`ratio_to_insert` = the request's p95 / the insert's p95. Beside them: the server's CPU per scan
(the gunicorn processes' and the bench database's PostgreSQL backends' CPU time over the load, from
/proc, divided by the scans), the cores that amounts to, and the load average before the load —
on a machine shared with other work the rate says more about the machine than about the code.
- Afterwards the database is checked: one passage per accepted scan, none lost, none doubled.

Everything the bench adds (its checkpoints, staff accounts and tokens, passages, pass uses) is
removed afterwards: the database stays as built.
"""

import http.client
import json
import os
import random
import threading
import time
import uuid

from bench.run import emit, log, percentile
from bench.testing import THREADS, WORKERS, free_port, start_server, stop_server

GATES = 16
PASS_GATES = 4
DURATION = 20.0  # seconds of load
GOAL_RATE = 200
GOAL_P95_MS = 100
PREFIX = "bench_gate_"
NAME = "BENCH 卡口"


def remove_bench_rows():
    from django.contrib.auth import get_user_model
    from django.db import connection

    from epigrid.checkpoints.models import Checkpoint, Passage, VehicleCheck
    from epigrid.passes.models import PassUse

    checkpoints = Checkpoint.objects.filter(name__startswith=NAME)
    uses = PassUse.objects.filter(checkpoint__in=checkpoints)
    uses.filter(exit__isnull=False).delete()
    uses.delete()
    Passage.objects.filter(checkpoint__in=checkpoints).delete()
    VehicleCheck.objects.filter(checkpoint__in=checkpoints).delete()
    checkpoints.delete()
    users = get_user_model().objects.filter(username__startswith=PREFIX)
    with connection.cursor() as cursor:  # their lookups' audit rows
        cursor.execute(
            "DELETE FROM audit_objectchange WHERE user_id IN (SELECT id FROM accounts_user WHERE username LIKE %s)",
            [PREFIX + "%"],
        )
    users.delete()


def setup(district, seed):
    """The gates with their staff and tokens, the persons each gate will see, the passes to scan."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from epigrid.accounts.models import Grant
    from epigrid.checkpoints.models import Checkpoint
    from epigrid.passes.codes import make_code
    from epigrid.passes.models import HouseholdPass
    from epigrid.people.models import Person

    rng = random.Random(f"bench-gates:{seed}")
    User = get_user_model()
    gates = []
    for n in range(GATES + PASS_GATES):
        user = User.objects.create_user(f"{PREFIX}{n}", password=None)
        Grant.objects.create(user=user, role="checkpoint_staff", area=district)
        checkpoint = Checkpoint.objects.create(
            name=f"{NAME}{n:02d}", kind=Checkpoint.Kind.COMMUNITY_GATE, area=district
        )
        checkpoint.staff.add(user)
        gates.append((checkpoint, Token.objects.create(user=user).key))
    numbers = list(
        Person.objects.filter(area__path__startswith=district.path, merged_into__isnull=True, doc_type="111")
        .order_by("id")
        .values_list("doc_number", flat=True)[:200_000:7]
    )
    rng.shuffle(numbers)
    passes = []
    for household_pass in (
        HouseholdPass.objects.filter(status="active").select_related("household").order_by("pk")[:400]
    ):
        members = list(
            household_pass.household.members.filter(merged_into__isnull=True).values_list("pk", flat=True)
        )
        if members:
            passes.append((make_code(household_pass), members))
    return gates, numbers, passes


def _post(box, port, token, path, body):
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
    for attempt in range(2):
        if box[0] is None:
            box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            box[0].request("POST", path, body, headers)
            response = box[0].getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, ConnectionError, OSError):
            box[0].close()
            box[0] = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def run_load(port, gates, numbers, passes, seed):
    """Every gate thread scans until DURATION has passed; returns the samples per kind and the
    accepted client ids."""
    rng = random.Random(f"bench-gates-load:{seed}")
    barrier = threading.Barrier(len(gates) + 1)
    stop = threading.Event()
    lock = threading.Lock()
    samples = {"passage": [], "pass": []}
    accepted, errors, statuses = [], [], {}
    person_gates, pass_gates = gates[:GATES], gates[GATES:]
    chunks = [numbers[i::GATES] for i in range(GATES)]
    pass_chunks = (
        [passes[i::PASS_GATES] for i in range(PASS_GATES)] if passes else [[] for _ in range(PASS_GATES)]
    )

    def person_gate(index, checkpoint, token):
        box = [None]
        mine = iter(chunks[index])
        try:
            barrier.wait()
            while not stop.is_set():
                number = next(mine, None)
                if number is None:
                    break
                client_id = str(uuid.uuid4())
                body = json.dumps(
                    {
                        "scans": [
                            {
                                "client_id": client_id,
                                "checkpoint": checkpoint.pk,
                                "direction": "in",
                                "health_code": "green",
                                "temperature": "36.5",
                                "person": {"doc_number": number},
                            }
                        ]
                    }
                ).encode()
                start = time.perf_counter()
                status, answer = _post(box, port, token, "/api/v1/passages/batch/", body)
                elapsed = (time.perf_counter() - start) * 1000
                outcome = json.loads(answer)[0]["outcome"] if status == 200 else f"http {status}"
                with lock:
                    samples["passage"].append(elapsed)
                    statuses[outcome] = statuses.get(outcome, 0) + 1
                    if outcome == "accepted":
                        accepted.append(client_id)
        except Exception as exc:  # reported, and the figure marked
            errors.append(repr(exc))
        finally:
            if box[0] is not None:
                box[0].close()

    def pass_gate(index, checkpoint, token):
        box = [None]
        mine = pass_chunks[index]
        local = random.Random(rng.random())
        try:
            barrier.wait()
            while not stop.is_set() and mine:
                code, members = local.choice(mine)
                body = json.dumps(
                    {
                        "code": code,
                        "person": local.choice(members),
                        "direction": local.choice(("exit", "exit", "return")),
                        "checkpoint": checkpoint.pk,
                        "client_id": str(uuid.uuid4()),
                    }
                ).encode()
                start = time.perf_counter()
                status, _answer = _post(box, port, token, "/api/v1/pass-uses/scan/", body)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    samples["pass"].append(elapsed)
                    statuses[f"pass {status}"] = statuses.get(f"pass {status}", 0) + 1
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            if box[0] is not None:
                box[0].close()

    threads = [threading.Thread(target=person_gate, args=(i, c, t)) for i, (c, t) in enumerate(person_gates)]
    threads += [threading.Thread(target=pass_gate, args=(i, c, t)) for i, (c, t) in enumerate(pass_gates)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(DURATION)
    stop.set()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        log(f"bench: gate clients failed: {errors[:3]}")
    return seconds, samples, accepted, statuses, errors


def _proc_cpu(pid):
    """(process group, CPU seconds so far) of a process, from /proc (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(server):
    """{pid: CPU seconds} of the gunicorn processes (the bench's server's group) and of the
    PostgreSQL backends serving the bench database (other than the bench's own connection)."""
    from django.db import connection

    web, db = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            found = _proc_cpu(name)
            if found is not None and found[0] == server.pid:
                web[int(name)] = found[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for (pid,) in cursor.fetchall():
            found = _proc_cpu(pid)
            if found is not None:
                db[pid] = found[1]
    return web, db


def _spent(before, after):
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def raw_insert_p95(url, checkpoint, person_id, count=200):
    """A raw one-row INSERT of a passage (and its commit) through psycopg: the floor of a scan."""
    import psycopg

    times = []
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        for _ in range(count):
            start = time.perf_counter()
            cursor.execute(
                "INSERT INTO checkpoints_passage (checkpoint_id, client_id, at, direction, person_id, origin, origin_risk,"
                " health_code, suggested, findings, decision, reason) VALUES (%s, %s, now(), 'in', %s, '', 'none',"
                " 'green', 'pass', '[]', 'pass', '')",
                [checkpoint.pk, uuid.uuid4(), person_id],
            )
            times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 95), percentile(times, 50)


def measure(args, results, url):
    from epigrid.areas.models import Area, Level
    from epigrid.checkpoints.models import Passage
    from epigrid.people.models import Person

    district = Area.objects.filter(level=Level.DISTRICT).order_by("code").first()
    remove_bench_rows()
    gates, numbers, passes = setup(district, args.seed)
    port = free_port()
    server = start_server(url, port, gates[0][1])
    load_before = os.getloadavg()[0]
    try:
        cpu_before = server_cpu(server)
        seconds, samples, accepted, statuses, errors = run_load(port, gates, numbers, passes, args.seed)
        cpu_after = server_cpu(server)
    finally:
        stop_server(server)
    web_cpu, db_cpu = _spent(cpu_before[0], cpu_after[0]), _spent(cpu_before[1], cpu_after[1])
    try:
        all_samples = samples["passage"] + samples["pass"]
        rate = len(all_samples) / seconds
        p95, p50 = percentile(all_samples, 95), percentile(all_samples, 50)
        passage_p95 = percentile(samples["passage"], 95)
        pass_p95 = percentile(samples["pass"], 95) if samples["pass"] else None
        stored = Passage.objects.filter(client_id__in=accepted).count()
        doubled = len(accepted) - len(set(accepted))
        person_id = (
            Person.objects.filter(area__path__startswith=district.path).values_list("pk", flat=True).first()
        )
        insert95, insert50 = raw_insert_p95(url, gates[0][0], person_id)
        log(
            f"bench: gate_scans: {len(all_samples):,} scans in {seconds:.1f} s = {rate:.0f}/s; p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms (passages p95 {passage_p95:.1f} ms, pass scans p95 {pass_p95 or 0:.1f} ms); "
            f"outcomes {statuses}; raw INSERT p95 {insert95:.2f} ms; {WORKERS} workers × {THREADS} threads; "
            f"server CPU per scan {1000 * web_cpu / len(all_samples):.1f} ms web + "
            f"{1000 * db_cpu / len(all_samples):.1f} ms PostgreSQL ({(web_cpu + db_cpu) / seconds:.2f} of "
            f"{os.cpu_count()} cores busy; load average {load_before:.1f} before the load)"
        )
        met = (
            rate >= GOAL_RATE and p95 < GOAL_P95_MS and not errors and stored == len(accepted) and not doubled
        )
        emit(
            "gate_scans.rate",
            rate,
            "scans/s",
            f">= {GOAL_RATE} scans/s with p95 < {GOAL_P95_MS} ms",
            results,
            met=met,
            aim=f">= {2 * GOAL_RATE} scans/s with p95 < {GOAL_P95_MS // 2} ms",
            aim_met=rate >= 2 * GOAL_RATE and p95 < GOAL_P95_MS / 2,
            p95_ms=round(p95, 1),
            p50_ms=round(p50, 1),
            passage_p95_ms=round(passage_p95, 1),
            pass_scan_p95_ms=round(pass_p95, 1) if pass_p95 is not None else None,
            scans=len(all_samples),
            pass_scans=len(samples["pass"]),
            gates=GATES + PASS_GATES,
            lost=len(accepted) - stored,
            duplicated=doubled,
            errors=len(errors),
            web_cpu_ms_per_scan=round(1000 * web_cpu / len(all_samples), 2),
            db_cpu_ms_per_scan=round(1000 * db_cpu / len(all_samples), 2),
            cores_busy=round((web_cpu + db_cpu) / seconds, 2),
            cores=os.cpu_count(),
            load_average_before=round(load_before, 1),
            baseline_insert_p95_ms=round(insert95, 2),
            ratio_to_insert=round(p95 / insert95, 1) if insert95 else None,
        )
        emit("gate_scans.p95", p95, "ms", f"p95 < {GOAL_P95_MS} ms", results, met=p95 < GOAL_P95_MS)
        emit("gate_scans.baseline_insert", insert95, "ms", None, results, p50=round(insert50, 2))
        emit("gate_scans.ratio_to_insert", p95 / insert95 if insert95 else None, "x", None, results)
    finally:
        remove_bench_rows()
