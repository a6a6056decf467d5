"""`make bench`: build the 1,000,000-resident demo on PostgreSQL and time the person pages.

Creates its own database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/epigrid_bench)
through the server's maintenance database, migrates it, builds the demo (figure demo_build_1m),
then requests the person list and the person search through Django's test Client in-process
(middleware, session auth via force_login, template rendering) as a grid worker and as the
district commander, and reports p50/p95. One JSON object per line on stdout; diagnostics (and
EXPLAIN ANALYZE of the slowest query of any figure that misses its goal) on stderr.

The database is dropped at the end unless --keep or --reuse is given. It only ever drops a
database it created itself (marked with a COMMENT); any other database is left alone.

    .venv/bin/python bench/run.py [--residents N] [--seed S] [--reuse] [--keep] [--requests 60]
"""

import argparse
import datetime
import gc
import hashlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/epigrid_bench"
MARKER = "epigrid-bench"
GOAL_MS = 300
GOAL_BUILD_S = 300


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


def time_requests(client, urls, warmup):
    for url in urls[:warmup]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    samples = []
    for url in urls[warmup:]:
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


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
    """EXPLAIN ANALYZE of the slowest SQL statement of one request, to stderr."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    queries = sorted(ctx.captured_queries, key=lambda q: float(q["time"]), reverse=True)
    log(f"bench: {len(queries)} queries for {url}; slowest:")
    for query in queries[:3]:
        log(f"  {float(query['time']) * 1000:.1f} ms  {query['sql'][:300]}")
    if not queries:
        return
    sql = queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    log(f"bench: EXPLAIN ANALYZE of the slowest query:\n{sql}\n{plan}\n")


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from epigrid.people.models import Person

    rng = random.Random(args.seed)
    User = get_user_model()
    list_url = reverse("people:person_list")
    n = args.warmup + args.requests
    actors = {
        "grid_worker": User.objects.get(username="demo_grid"),
        "commander": User.objects.get(username="demo_commander"),
    }
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
        scenarios.append((f"person_list_{actor}", user, page_urls, None, total))
        scenarios.append((f"person_search_{actor}", user, search_urls, terms, total))

    slow = []
    for figure, user, urls, terms, total in scenarios:
        client = Client()
        client.force_login(user)
        samples = time_requests(client, urls, args.warmup)
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        extra = {"requests": len(samples), "rows_in_scope": total}
        emit(f"{figure}.p50", p50, "ms", None, results, **extra)
        emit(f"{figure}.p95", p95, "ms", f"p95 < {GOAL_MS} ms", results, met=p95 < GOAL_MS, **extra)
        if terms:
            by_kind = {}
            for (kind, _term), ms in zip(terms[args.warmup :], samples, strict=True):
                by_kind.setdefault(kind, []).append(ms)
            log(
                f"bench: {figure} by kind (median / max ms): "
                + ", ".join(f"{k} {statistics.median(v):.0f}/{max(v):.0f}" for k, v in by_kind.items())
            )
        if p95 >= GOAL_MS:
            slowest = urls[args.warmup + max(range(len(samples)), key=samples.__getitem__)]
            slow.append((figure, client, slowest))
    for figure, client, url in slow:
        log(f"bench: {figure} missed its goal")
        explain_slowest(client, url)
    connection.close()


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
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epigrid.settings")
    os.environ.setdefault("DB_CONN_MAX_AGE", "600")
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
        measure(args, results)
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
