"""Contact-tracing figure (`bench/run.py --only tracing`): the chain graph of 500 cases and 20,000
contacts, built and served.

- tracing_chain_graph_commander: GET /tracing/chains/data/ (the JSON the chain page draws: every
  node laid out, the links, the counts, the timeline) as the district commander, with 500 cases in
  the district (100 index cases, 400 contacts who became cases, so chains run several generations
  deep) and 40 contacts each (20,000, a tenth of them secondary through a close contact). Goal p95
  < 500 ms (aim: half). Baseline: the view's two SELECTs (cases, contacts) run raw after each
  request — the floor any graph built from the database pays.

The cases and contacts are inserted in one transaction that is rolled back at the end: the database
stays as built (the test client runs in the same connection, inside it).
"""

import datetime
import random

from bench.run import emit, log, percentile, time_page

CASES = 500
INDEX_CASES = 100
CONTACTS_PER_CASE = 40
GOAL_MS = 500


class _Rollback(Exception):
    pass


def add_chains(district, seed):
    """CASES cases and CASES × CONTACTS_PER_CASE contacts over the district's residents."""
    from django.utils import timezone

    from epigrid.control.models import Protocol
    from epigrid.people.models import Person
    from epigrid.tracing.models import Case, Contact, Team

    rng = random.Random(f"bench-tracing:{seed}")
    protocol = Protocol.objects.get(is_active=True)
    team = Team.objects.create(name="bench 流调队", area=district)
    need = CASES * CONTACTS_PER_CASE + INDEX_CASES
    persons = list(
        Person.objects.filter(area__path__startswith=district.path, merged_into__isnull=True)
        .order_by("id")
        .values_list("id", "area_id")[: need * 2]
    )
    rng.shuffle(persons)
    persons = persons[:need]
    now = timezone.now()
    today = timezone.localdate()
    cases, contacts = [], []
    pool = iter(persons)

    def new_case(person, source=None):
        sampled = today - datetime.timedelta(days=rng.randint(0, 14))
        case = Case(
            person_id=person[0],
            area_id=person[1],
            team=team,
            protocol=protocol,
            source_contact=source,
            sampled_on=sampled,
            onset_date=sampled - datetime.timedelta(days=rng.randint(0, 2)),
            positive_at=now - datetime.timedelta(hours=rng.randint(1, 300)),
        )
        case.save()
        cases.append(case)
        return case

    frontier = [new_case(next(pool)) for _ in range(INDEX_CASES)]
    while len(cases) < CASES or frontier:
        case = frontier.pop(0)

        def contact(person, contact_class, via=None, case=case):
            return Contact(
                case=case,
                person_id=person[0],
                contact_class=contact_class,
                via=via,
                setting=rng.choice(("household", "meal", "workplace", "vehicle")),
                last_contact=case.sampled_on,
                status=rng.choice(("confirmed", "confirmed", "proposed")),
                identified_at=case.positive_at,
            )

        # Nine in ten close contacts, then the secondary ones met through them (bulk: no change log,
        # as the demo builder writes at scale).
        secondary = CONTACTS_PER_CASE // 10
        close = Contact.objects.bulk_create(
            [contact(next(pool), "close") for _ in range(CONTACTS_PER_CASE - secondary)]
        )
        mine = close + Contact.objects.bulk_create(
            [contact(next(pool), "secondary", via=rng.choice(close)) for _ in range(secondary)]
        )
        contacts.extend(mine)
        # Each case passes it on to one or two of its close contacts while cases are still wanted.
        for contact in rng.sample([c for c in mine if c.contact_class == "close"], 2):
            if len(cases) < CASES:
                frontier.append(new_case((contact.person_id, case.area_id), source=contact))
    return len(cases), len(contacts)


def measure(args, results):
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client

    from epigrid.areas.models import Area, Level

    district = Area.objects.filter(level=Level.DISTRICT).order_by("code").first()
    commander = get_user_model().objects.get(username="demo_commander")
    try:
        with transaction.atomic():
            cases, contacts = add_chains(district, args.seed)
            # As autovacuum would have by the time a commander looks: the planner's statistics.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE tracing_case, tracing_contact")
            log(f"bench: tracing: {cases:,} cases and {contacts:,} contacts added (rolled back at the end)")
            client = Client()
            client.force_login(commander)
            url = "/tracing/chains/data/"
            figure = "tracing_chain_graph_commander"
            samples, parts = time_page(
                figure, client, [url] * (args.warmup + args.requests), args.warmup, "tracing_case"
            )
            body = client.get(url)
            nodes = len(body.json()["nodes"])
            p50, p95 = percentile(samples, 50), percentile(samples, 95)
            sql95 = percentile(parts["sql"], 95)
            cpu50 = percentile(parts["cpu"], 50)
            log(
                f"bench: {figure}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; its SELECTs raw p95 {sql95:.1f} ms; "
                f"Python CPU p50 {cpu50:.1f} ms; {nodes:,} nodes, {len(body.content) / 1e6:.1f} MB"
            )
            emit(
                f"{figure}.p50",
                p50,
                "ms",
                None,
                results,
                requests=len(samples),
                cases=cases,
                contacts=contacts,
            )
            emit(
                f"{figure}.p95",
                p95,
                "ms",
                f"p95 < {GOAL_MS} ms",
                results,
                met=p95 < GOAL_MS,
                aim=f"p95 < {GOAL_MS // 2} ms",
                aim_met=p95 < GOAL_MS // 2,
                requests=len(samples),
                cases=cases,
                contacts=contacts,
                nodes=nodes,
                bytes=len(body.content),
                baseline_sql_p95_ms=round(sql95, 2),
                ratio_to_sql=round(p95 / sql95, 1) if sql95 else None,
                cpu_p50_ms=round(cpu50, 2),
            )
            emit(f"{figure}.baseline_sql", sql95, "ms", None, results, requests=len(samples))
            emit(f"{figure}.ratio_to_sql", p95 / sql95 if sql95 else None, "x", None, results)
            raise _Rollback
    except _Rollback:
        pass
