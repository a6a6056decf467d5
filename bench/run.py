"""`make bench`: build the 1,000,000-resident demo on PostgreSQL and time the pages field roles use.

Creates its own database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/epigrid_bench)
through the server's maintenance database, migrates it, builds the demo (figure demo_build_1m),
then requests pages through Django's test Client in-process (middleware, session auth via
force_login, template rendering) and reports p50/p95 server time against the goal p95 < 300 ms,
aiming at half of it (p95 < 150 ms: `aim`, `aim_met`) so that the goal holds on other machines.
One JSON object per line on stdout; diagnostics (and EXPLAIN ANALYZE of the slowest query of any
page figure that misses its aim) on stderr.

Every page figure has a baseline timed in the same run: its main query (the SQL Django generated
for the page's queryset: the list's page of rows, the detail page's object; captured once per URL
in an untimed pass, with the SET LOCALs the page ran it with) run raw through psycopg's cursor
after each request, so page and query are timed the same number of times, interleaved. Emitted as
<figure>.baseline_query (p95 ms, p50 too) and <figure>.ratio_to_query (page p95 / query p95); the
<figure>.p95 row also holds the page's SELECT count, all its SELECTs run raw (sql_p50_ms) and the
request's Python CPU time (cpu_p50_ms), which says where the rest of the time goes.

Pages (--only pages), as the grid worker (demo_grid) and the district commander (demo_commander):
- person_list / person_search: /people/?page=1..3, and searches cycling through surname, name
  prefix, last 4 ID characters, full ID and phone taken from real rows in the user's scope
  (the grid worker's exact lookups are logged as usual and removed afterwards; the bench raises
  the hourly and daily lookup limits so that a second run within the hour is not refused);
- person_detail / household_detail: /people/<id>/ and /areas/households/<id>/ of random persons
  and households the user may see;
- keyperson_list: /control/?page=1..3 (the demo's ledger);
- audit_log_commander: /audit/?page=1..3 (a grid worker has no audit log).

The audit log at scale (--only audit): a `create` row for every resident, as the resident import
writes them, is added in one INSERT ... SELECT (request_id AUDIT_MARKER), then the commander's
/audit/?page=1..3 (audit_log_1m_commander) and searches cycling through an action, a user, one
record's history with and without its type, and a day (audit_search_1m_commander) are timed; the
rows are deleted afterwards (and the table vacuumed), so the database stays as built.

Then today's work lists (--only worklists): 50,000 open key persons (about 40 a grid; mostly
close and secondary contacts and arrivals, anchored over the last 10 days) with their plans,
tests and part of today's check-ins are bulk-created, and GET /control/today/ is timed as the
grid worker (one grid's lists), the community officer and the district commander (the roll-up),
and the key-person ledger /control/ with those entries in it (keyperson_list_50k_*); the set-up
rows are deleted afterwards (and the tables vacuumed), so the database stays as built.

Then mass testing (--only testing, bench/testing.py), on the demo's running round: scan ingest
through the HTTP batch API served by gunicorn (50 desks at once, retries, lost and duplicated
samples counted in the database; baseline a raw COPY of the same sample rows), one desk's
single-scan round trip meanwhile, the district's coverage with its drill-down and a grid's missed
list (baselines: their raw queries); the rows it adds are removed afterwards.

Then the daily-report roll-up (--only reports, bench/reports.py): 5,000 synthetic communities with
14 days of reports under the demo city, the roll-up service and page timed against their raw SQL
(rolled back).
A disinfection round's live coverage over 20,000 sites (--only disinfection, bench/disinfection.py).
The command dashboard (--only dashboard, bench/dashboard.py): /dashboard/, its charts' JSON and a
street's drill-down as the district commander with 50,000 open key persons added (removed
afterwards); baseline the one SELECT that counts every tile.

Then sample transport (--only transport, bench/transport.py): the transport board as the district
commander with a day's 25,000 boxes added to the running round (removed afterwards); and lab
results (--only results, bench/results.py): the persons of a pooled-positive tube through the API;
and lab results through the import pipeline (--only results_import): 100,000 pooled tubes (xlsx)
and 1,000,000 single tubes (csv) delivered to a lab, imported as its staff, baseline a raw COPY of
the same result rows (set-up and results rolled back).

Then the bulk figures, each with a raw PostgreSQL COPY of the same rows timed in the same run and
the ratio to it:
- import: 100,000 resident rows (1% bad: wrong check digit, missing name, ID turned into a float)
  written to xlsx, then core.imports.run_import with people.imports.ResidentResource into the
  first community as its community officer (dry_run=False), up to the deferred constraint checks;
  the transaction is rolled back, so the database stays as built. Baseline: COPY of the valid
  person rows into people_person (same indexes and constraints), also rolled back.
- export: every person as the district commander through the export job (jobs.exports.start_export,
  run by jobs.services.execute as the worker would) in a child process that does only that, which
  reports its wall time and peak memory (VmHWM). Baseline: COPY (the export's own query) TO STDOUT
  into a file.

The database is dropped at the end unless --keep or --reuse is given. It only ever drops a
database it created itself (marked with a COMMENT); any other database is left alone.

    .venv/bin/python bench/run.py [--residents N] [--seed S] [--reuse] [--keep] [--requests 60]
                                  [--only pages,audit,worklists,testing,transport,dashboard,homeservices,disinfection,results,results_import,import,export]
                                  [--import-rows 100000] [--testing-scans 60000]
"""

import argparse
import datetime
import gc
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/epigrid_bench"
MARKER = "epigrid-bench"
GOAL_MS = 300
AIM_MS = GOAL_MS // 2  # half the goal on this machine, so the goal holds on others
GOAL_BUILD_S = 300
GOAL_IMPORT_S = 30
GOAL_EXPORT_S = 60
GOAL_EXPORT_MB = 300
FIGURES = (
    "pages",
    "audit",
    "worklists",
    "testing",
    "transport",
    "isolation",
    "tracing",
    "reports",
    "checkpoints",
    "dashboard",
    "homeservices",
    "disinfection",
    "results",
    "results_import",
    "export",
    "import",
)


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def emit(figure, value, unit, goal, results, **extra):
    row = {
        "figure": figure,
        "value": round(value, 1) if value is not None else None,
        "unit": unit,
        "goal": goal,
    }
    row.update(extra)
    print(json.dumps(row, ensure_ascii=False), flush=True)
    results.append(row)


# -- the database ------------------------------------------------------------------------------


def fingerprint(residents, seed):
    """Identifies an identical build: same size, seed, demo code and migrations."""
    digest = hashlib.sha256(f"{residents}:{seed}".encode())
    files = sorted((ROOT / "epigrid" / "demo").rglob("*.py")) + sorted(
        ROOT.glob("epigrid/*/migrations/0*.py")
    )
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Server:
    """Connections to the maintenance database of the server DATABASE_URL points at."""

    def __init__(self, url):
        import psycopg

        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise SystemExit(f"bench: DATABASE_URL must point to PostgreSQL, not {parts.scheme!r}")
        self.name = parts.path.lstrip("/")
        if not self.name or self.name in ("postgres", "template0", "template1"):
            raise SystemExit(f"bench: refusing to use the database {self.name!r}; name a bench database")
        maintenance = urlunsplit(parts._replace(path="/postgres"))
        self.conn = psycopg.connect(maintenance, autocommit=True)
        self.ident = psycopg.sql.Identifier(self.name)
        self.sql = psycopg.sql

    def comment(self):
        row = self.conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [self.name]
        ).fetchone()
        if row is None:
            return None  # no such database
        return row[0] or ""

    def set_comment(self, text):
        self.conn.execute(
            self.sql.SQL("COMMENT ON DATABASE {} IS {}").format(self.ident, self.sql.Literal(text))
        )

    def drop(self):
        comment = self.comment()
        if comment is None:
            return
        if not comment.startswith(MARKER):
            raise SystemExit(
                f"bench: the database {self.name!r} exists and was not created by bench/run.py; "
                "refusing to drop it. Point DATABASE_URL at another database name."
            )
        log(f"bench: dropping database {self.name}")
        self.conn.execute(self.sql.SQL("DROP DATABASE {} WITH (FORCE)").format(self.ident))

    def create(self):
        log(f"bench: creating database {self.name}")
        self.conn.execute(
            self.sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(self.ident)
        )
        self.set_comment(f"{MARKER} building")


def parse_marker(comment):
    """'epigrid-bench <fingerprint> <seconds>' -> (fingerprint, seconds)."""
    parts = (comment or "").split()
    if len(parts) == 3 and parts[0] == MARKER:
        try:
            return parts[1], float(parts[2])
        except ValueError:
            pass
    return None, None


# -- timing requests ---------------------------------------------------------------------------


def percentile(samples, pct):
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def search_terms(rows, rng, count):
    """(kind, term) cycling through the kinds a user types, from real rows."""
    kinds = ["surname", "name_prefix", "id_last4", "id_full", "phone"]
    terms = []
    for i in range(count):
        name, doc_number, phone = rng.choice(rows)
        kind = kinds[i % len(kinds)]
        if kind == "phone" and not phone:
            kind = "id_full"
        term = {
            "surname": name[:1],
            "name_prefix": name[:2],
            "id_last4": doc_number[-4:],
            "id_full": doc_number,
            "phone": phone[3:] if phone.startswith("+86") else phone,
        }[kind]
        terms.append((kind, term))
    return terms


def explain_slowest(client, url):
    """EXPLAIN ANALYZE of the slowest SQL statement of one request (with the SET LOCALs the request
    ran it with), to stderr."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    queries = sorted(ctx.captured_queries, key=lambda q: float(q["time"]), reverse=True)
    total = sum(float(q["time"]) for q in queries) * 1000
    log(f"bench: {len(queries)} queries ({total:.1f} ms in SQL) for {url}; slowest:")
    for query in queries[:3]:
        log(f"  {float(query['time']) * 1000:.1f} ms  {query['sql'][:300]}")
    slowest = queries[0]["sql"] if queries else ""
    if not is_select(slowest):
        return
    settings = []
    for query in ctx.captured_queries:
        if query["sql"] == slowest:
            break
        if query["sql"][:10].upper() == "SET LOCAL ":
            settings.append(query["sql"])
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(setting)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    log(f"bench: EXPLAIN ANALYZE of the slowest query:\n{' '.join(settings)}\n{slowest}\n{plan}\n")


# -- pages -------------------------------------------------------------------------------------

# A statement that reads rows (not a COUNT, not an exists() probe): the page's own query.
_ROW_QUERY = re.compile(r'^SELECT (?!COUNT\(\*\))(?!(?:DISTINCT )?\(?1\)? AS "a")', re.IGNORECASE)


def is_select(sql):
    return sql.lstrip()[:6].upper() == "SELECT"


def page_statements(queries, table):
    """(main query, SELECTs) of one request's statements, each as (settings, sql): the SET LOCALs
    the request issued before it (control.worklists turns JIT off so), to replay with it. The main
    query is the first that reads rows of `table` (the list's page of rows, the detail page's
    object)."""
    pattern = re.compile(rf'\bFROM "{table}"')
    settings, main, selects = [], None, []
    for query in queries:
        sql = query["sql"]
        if sql[:10].upper() == "SET LOCAL ":
            settings.append(sql)
        elif is_select(sql):
            selects.append((tuple(settings), sql))
            if main is None and _ROW_QUERY.match(sql) and pattern.search(sql):
                main = selects[-1]
    if main is None:
        raise SystemExit(f"bench: no query reading {table} among {len(queries)} statements")
    return main, selects


def raw_ms(cursor, statements):
    """Milliseconds to run (settings, sql) statements through the database cursor and fetch their
    rows; a statement with SET LOCALs runs with them in a transaction of its own."""
    start = time.perf_counter()
    for settings, sql in statements:
        if settings:
            cursor.execute("BEGIN")
            for setting in settings:
                cursor.execute(setting)
        cursor.execute(sql)
        cursor.fetchall()
        if settings:
            cursor.execute("COMMIT")
    return (time.perf_counter() - start) * 1000


def time_page(figure, client, urls, warmup, table):
    """Time GET of each of urls[warmup:], each followed by its main query (captured once, in an
    earlier untimed pass over the same URLs) and then by all its SELECTs, run raw through the
    database cursor: the page, its main query and its SQL timed the same number of times,
    interleaved so that whatever else loads the machine weighs on all three alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:warmup]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    captured = []
    for url in urls[warmup:]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        captured.append(page_statements(ctx.captured_queries, table))
    pages, cpus, mains, sqls, counts = [], [], [], [], []
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor: nothing of Django in the baseline
        for url, (main, selects) in zip(urls[warmup:], captured, strict=True):
            start, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            pages.append((time.perf_counter() - start) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            mains.append(raw_ms(cursor, [main]))
            sqls.append(raw_ms(cursor, selects))
            counts.append(len(selects))
    settings, sql = captured[0][0]
    log(f"bench: {figure}: its main query (the baseline), e.g. {' '.join(settings)} {sql[:240]}")
    return pages, {"main": mains, "sql": sqls, "cpu": cpus, "queries": counts}


def sample_ids(queryset, rng, count):
    """`count` random primary keys of queryset (repeating when it holds fewer)."""
    total = queryset.count()
    if total == 0:
        return []
    if total <= 50_000:
        ids = list(queryset.order_by().values_list("pk", flat=True))
    else:  # probe random keys over the whole table: no need to read a million ids
        top = queryset.model.objects.order_by("-pk").values_list("pk", flat=True)[0]
        ids = set()
        while len(ids) < count:
            probe = rng.sample(range(1, top + 1), min(top, 4 * count))
            ids.update(queryset.filter(pk__in=probe).order_by().values_list("pk", flat=True))
        ids = sorted(ids)
    return [rng.choice(ids) for _i in range(count)] if total < count else rng.sample(ids, count)


def list_pages(count, total, per_page=50):
    """?page=1, 2, 3, 1, ... but never past the last page of `total` rows."""
    last = max(1, min(3, -(-total // per_page)))
    return [f"?page={1 + (i % last)}" for i in range(count)]


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from epigrid.areas.models import Household
    from epigrid.audit.models import Action, ObjectChange
    from epigrid.control.models import KeyPerson
    from epigrid.people.models import Person

    rng = random.Random(args.seed)
    User = get_user_model()
    list_url = reverse("people:person_list")
    n = args.warmup + args.requests
    actors = {
        "grid_worker": User.objects.get(username="demo_grid"),
        "commander": User.objects.get(username="demo_commander"),
    }
    # (figure, user, urls, main table, search terms, rows in scope)
    scenarios = []
    for actor, user in actors.items():
        visible = Person.objects.restrict(user, "view")
        total = visible.count()
        # Real rows to search for: a random sample of what this user can see.
        if actor == "commander":
            ids = sorted(
                rng.sample(range(1, Person.objects.order_by("-id").values_list("id", flat=True)[0]), 400)
            )
            rows = list(visible.filter(id__in=ids).values_list("name", "doc_number", "phone"))
        else:
            rows = list(visible.values_list("name", "doc_number", "phone"))
        terms = search_terms(rows, rng, n)
        page_urls = [f"{list_url}?page={1 + (i % 3)}" for i in range(n)]
        search_urls = [f"{list_url}?q={quote(term)}" for _kind, term in terms]
        scenarios.append((f"person_list_{actor}", user, page_urls, "people_person", None, total))
        scenarios.append((f"person_search_{actor}", user, search_urls, "people_person", terms, total))
    for actor, user in actors.items():  # a random person's and household's page
        visible = Person.objects.restrict(user, "view")
        urls = [reverse("people:person_detail", args=[pk]) for pk in sample_ids(visible, rng, n)]
        scenarios.append((f"person_detail_{actor}", user, urls, "people_person", None, visible.count()))
        visible = Household.objects.restrict(user, "view")
        urls = [reverse("areas:household_detail", args=[pk]) for pk in sample_ids(visible, rng, n)]
        scenarios.append((f"household_detail_{actor}", user, urls, "areas_household", None, visible.count()))
    for actor, user in actors.items():  # the key-person ledger's first pages
        total = KeyPerson.objects.restrict(user, "view").count()
        urls = [reverse("control:keyperson_list") + page for page in list_pages(n, total)]
        scenarios.append((f"keyperson_list_{actor}", user, urls, "control_keyperson", None, total))
    # The audit log: the commander's (a grid worker has none); last, so it holds the lookups the
    # searches above logged, as it would.
    user = actors["commander"]
    total = ObjectChange.objects.restrict(user, "view").count()
    urls = [reverse("audit:objectchange_list") + page for page in list_pages(n, total)]
    scenarios.append(("audit_log_commander", user, urls, "audit_objectchange", None, total))

    last_change = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    clients = {}
    slow = []
    try:
        for figure, user, urls, table, terms, total in scenarios:
            if user.pk not in clients:
                clients[user.pk] = Client()
                clients[user.pk].force_login(user)
            client = clients[user.pk]
            samples, parts = time_page(figure, client, urls, args.warmup, table)
            if emit_page(figure, samples, parts, total, results):
                slowest = urls[args.warmup + max(range(len(samples)), key=samples.__getitem__)]
                slow.append((figure, client, slowest))
            if terms:
                by_kind = {}
                for (kind, _term), ms in zip(terms[args.warmup :], samples, strict=True):
                    by_kind.setdefault(kind, []).append(ms)
                log(
                    f"bench: {figure} by kind (median / max ms): "
                    + ", ".join(f"{k} {statistics.median(v):.0f}/{max(v):.0f}" for k, v in by_kind.items())
                )
        for figure, client, url in slow:
            log(f"bench: {figure} missed its aim (p95 < {AIM_MS} ms)")
            explain_slowest(client, url)
    finally:
        # The exact searches' lookup rows (people.services.charge_lookups): the database stays as built.
        ObjectChange.objects.filter(
            pk__gt=last_change,
            user__in=actors.values(),
            action__in=[Action.LOOKUP, Action.LOOKUP_LIMIT],
        ).delete()
        connection.close()


def emit_page(figure, samples, parts, total, results, **sizes):
    """Emit a page figure with its baseline (parts from time_page); True when its p95 misses the
    aim (half the goal)."""
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    base50, base95 = percentile(parts["main"], 50), percentile(parts["main"], 95)
    sql50, cpu50 = percentile(parts["sql"], 50), percentile(parts["cpu"], 50)
    queries = round(statistics.median(parts["queries"]))
    extra = {"requests": len(samples), "rows_in_scope": total, **sizes}
    log(
        f"bench: {figure}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; main query p50 {base50:.2f} ms; "
        f"its {queries} SELECTs run raw p50 {sql50:.1f} ms; Python CPU p50 {cpu50:.1f} ms "
        "(middleware, view, template; the rest of the wall time is waiting: database, other processes)"
    )
    emit(f"{figure}.p50", p50, "ms", None, results, **extra)
    emit(
        f"{figure}.p95",
        p95,
        "ms",
        f"p95 < {GOAL_MS} ms",
        results,
        met=p95 < GOAL_MS,
        aim=f"p95 < {AIM_MS} ms",
        aim_met=p95 < AIM_MS,
        **extra,
        queries=queries,
        sql_p50_ms=round(sql50, 2),
        cpu_p50_ms=round(cpu50, 2),
        baseline_p95_ms=round(base95, 2),
        ratio_to_query=round(p95 / base95, 1),
    )
    emit(f"{figure}.baseline_query", base95, "ms", None, results, p50=round(base50, 2), requests=len(samples))
    emit(f"{figure}.ratio_to_query", p95 / base95, "x", None, results, p50=round(p50 / base50, 1))
    return p95 >= AIM_MS


# -- the audit log at scale --------------------------------------------------------------------

# The request id of the set-up rows, so they can always be removed (uuid5 of "epigrid-bench-audit").
AUDIT_MARKER = "6c0d7f4e-2b9a-5c1e-9d3f-8a4b2e6f1c07"
AUDIT_KINDS = ("action", "user", "object", "object_id", "day")


def remove_audit_rows():
    from django.db import connection, transaction

    start = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_objectchange WHERE request_id = %s", [AUDIT_MARKER])
        removed = cursor.rowcount
    if removed:
        log(f"bench: removed {removed:,} audit-log set-up rows in {time.monotonic() - start:.1f} s")
        analyze(["audit_objectchange"])
    return removed


def build_audit_rows():
    """A `create` row for every resident, as the resident import writes them (log_bulk_create:
    the community officer, source job, the row's fields as data), over the last year, in one
    INSERT ... SELECT. Returns the number of rows."""
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils import timezone

    from epigrid.people.models import Person

    user = get_user_model().objects.get(username="demo_community")
    start = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_objectchange (time, user_id, user_name, request_id, source, action,
                content_type_id, object_id, object_repr, area_path, prechange_data, postchange_data,
                reason)
            SELECT %(now)s - (p.id %% 525600) * interval '1 minute', %(user)s, %(name)s, %(marker)s,
                'job', 'create', %(type)s, p.id, left(p.name, 200), a.path, NULL,
                to_jsonb(p) - 'created' - 'last_updated', ''
            FROM people_person p JOIN areas_area a ON a.id = p.area_id
            """,
            {
                "now": timezone.now(),
                "user": user.pk,
                "name": user.username,
                "marker": AUDIT_MARKER,
                "type": ContentType.objects.get_for_model(Person).pk,
            },
        )
        rows = cursor.rowcount
    analyze(["audit_objectchange"])  # what autovacuum would do after such a load
    log(f"bench: audit set-up: {rows:,} create rows in {time.monotonic() - start:.1f} s")
    return rows


def audit_searches(rng, count, person_ids, person_type):
    """(kind, query string) cycling through what an auditor looks for: an action (reveals,
    exports, lookups), a user's acts, one record's history (with and without its type), a day."""
    from django.utils import timezone

    today = timezone.localdate()
    users = ["demo_grid", "demo_community", "demo_commander", "demo_street"]
    searches = []
    for i in range(count):
        kind = AUDIT_KINDS[i % len(AUDIT_KINDS)]
        pk = rng.choice(person_ids)
        day = (today - datetime.timedelta(days=rng.randrange(365))).isoformat()
        query = {
            "action": f"action={rng.choice(['reveal', 'export', 'lookup'])}",
            "user": f"user={rng.choice(users)}",
            "object": f"content_type={person_type}&object_id={pk}",
            "object_id": f"object_id={pk}",
            "day": f"since={day}&until={day}",
        }[kind]
        searches.append((kind, query))
    return searches


def measure_audit(args, results):
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from epigrid.audit.models import ObjectChange
    from epigrid.people.models import Person

    rng = random.Random(f"bench-audit:{args.seed}")
    user = get_user_model().objects.get(username="demo_commander")
    url = reverse("audit:objectchange_list")
    n = args.warmup + args.requests
    remove_audit_rows()  # leftovers of an interrupted run
    try:
        added = build_audit_rows()
        label = f"{added // 1_000_000}m" if added % 1_000_000 == 0 else f"{added // 1000}k"
        total = ObjectChange.objects.restrict(user, "view").count()
        person_ids = sample_ids(Person.objects.all(), rng, 400)
        searches = audit_searches(rng, n, person_ids, ContentType.objects.get_for_model(Person).pk)
        client = Client()
        client.force_login(user)
        slow = []
        for figure, urls, kinds in (
            (f"audit_log_{label}_commander", [url + page for page in list_pages(n, total)], None),
            (f"audit_search_{label}_commander", [f"{url}?{query}" for _k, query in searches], searches),
        ):
            samples, parts = time_page(figure, client, urls, args.warmup, "audit_objectchange")
            if emit_page(figure, samples, parts, total, results):
                slowest = urls[args.warmup + max(range(len(samples)), key=samples.__getitem__)]
                slow.append((figure, slowest))
            if kinds:
                by_kind = {}
                for (kind, _query), ms in zip(kinds[args.warmup :], samples, strict=True):
                    by_kind.setdefault(kind, []).append(ms)
                log(
                    f"bench: {figure} by kind (median / max ms): "
                    + ", ".join(f"{k} {statistics.median(v):.0f}/{max(v):.0f}" for k, v in by_kind.items())
                )
        for figure, slow_url in slow:
            log(f"bench: {figure} missed its aim (p95 < {AIM_MS} ms)")
            explain_slowest(client, slow_url)
    finally:
        remove_audit_rows()
        connection.close()


# -- work lists --------------------------------------------------------------------------------

WORKLIST_ENTRIES = 50_000
WORKLIST_NOTE = "bench:worklists"  # marks the set-up entries, so they can always be removed
WORKLIST_CATEGORIES = (  # (category, weight): mostly contacts and arrivals
    ("close_contact", 35),
    ("secondary_contact", 20),
    ("high_risk_arrival", 10),
    ("medium_risk_arrival", 12),
    ("low_risk_arrival", 10),
    ("spacetime_companion", 5),
    ("fever", 4),
    ("risk_occupation", 4),
)
WORKLIST_TABLES = ("control_keyperson", "control_controlmeasure", "control_checkin", "control_testrecord")


def remove_worklist_rows():
    """Delete the set-up entries (and their steps, check-ins, tests) by their marker."""
    from django.db import connection, transaction

    start = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        entries = "SELECT id FROM control_keyperson WHERE notes = %s"
        steps = f"SELECT id FROM control_controlmeasure WHERE key_person_id IN ({entries})"
        cursor.execute(f"DELETE FROM control_checkin WHERE measure_id IN ({steps})", [WORKLIST_NOTE])
        cursor.execute(f"DELETE FROM control_testrecord WHERE measure_id IN ({steps})", [WORKLIST_NOTE])
        cursor.execute(
            f"DELETE FROM control_controlmeasure WHERE key_person_id IN ({entries})", [WORKLIST_NOTE]
        )
        cursor.execute("DELETE FROM control_keyperson WHERE notes = %s", [WORKLIST_NOTE])
        removed = cursor.rowcount
    if removed:
        log(f"bench: removed {removed:,} work-list set-up entries in {time.monotonic() - start:.1f} s")
    return removed


def analyze(tables, verb="VACUUM ANALYZE"):
    from django.db import connection

    connection.ensure_connection()
    old_autocommit = connection.get_autocommit()
    connection.set_autocommit(True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"{verb} {', '.join(connection.ops.quote_name(t) for t in tables)}")
    finally:
        connection.set_autocommit(old_autocommit)


def build_worklist_rows(args, now):
    """50,000 open key persons (about 40 a grid) with the plans register_key_person would make,
    in bulk; later steps' past ends mostly completed, most past tests recorded, check-ins for part
    of today's (and yesterday's) checks. Returns a summary dict."""
    from django.db import connection, transaction
    from django.utils import timezone

    from epigrid.areas.models import Area, Level
    from epigrid.control import plans
    from epigrid.control.models import CheckIn, ControlMeasure, KeyPerson, TestRecord
    from epigrid.control.services import active_protocol, measure_for_step
    from epigrid.control.worklists import checks_due, day_range

    rng = random.Random(f"bench-worklists:{args.seed}")
    today = timezone.localdate(now)
    protocol = active_protocol()
    rules = protocol.rules
    grids = list(Area.objects.filter(level=Level.GRID).order_by("path").values_list("pk", flat=True))
    per_grid = -(-WORKLIST_ENTRIES // len(grids))
    with connection.cursor() as cursor:  # the first residents of each grid without an open entry
        cursor.execute(
            """
            SELECT id, area_id FROM (
                SELECT p.id, p.area_id, row_number() OVER (PARTITION BY p.area_id ORDER BY p.id) AS rn
                FROM people_person p JOIN areas_area a ON a.id = p.area_id
                WHERE a.level = %s AND NOT EXISTS (
                    SELECT 1 FROM control_keyperson k WHERE k.person_id = p.id AND k.status = 'open')
            ) ranked WHERE rn <= %s ORDER BY area_id, id
            """,
            [Level.GRID, per_grid],
        )
        people = cursor.fetchall()[:WORKLIST_ENTRIES]
    categories = [c for c, _w in WORKLIST_CATEGORIES]
    weights = [w for _c, w in WORKLIST_CATEGORIES]
    start = time.monotonic()
    counts = {"entries": 0, "steps": 0, "checkins": 0, "tests": 0}
    with transaction.atomic():
        entries = []
        for person_id, area_id in people:
            category = rng.choices(categories, weights)[0]
            anchor = today - datetime.timedelta(days=rng.randint(0, 10))
            field = {"last_exposure": "last_exposure", "arrival": "arrival"}.get(
                plans.anchor_of(rules, category)
            )
            dates = {field: anchor} if field else {}
            entries.append(
                KeyPerson(
                    person_id=person_id,
                    area_id=area_id,
                    category=category,
                    protocol=protocol,
                    identified_on=anchor
                    if field is None
                    else min(today, anchor + datetime.timedelta(days=1)),
                    notes=WORKLIST_NOTE,
                    **dates,
                )
            )
        KeyPerson.objects.bulk_create(entries, batch_size=5000)
        steps = []
        for entry in entries:
            for sequence, step in enumerate(plans.plan(rules, entry.category, entry.anchor_date), start=1):
                measure = measure_for_step(entry, protocol, sequence, step, today)
                # A step whose end has passed was mostly completed on time; the rest is overdue.
                if step.end is not None and step.end < today and rng.random() < 0.9:
                    measure.status, measure.ended_on = ControlMeasure.Status.COMPLETED, step.end
                steps.append(measure)
        ControlMeasure.objects.bulk_create(steps, batch_size=5000)
        yesterday = today - datetime.timedelta(days=1)
        tests, checkins = [], []
        for step in steps:
            for iso in step.test_dates:  # past tests mostly recorded, today's for a third
                day = datetime.date.fromisoformat(iso)
                if (day < today and rng.random() < 0.9) or (day == today and rng.random() < 0.35):
                    result = TestRecord.Result.NEGATIVE if day < today else TestRecord.Result.PENDING
                    tests.append(TestRecord(measure_id=step.pk, day=day, result=result))
            if step.status not in ("planned", "active") or not step.temps_per_day:
                continue
            for day in (yesterday, today):
                if step.start > day or (step.planned_end and step.planned_end < day):
                    continue
                day_start, _end = day_range(day)
                if day == today:
                    share, due = 0.6, checks_due(step.temps_per_day, now)
                else:
                    share, due = 0.95, step.temps_per_day
                if rng.random() >= share:
                    continue
                for n in range(due if rng.random() < 0.7 else max(1, due - 1)):
                    taken = day_start + datetime.timedelta(hours=8 + 5 * n, minutes=rng.randrange(60))
                    if taken > now:
                        taken = now - datetime.timedelta(minutes=rng.randrange(1, 30))
                        if taken < day_start:
                            break
                    temperature = "37.5" if rng.random() < 0.01 else f"36.{rng.randrange(2, 9)}"
                    checkins.append(CheckIn(measure_id=step.pk, taken_at=taken, temperature=temperature))
        TestRecord.objects.bulk_create(tests, batch_size=5000)
        CheckIn.objects.bulk_create(checkins, batch_size=5000)
        counts.update(entries=len(entries), steps=len(steps), checkins=len(checkins), tests=len(tests))
    analyze(WORKLIST_TABLES)  # what autovacuum would do after such a load
    log(
        f"bench: worklists set-up: {counts['entries']:,} entries over {len(grids):,} grids "
        f"({per_grid} a grid), {counts['steps']:,} steps, {counts['tests']:,} tests, "
        f"{counts['checkins']:,} check-ins in {time.monotonic() - start:.1f} s"
    )
    return counts


def measure_worklists(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from epigrid.control import worklists
    from epigrid.control.models import KeyPerson

    User = get_user_model()
    url = reverse("control:today")
    ledger = reverse("control:keyperson_list")
    n = args.warmup + args.requests
    now = timezone.now()
    remove_worklist_rows()  # leftovers of an interrupted run
    try:
        build_worklist_rows(args, now)
        actors = {
            "grid_worker": User.objects.get(username="demo_grid"),
            "community": User.objects.get(username="demo_community"),
            "commander": User.objects.get(username="demo_commander"),
        }
        slow = []
        for actor, user in actors.items():
            shown = worklists.rollup(user)
            sizes = {name: sum(c[name] for _a, c in shown) for name in worklists.LISTS}
            log(f"bench: worklist_{actor}: {len(shown)} areas with work, key persons per list {sizes}")
            client = Client()
            client.force_login(user)
            figures = [(f"worklist_{actor}", [url] * n, "control_controlmeasure", sizes)]
            if actor != "community":  # the ledger too, with these entries in it
                total = KeyPerson.objects.restrict(user, "view").count()
                pages = [ledger + page for page in list_pages(n, total)]
                figures.append((f"keyperson_list_50k_{actor}", pages, "control_keyperson", {}))
            for figure, urls, table, sizes in figures:
                samples, parts = time_page(figure, client, urls, args.warmup, table)
                total = KeyPerson.objects.restrict(user, "view").count()
                if emit_page(figure, samples, parts, total, results, **sizes):
                    slow.append((figure, client, urls[-1]))
        for figure, client, slow_url in slow:
            log(f"bench: {figure} missed its aim (p95 < {AIM_MS} ms)")
            explain_slowest(client, slow_url)
    finally:
        remove_worklist_rows()
        analyze(WORKLIST_TABLES)  # the database stays as built: no dead rows, fresh statistics
        connection.close()


# -- import ------------------------------------------------------------------------------------

IMPORT_REGION = "620198"  # a region code the demo never issues: the rows are new residents
BAD_KINDS = ("check_digit", "no_name", "float_id")


def import_rows(count, grids, seed):
    """(xlsx rows, valid person tuples for the COPY baseline, number of bad rows) of a resident
    ledger in the import's own columns; every 100th row is bad, in turns of BAD_KINDS."""
    from epigrid.core.identity import make_resident_id, resident_id_facts
    from epigrid.demo import data

    rng = random.Random(f"bench-import:{seed}")
    first_birth = datetime.date(1940, 1, 1)
    rows, valid, bad = [], [], 0
    for i in range(count):
        birth = first_birth + datetime.timedelta(days=(i // 1000) * 263)
        number = make_resident_id(IMPORT_REGION, birth, i % 1000)
        sex = resident_id_facts(number)[0]
        given = rng.choice(data.GIVEN_MALE if sex == "M" else data.GIVEN_FEMALE)
        name = rng.choice(data.SURNAMES) + given
        phone = f"{rng.choice(data.PHONE_PREFIXES)}{rng.randrange(10**8):08d}" if i % 5 else ""
        h = i // 3  # about three residents a household
        grid = grids[h % len(grids)]
        k = h // len(grids)  # the household's place inside its grid
        building, r = f"{k // 40 + 1}号楼", k % 40
        unit, room = str(r // 20 + 1), f"{(r % 20) // 2 + 1}{r % 2 + 1:02d}"
        residence = "流动" if i % 7 == 0 else "户籍"
        tags = "独居老人" if i % 41 == 0 else "残疾人" if i % 97 == 0 else ""
        doc = number
        if i % 100 == 37:
            kind = BAD_KINDS[(i // 100) % len(BAD_KINDS)]
            if kind == "float_id" and number[-1] == "X":
                kind = "check_digit"
            if kind == "check_digit":
                doc = number[:17] + ("0" if number[17] != "0" else "1")
            elif kind == "no_name":
                name = ""
            else:
                doc = float(number)  # what Excel makes of an ID typed as a number
            bad += 1
        rows.append(
            [
                name,
                "居民身份证",
                doc,
                phone,
                grid.code,
                "",
                building,
                unit,
                room,
                residence,
                "男" if sex == "M" else "女",
                tags,
                "",
            ]
        )
        if doc == number and name:
            valid.append((name, number, "+86" + phone if phone else "", sex, birth, residence, grid.pk))
    return rows, valid, bad


IMPORT_TABLES = (
    "people_person",
    "people_person_tags",
    "areas_household",
    "areas_building",
    "audit_objectchange",
)


def vacuum(tables):
    """Clear the dead rows a rolled-back write leaves in tables and indexes."""
    from django.db import connection

    start = time.monotonic()
    connection.ensure_connection()
    old_autocommit = connection.get_autocommit()
    connection.set_autocommit(True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {', '.join(connection.ops.quote_name(t) for t in tables)}")
    finally:
        connection.set_autocommit(old_autocommit)
    log(f"bench: VACUUM {', '.join(tables)} took {time.monotonic() - start:.1f} s")


def copy_persons_in(valid):
    """Seconds to COPY the valid rows into people_person and check its constraints, rolled back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from epigrid.people.models import Person, name_key

    residence = {"户籍": "registered", "流动": "migrant"}
    now = timezone.now()
    table = [
        (
            now,
            now,
            "111",
            number,
            number[::-1],
            name,
            name_key(name),
            sex,
            birth,
            phone,
            residence[kind],
            area_id,
            "",
        )
        for name, number, phone, sex, birth, kind, area_id in valid
    ]
    columns = (
        "created, last_updated, doc_type, doc_number, doc_number_rev, name, name_key, sex, birth_date, phone, "
        "residence_type, area_id, notes"
    )
    with transaction.atomic():
        start = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {Person._meta.db_table} ({columns}) FROM STDIN") as copy:
                for row in table:
                    copy.write_row(row)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds


def measure_import(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from epigrid.accounts.models import Grant
    from epigrid.areas.models import Level
    from epigrid.core.context import change_context
    from epigrid.core.imports import run_import
    from epigrid.core.tabular import write_xlsx
    from epigrid.people.imports import COLUMNS, ResidentResource

    user = get_user_model().objects.get(username="demo_community")
    community = Grant.objects.select_related("area").get(user=user, role="community_officer").area
    grids = list(community.children.filter(level=Level.GRID).order_by("code"))
    count = args.import_rows
    label = f"{count // 1000}k" if count % 1000 == 0 else str(count)
    figure = f"import_residents_{label}"

    start = time.perf_counter()
    rows, valid, bad = import_rows(count, grids, args.seed)
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="bench-import-")
    os.close(fd)
    try:
        write_xlsx(path, [c.header for c in COLUMNS], rows, sheet_name="居民台账")
        log(
            f"bench: {figure}: wrote {count:,} rows ({bad:,} bad) for {community.code} "
            f"({len(grids)} grids) to xlsx in {time.perf_counter() - start:.1f} s"
        )
        del rows
        copy_seconds = copy_persons_in(valid)
        vacuum(IMPORT_TABLES)  # the rolled-back rows must not weigh on the import
        gc.collect()
        with transaction.atomic():  # rolled back at the end: the database stays as built
            with change_context(user=user, source="job"):
                start = time.perf_counter()
                resource = ResidentResource(user, community)
                with open(path, "rb") as fileobj:
                    result = run_import(resource, fileobj, "bench.xlsx", dry_run=False)
                with connection.cursor() as cursor:  # what COMMIT would check
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                seconds = time.perf_counter() - start
            transaction.set_rollback(True)
    finally:
        os.unlink(path)
        vacuum(IMPORT_TABLES)  # nor on whatever runs on this database next (autovacuum may be off)
    counts = {"created": result.created, "updated": result.updated, "rejected": result.rejected}
    log(f"bench: {figure}: {counts}")
    if result.rejected != bad or result.created + result.updated + result.unchanged != count - bad:
        log(f"bench: {figure}: expected {bad} rejected rows and {count - bad} written")
    emit(
        figure,
        seconds,
        "s",
        f"< {GOAL_IMPORT_S} s",
        results,
        met=seconds < GOAL_IMPORT_S and result.rejected == bad,
        rows=count,
        **counts,
        copy_s=round(copy_seconds, 2),
        ratio_to_copy=round(seconds / copy_seconds, 1),
    )
    emit(f"{figure}.copy_baseline", copy_seconds, "s", None, results, rows=len(valid))
    emit(f"{figure}.ratio_to_copy", seconds / copy_seconds, "x", None, results)


# -- export ------------------------------------------------------------------------------------


def export_child():
    """Run only the export job (a child process, so its peak memory is the export's) and print
    {seconds, rows, bytes, peak_mb} as JSON."""
    import warnings

    import django

    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", "No directory at")
    django.setup()
    from django.contrib.auth import get_user_model

    from epigrid.jobs.exports import start_export
    from epigrid.jobs.models import Job, Status

    user = get_user_model().objects.get(username="demo_commander")
    start = time.perf_counter()
    job = start_export(user, "persons", "")  # EPIGRID_TASKS=immediate: the job runs right here
    seconds = time.perf_counter() - start
    job = Job.objects.get(pk=job.pk)
    if job.status != Status.SUCCEEDED:
        raise SystemExit(f"bench: the export job ended {job.status}: {job.message}")
    rows = job.result["summary"][0][1]  # [[Rows, written], ...]
    size = job.output_file.size
    job.output_file.delete(save=False)
    job.delete()
    peak_kb = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
    print(json.dumps({"seconds": seconds, "rows": rows, "bytes": size, "peak_mb": peak_kb * 1024 / 1e6}))
    return None


def copy_persons_out(user):
    """Seconds to COPY the export's own query (the person rows it reads) TO STDOUT into a file."""
    from django.db import connection

    from epigrid.jobs.exports import EXPORTS
    from epigrid.people.exports import FIELDS

    export = EXPORTS["persons"](user)
    sql, params = export.queryset("").order_by("pk").values_list(*FIELDS).query.sql_with_params()
    with connection.cursor() as cursor:
        query = connection.ops.compose_sql(sql, params)
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            with cursor.cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                for data in copy:
                    out.write(data)
            seconds = time.perf_counter() - start
            size = out.tell()
    return seconds, size


def measure_export(args, results):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="demo_commander")
    copy_seconds, copy_bytes = copy_persons_out(user)
    log(f"bench: COPY of the export's rows: {copy_seconds:.1f} s, {copy_bytes / 1e6:.0f} MB")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as data_dir:
        env = {**os.environ, "EPIGRID_TASKS": "immediate", "EPIGRID_DATA_DIR": data_dir}
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--export-child"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        log(done.stderr)
        raise SystemExit("bench: the export child failed")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    rows = child["rows"]
    label = f"{rows // 1_000_000}m" if rows % 1_000_000 == 0 else f"{rows // 1000}k"
    figure = f"export_persons_{label}"
    log(f"bench: {figure}: {child['bytes'] / 1e6:.0f} MB xlsx")
    seconds = child["seconds"]
    emit(
        figure,
        seconds,
        "s",
        f"< {GOAL_EXPORT_S} s",
        results,
        met=seconds < GOAL_EXPORT_S,
        rows=rows,
        copy_s=round(copy_seconds, 2),
        ratio_to_copy=round(seconds / copy_seconds, 1),
    )
    emit(
        f"{figure}.peak_memory",
        child["peak_mb"],
        "MB",
        f"< {GOAL_EXPORT_MB} MB",
        results,
        met=child["peak_mb"] < GOAL_EXPORT_MB,
    )
    emit(f"{figure}.copy_baseline", copy_seconds, "s", None, results, rows=rows)
    emit(f"{figure}.ratio_to_copy", seconds / copy_seconds, "x", None, results)


# -- main --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="reuse an identical earlier build (and keep it)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--requests", type=int, default=60, help="measured requests per figure")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per figure first")
    parser.add_argument(
        "--only", default=",".join(FIGURES), help=f"comma-separated figures to measure ({', '.join(FIGURES)})"
    )
    parser.add_argument("--results-pooled", type=int, default=100_000, help="pooled tubes of results_import")
    parser.add_argument("--results-single", type=int, default=1_000_000, help="single tubes of results_import")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the import figure")
    parser.add_argument(
        "--testing-scans",
        type=int,
        default=60_000,
        help="scans the testing figure sends through the batch API",
    )
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        return export_child()
    only = {f.strip() for f in args.only.split(",") if f.strip()}
    if only - set(FIGURES):
        parser.error(f"--only takes {', '.join(FIGURES)}")

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epigrid.settings")
    os.environ.setdefault("DB_CONN_MAX_AGE", "600")
    # The grid worker's exact searches are counted and logged as usual (people.services.
    # charge_lookups), but a run, or a second run within the hour, must not be refused.
    os.environ.setdefault("EPIGRID_LOOKUP_LIMIT_HOUR", "100000")
    os.environ.setdefault("EPIGRID_LOOKUP_LIMIT_DAY", "100000")
    sys.path.insert(0, str(ROOT))
    server = Server(url)
    print_name = (
        f"{args.residents // 1000}k" if args.residents % 1_000_000 else f"{args.residents // 1_000_000}m"
    )
    build_figure = f"demo_build_{print_name}"
    wanted = fingerprint(args.residents, args.seed)
    results = []

    reuse = False
    if args.reuse:
        found, seconds = parse_marker(server.comment())
        reuse = found == wanted
        log(f"bench: {'reusing the identical build in' if reuse else 'no identical build in'} {server.name}")
    if not reuse:
        server.drop()
        server.create()

    import warnings

    import django

    warnings.filterwarnings("ignore", "No directory at")  # whitenoise: collectstatic not run
    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    try:
        if reuse:
            emit(
                build_figure,
                seconds,
                "s",
                f"< {GOAL_BUILD_S} s",
                results,
                met=seconds < GOAL_BUILD_S,
                reused=True,
            )
        else:
            call_command("migrate", verbosity=0, interactive=False)
            start = time.monotonic()
            with open(os.devnull, "w") as devnull:
                call_command("demo", residents=args.residents, seed=args.seed, json=True, stdout=devnull)
            seconds = time.monotonic() - start
            emit(build_figure, seconds, "s", f"< {GOAL_BUILD_S} s", results, met=seconds < GOAL_BUILD_S)
            # What autovacuum would do shortly after a bulk load: statistics and visibility map.
            start = time.monotonic()
            connection.ensure_connection()
            old_autocommit = connection.get_autocommit()
            connection.set_autocommit(True)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            connection.set_autocommit(old_autocommit)
            log(f"bench: VACUUM ANALYZE took {time.monotonic() - start:.1f} s")
            server.set_comment(f"{MARKER} {wanted} {seconds:.1f}")
        gc.collect()  # the build's garbage must not be collected during the timed requests
        if "pages" in only:
            measure(args, results)
        if "audit" in only:
            measure_audit(args, results)
        if "worklists" in only:
            measure_worklists(args, results)
        if "testing" in only:  # mass testing: scan ingest over HTTP, coverage, missed list
            from bench import testing

            testing.measure(args, results, url)
        if "transport" in only:  # the transport board with a day's 25,000 boxes
            from bench import transport

            transport.measure(args, results)
        if "isolation" in only:  # site occupancy city-wide: 200 sites, 20,000 rooms
            from bench import isolation

            isolation.measure(args, results)
        if "tracing" in only:  # the chain graph of 500 cases and 20,000 contacts
            from bench import tracing

            tracing.measure(args, results)
        if "reports" in only:  # the daily-report roll-up of a city of 5,000 units
            from bench import reports

            reports.measure(args, results)
        if "checkpoints" in only:  # gate scans sustained while pass quotas are checked
            from bench import checkpoints

            checkpoints.measure(args, results, url)
        if "dashboard" in only:  # the district commander's dashboard with 50,000 key persons
            from bench import dashboard

            dashboard.measure(args, results)
        if "homeservices" in only:  # the open requests board with 50,000 open requests
            from bench import homeservices

            homeservices.measure(args, results)
        if "disinfection" in only:  # a round's live coverage over 20,000 sites
            from bench import disinfection

            disinfection.measure(args, results)
        if "results" in only:  # a pooled-positive tube's persons
            from bench import results as lab_results

            lab_results.measure(args, results)
        if "results_import" in only:  # 1,100,000 lab results through the import pipeline (rolled back)
            from bench import results as lab_results

            lab_results.measure_import(args, results)
        if "export" in only:
            measure_export(args, results)
        if "import" in only:  # last: its rolled-back rows leave dead tuples behind
            measure_import(args, results)
    finally:
        connections.close_all()
        if not (args.keep or args.reuse):
            server.drop()
        server.conn.close()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"{stamp}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results))
    missed = [r["figure"] for r in results if r.get("met") is False]
    if missed:
        log(f"bench: goals missed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
