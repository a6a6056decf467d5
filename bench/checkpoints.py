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

The load (decision 0040): a city's scans come from many gates, each scanning a person every few
seconds, so they arrive independently of one another and of how fast the server answers — an open
loop. GATES gates, each with its own checkpoint and staff account (API token), PASS_SHARE of them
at the controlled zone scanning passes; scans arrive at OFFERED a second (a Poisson process: the
arrival times are uniform random points of the window) for DURATION seconds and are sent by
SENDERS client threads on keep-alive connections, through gunicorn with the shipped
gunicorn.conf.py. Each scan's time runs from when it arrived (was due) to its answer, so a scan
waiting for a free sender or a busy server counts its wait (no coordinated omission).
gate_scans.rate = answered scans / seconds from the first arrival to the last answer; the offer is
5 % above the goal so that keeping up proves the goal. Goal: >= 200 scans a second with p95 < 100
ms; the aim (twice the rate, half the time) is a second load at twice the offer. Beside them, for
reference, the capacity: CLOSED_CLIENTS clients scanning back to back (each sends its next scan
when the last is answered) for CLOSED_SECONDS — the most the server answers, at whatever latency
that many waiting clients make (Little's law: their mean time is clients / rate). Last, the
sustained rate: offers of STEPS a second, STEP_SECONDS each, rising until one is not answered in
full at p95 < 100 ms; gate_scans.sustained is the highest that was (goal: 200).

Baseline: a raw one-row INSERT (and commit) of a passage through psycopg, timed in the same run
after the load; `ratio_to_insert` = the scan's p95 / the insert's p95. Beside them: the server's
CPU per scan (the gunicorn processes' and the bench database's PostgreSQL backends' CPU time over
the load, from /proc, divided by the scans), the cores that amounts to, and the load average before
the load — on a machine shared with other work the rate says more about the machine than the code.
Afterwards the database is checked: one passage per accepted scan, none lost, none doubled.

Everything the bench adds (its checkpoints, staff accounts and tokens, passages, pass uses) is
removed afterwards: the database stays as built.
"""

import http.client
import json
import os
import queue
import random
import threading
import time
import uuid

from bench.run import emit, log, percentile
from bench.testing import THREADS, WORKERS, free_port, start_server, stop_server

GATES = 200  # a city's gates, each scanning a person every second or so at the goal's rate
PASS_SHARE = 0.2  # of the gates: at the controlled zone, scanning household passes
OFFERED = 210  # scans a second offered: 5 % above the goal
DURATION = 20.0  # seconds of load
SENDERS = 64  # client threads (keep-alive connections) sending the arrivals
# The highest of these offers (scans a second, STEP_SECONDS each) the server answers at p95 < 100 ms
# is `gate_scans.sustained`; the steps stop at the first it misses.
STEPS = (40, 60, 80, 100, 120, 140, 160, 180, 200, 240)
STEP_SECONDS = 10.0
WARM_RATE, WARM_SECONDS = 60, 10.0  # scans a second before the figures, to fill the caches
CLOSED_CLIENTS = 20
CLOSED_SECONDS = 10.0
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


def vacuum():
    """The tables the bench writes and empties again, vacuumed: each run starts from the same
    state (an earlier run's dead rows would slow the next one's lookups)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE audit_objectchange, checkpoints_passage, passes_passuse, passes_passwindow, "
            "checkpoints_checkpoint, checkpoints_checkpoint_staff, authtoken_token, accounts_user, accounts_grant"
        )


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
    for n in range(GATES):
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
        .values_list("doc_number", flat=True)[:300_000:7]
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


class Scans:
    """What each gate sends next: person gates take the next resident ID, pass gates a random pass
    (a member, exit or return). Shared by the sender threads (under a lock)."""

    def __init__(self, gates, numbers, passes, seed):
        cut = int(len(gates) * (1 - PASS_SHARE)) if passes else len(gates)
        self.gates, self.cut = gates, cut  # gates from `cut` on scan passes
        self.numbers, self.passes = iter(numbers), passes
        self.rng = random.Random(f"bench-gates-load:{seed}")
        self.lock = threading.Lock()
        self.count = 0

    def next(self):
        """(kind, token, path, body, client id) of the next scan, or None when the IDs run out."""
        with self.lock:
            self.count += 1
            index = self.rng.randrange(len(self.gates))
            checkpoint, token = self.gates[index]
            client_id = str(uuid.uuid4())
            if index >= self.cut:
                code, members = self.rng.choice(self.passes)
                body = {
                    "code": code,
                    "person": self.rng.choice(members),
                    "direction": self.rng.choice(("exit", "exit", "return")),
                    "checkpoint": checkpoint.pk,
                    "client_id": client_id,
                }
                return "pass", token, "/api/v1/pass-uses/scan/", json.dumps(body).encode(), client_id
            number = next(self.numbers, None)
            if number is None:
                return None
        body = {
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
        return "passage", token, "/api/v1/passages/batch/", json.dumps(body).encode(), client_id


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples = {"passage": [], "pass": []}
        self.accepted, self.errors, self.statuses = [], [], {}
        self.last_answer = 0.0

    def add(self, kind, elapsed_ms, status, answer, client_id, answered_at):
        if kind == "passage":
            outcome = json.loads(answer)[0]["outcome"] if status == 200 else f"http {status}"
        else:
            outcome = f"pass {status}"
        with self.lock:
            self.samples[kind].append(elapsed_ms)
            self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
            if outcome == "accepted":
                self.accepted.append(client_id)
            self.last_answer = max(self.last_answer, answered_at)


def run_open(port, scans, rate, duration, seed):
    """Scans arriving at `rate` a second for `duration` seconds, sent by SENDERS threads; each
    scan's time from its arrival to its answer. Returns (seconds from the first arrival to the
    last answer, offered scans, Tally)."""
    rng = random.Random(f"bench-gates-arrivals:{seed}:{rate}")
    arrivals = sorted(rng.uniform(0, duration) for _ in range(int(rate * duration)))
    due = queue.SimpleQueue()
    for at in arrivals:
        due.put(at)
    tally = Tally()
    barrier = threading.Barrier(SENDERS + 1)
    start_box = [0.0]

    def sender():
        box = [None]
        try:
            barrier.wait()
            start = start_box[0]
            while True:
                try:
                    at = due.get_nowait()
                except queue.Empty:
                    return
                wait = start + at - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                scan = scans.next()
                if scan is None:
                    return
                kind, token, path, body, client_id = scan
                status, answer = _post(box, port, token, path, body)
                now = time.perf_counter()
                tally.add(kind, (now - (start + at)) * 1000, status, answer, client_id, now - start)
        except Exception as exc:  # reported, and the figure marked
            tally.errors.append(repr(exc))
        finally:
            if box[0] is not None:
                box[0].close()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    start_box[0] = time.perf_counter() + 0.2  # every sender connected and waiting first
    barrier.wait()
    for thread in threads:
        thread.join()
    if tally.errors:
        log(f"bench: gate clients failed: {tally.errors[:3]}")
    return max(tally.last_answer - arrivals[0], duration - arrivals[0]), len(arrivals), tally


def run_closed(port, scans, clients, duration):
    """`clients` threads each sending its next scan when the last is answered, for `duration`
    seconds: the server's capacity. Returns (seconds, Tally)."""
    tally = Tally()
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client():
        box = [None]
        try:
            barrier.wait()
            while not stop.is_set():
                scan = scans.next()
                if scan is None:
                    return
                kind, token, path, body, client_id = scan
                sent = time.perf_counter()
                status, answer = _post(box, port, token, path, body)
                now = time.perf_counter()
                tally.add(kind, (now - sent) * 1000, status, answer, client_id, now)
        except Exception as exc:
            tally.errors.append(repr(exc))
        finally:
            if box[0] is not None:
                box[0].close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, tally


def sustained_rate(port, scans, seed):
    """The highest offer of STEPS answered in full at p95 < GOAL_P95_MS, and each step's figures."""
    best, steps = 0, []
    for rate in STEPS:
        seconds, offered, tally = run_open(port, scans, rate, STEP_SECONDS, seed)
        found = _summary(tally)
        answered = found["scans"] / seconds
        steps.append({"offered": rate, "answered": round(answered, 1), "p95_ms": round(found["p95"], 1)})
        if found["scans"] < offered or found["p95"] >= GOAL_P95_MS or tally.errors:
            break
        best = rate
    log(f"bench: gate_scans sustained at p95 < {GOAL_P95_MS} ms: {best}/s offered ({steps})")
    return best, steps


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


def shared_cache():
    """The production cache (README): Redis when one answers at REDIS_URL, else the per-process one."""
    import redis
    from django.conf import settings

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
        return "redis"
    except (redis.RedisError, OSError):
        return "locmem"


def _summary(tally):
    both = tally.samples["passage"] + tally.samples["pass"]
    return {
        "scans": len(both),
        "p95": percentile(both, 95) if both else None,
        "p50": percentile(both, 50) if both else None,
        "passage_p95": percentile(tally.samples["passage"], 95) if tally.samples["passage"] else None,
        "pass_p95": percentile(tally.samples["pass"], 95) if tally.samples["pass"] else None,
    }


def measure(args, results, url):
    from epigrid.areas.models import Area, Level
    from epigrid.checkpoints.models import Passage
    from epigrid.people.models import Person

    district = Area.objects.filter(level=Level.DISTRICT).order_by("code").first()
    remove_bench_rows()
    vacuum()
    gates, numbers, passes = setup(district, args.seed)
    scans = Scans(gates, numbers, passes, args.seed)
    port = free_port()
    cache = shared_cache()
    server = start_server(url, port, gates[0][1], EPIGRID_CACHE=cache)
    load_before = os.getloadavg()[0]
    try:
        # Warm, as a city's gates that have been scanning for a while: each worker has read most
        # gates' tokens and posts once (3 s back to back left a seventh of the goal's scans cold).
        run_open(port, scans, WARM_RATE, WARM_SECONDS, args.seed + 1)
        cpu_before = server_cpu(server)
        seconds, offered, goal = run_open(port, scans, OFFERED, DURATION, args.seed)
        cpu_after = server_cpu(server)
        aim_seconds, aim_offered, aim = run_open(port, scans, 2 * OFFERED, DURATION, args.seed)
        closed_seconds, closed = run_closed(port, scans, CLOSED_CLIENTS, CLOSED_SECONDS)
        sustained, steps = sustained_rate(port, scans, args.seed)
    finally:
        stop_server(server)
    web_cpu, db_cpu = _spent(cpu_before[0], cpu_after[0]), _spent(cpu_before[1], cpu_after[1])
    try:
        at_goal, at_aim, at_capacity = _summary(goal), _summary(aim), _summary(closed)
        rate, aim_rate = at_goal["scans"] / seconds, at_aim["scans"] / aim_seconds
        capacity = at_capacity["scans"] / closed_seconds
        p95, p50 = at_goal["p95"], at_goal["p50"]
        accepted = goal.accepted + aim.accepted + closed.accepted
        errors = goal.errors + aim.errors + closed.errors
        stored = Passage.objects.filter(client_id__in=accepted).count()
        doubled = len(accepted) - len(set(accepted))
        person_id = (
            Person.objects.filter(area__path__startswith=district.path).values_list("pk", flat=True).first()
        )
        insert95, insert50 = raw_insert_p95(url, gates[0][0], person_id)
        per_scan_web, per_scan_db = 1000 * web_cpu / at_goal["scans"], 1000 * db_cpu / at_goal["scans"]
        log(
            f"bench: gate_scans: offered {offered / DURATION:.0f}/s for {DURATION:.0f} s: {at_goal['scans']:,} "
            f"answered in {seconds:.1f} s = {rate:.0f}/s; p50 {p50:.1f} ms, p95 {p95:.1f} ms (passages p95 "
            f"{at_goal['passage_p95'] or 0:.1f} ms, pass scans p95 {at_goal['pass_p95'] or 0:.1f} ms); outcomes "
            f"{goal.statuses}; server CPU per scan {per_scan_web:.1f} ms web + {per_scan_db:.1f} ms PostgreSQL "
            f"({(web_cpu + db_cpu) / seconds:.2f} of {os.cpu_count()} cores busy; load average "
            f"{load_before:.1f} before the load)"
        )
        log(
            f"bench: gate_scans at twice the offer ({aim_offered / DURATION:.0f}/s): {aim_rate:.0f}/s answered, "
            f"p50 {at_aim['p50']:.1f} ms, p95 {at_aim['p95']:.1f} ms; capacity ({CLOSED_CLIENTS} clients back "
            f"to back): {capacity:.0f}/s at p95 {at_capacity['p95']:.1f} ms; raw INSERT p95 {insert95:.2f} ms; "
            f"{WORKERS} workers × {THREADS} threads, cache {cache}"
        )
        clean = not errors and stored == len(accepted) and not doubled
        met = rate >= GOAL_RATE and p95 < GOAL_P95_MS and clean
        emit(
            "gate_scans.rate",
            rate,
            "scans/s",
            f">= {GOAL_RATE} scans/s with p95 < {GOAL_P95_MS} ms",
            results,
            met=met,
            aim=f">= {2 * GOAL_RATE} scans/s with p95 < {GOAL_P95_MS // 2} ms",
            aim_met=aim_rate >= 2 * GOAL_RATE and at_aim["p95"] < GOAL_P95_MS / 2 and clean,
            offered_per_s=round(offered / DURATION, 1),
            p95_ms=round(p95, 1),
            p50_ms=round(p50, 1),
            passage_p95_ms=round(at_goal["passage_p95"], 1) if at_goal["passage_p95"] else None,
            pass_scan_p95_ms=round(at_goal["pass_p95"], 1) if at_goal["pass_p95"] else None,
            scans=at_goal["scans"],
            pass_scans=len(goal.samples["pass"]),
            aim_rate=round(aim_rate, 1),
            aim_offered_per_s=round(aim_offered / DURATION, 1),
            aim_p95_ms=round(at_aim["p95"], 1),
            gates=GATES,
            senders=SENDERS,
            cache=cache,
            lost=len(accepted) - stored,
            duplicated=doubled,
            errors=len(errors),
            web_cpu_ms_per_scan=round(per_scan_web, 2),
            db_cpu_ms_per_scan=round(per_scan_db, 2),
            cores_busy=round((web_cpu + db_cpu) / seconds, 2),
            cores=os.cpu_count(),
            load_average_before=round(load_before, 1),
            baseline_insert_p95_ms=round(insert95, 2),
            ratio_to_insert=round(p95 / insert95, 1) if insert95 else None,
        )
        emit("gate_scans.p95", p95, "ms", f"p95 < {GOAL_P95_MS} ms", results, met=p95 < GOAL_P95_MS)
        emit(
            "gate_scans.sustained",
            sustained,
            "scans/s",
            f">= {GOAL_RATE} scans/s offered with p95 < {GOAL_P95_MS} ms",
            results,
            met=sustained >= GOAL_RATE,
            steps=steps,
            step_seconds=STEP_SECONDS,
        )
        emit(
            "gate_scans.capacity",
            capacity,
            "scans/s",
            None,
            results,
            clients=CLOSED_CLIENTS,
            p95_ms=round(at_capacity["p95"], 1),
            p50_ms=round(at_capacity["p50"], 1),
        )
        emit("gate_scans.baseline_insert", insert95, "ms", None, results, p50=round(insert50, 2))
        emit("gate_scans.ratio_to_insert", p95 / insert95 if insert95 else None, "x", None, results)
    finally:
        remove_bench_rows()
