"""The demo district's antigen self-tests 抗原自测: one round over the whole district, started
yesterday, results due tonight.

- Kits: about nine households in ten got one kit per member (the showcase grid all but two), handed
  out yesterday by the grid's worker.
- Results: every grid of the showcase community and about one grid in ten elsewhere have their
  reports (a 1,000,000-resident district would otherwise write a million rows for a page nobody
  scrolls; the completion pages show the other grids at 0 % as a real first evening does). There,
  about 85 % of the persons served reported: mostly negative, about 2 % invalid (a retest asked).
- Two positives go through `antigen.services.report` itself, so each has its nucleic-acid follow-up
  and its key-person entry (suspected, from the active protocol) exactly as a grid worker's tap
  makes them: one in the showcase grid (still to arrange), one in the next grid of the showcase
  community (sampled).

Rows go in bulk as plain tuples (COPY on PostgreSQL, executemany on SQLite; `copy_rows`). Change log:
the round and the two positives get their own rows (signals); the bulk rows one summary row per
grid, as the residents do (docs/decisions/0006-demo-audit.md). Deterministic for a seed on a
given day: one random.Random, fixed orders."""

import datetime
import random

from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from epigrid.antigen import services
from epigrid.antigen.models import (
    Allocation,
    AntigenFollowUp,
    AntigenReport,
    AntigenRound,
    KitDistribution,
    Result,
)
from epigrid.areas.models import Area, Household, Level
from epigrid.audit.models import Action
from epigrid.audit.services import build_change, write_changes
from epigrid.control.models import KeyPerson
from epigrid.people.models import Person

KIT_SHARE = 0.9
REPORT_SHARE = 0.85
INVALID_SHARE = 0.02
REPORTED_GRID_EVERY = 10  # outside the showcase community, one grid in this many has reports
ROUND_NAME = "抗原自测第一轮"
DISTRIBUTION_FIELDS = (
    "round",
    "household",
    "area",
    "kits",
    "handed_out_at",
    "handed_out_by",
    "note",
    "created",
    "last_updated",
)
REPORT_FIELDS = (
    "round",
    "person",
    "household",
    "area",
    "result",
    "tested_at",
    "via",
    "reported_by",
    "photo",
    "retest_requested_at",
    "note",
    "created",
    "last_updated",
)


def copy_rows(model, fields, rows):
    """Plain tuples straight into the table: a model instance costs ~50 µs to make (its change-log
    snapshot included), which at a million residents' 330,000 kit rows alone was 16 s. COPY on
    PostgreSQL; on SQLite (small demos) an executemany of values prepared as Django would."""
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    qn = connection.ops.quote_name
    names = ", ".join(qn(f.column) for f in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        prepared = [
            [
                f.get_db_prep_save(v, connection) if v is not None else None
                for f, v in zip(columns, row, strict=True)
            ]
            for row in rows
        ]
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {qn(meta.db_table)} ({names}) VALUES ({marks})", prepared)


def build_antigen(plan, areas, users, audit=True):
    """The whole antigen part of the demo (one call from the builder)."""
    rng = random.Random(f"epigrid-demo:{plan.seed}:antigen")
    today = timezone.localdate()
    now = timezone.now()
    district = areas[plan.district.code]
    due = timezone.make_aware(datetime.datetime.combine(today, datetime.time(20, 0)))
    rnd = AntigenRound.objects.create(
        name=ROUND_NAME,
        area=district,
        starts_on=today - datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=1),
        allocation=Allocation.PER_PERSON,
        kits_per=1,
        results_due_at=due,
        follow_up_hours=12,
    )
    rnd.areas.set([district])
    showcase = areas[plan.grids_list[0].code]
    community = showcase.parent
    grid_worker = users.get("grid_worker")
    kits = _hand_out(rng, rnd, district, showcase, grid_worker, today, now)
    reported_grids = _reported_grids(plan, areas, community)
    persons = _persons(reported_grids, kits)
    positives = _positives(persons, showcase, community)
    _reports(rng, rnd, persons, positives, grid_worker, today, now)
    _positive_reports(rnd, positives, users, now)
    if audit:
        _log_grids(rnd)
    return rnd


def _hand_out(rng, rnd, district, showcase, grid_worker, today, now):
    """{household id: kits}; written in bulk."""
    # By grid ids, not a join on the area path: two grouped scans without a join per row.
    grid_ids = list(
        Area.objects.filter(path__startswith=district.path, level=Level.GRID).values_list("pk", flat=True)
    )
    members = dict(
        Person.objects.filter(area_id__in=grid_ids, merged_into__isnull=True, household__isnull=False)
        .values_list("household_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    households = Household.objects.filter(area_id__in=grid_ids).order_by("id").values_list("id", "area_id")
    skipped_showcase = 0
    given, rows = {}, []
    base = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=1), datetime.time(9, 0))
    )
    for household_id, area_id in households:
        count = members.get(household_id, 0)
        if not count:
            continue
        if area_id == showcase.pk:
            # The showcase grid: every door but two, so its worker's page has doors left to do.
            if skipped_showcase < 2 and rng.random() < 0.2:
                skipped_showcase += 1
                continue
        elif rng.random() >= KIT_SHARE:
            continue
        given[household_id] = count
        at = base + datetime.timedelta(minutes=rng.randrange(0, 9 * 60))
        worker = grid_worker.pk if grid_worker is not None and area_id == showcase.pk else None
        rows.append((rnd.pk, household_id, area_id, count, at, worker, "", now, now))
    copy_rows(KitDistribution, DISTRIBUTION_FIELDS, rows)
    return given


def _reported_grids(plan, areas, community):
    grids = []
    for index, planned in enumerate(plan.grids_list):
        grid = areas[planned.code]
        if grid.parent_id == community.pk or index % REPORTED_GRID_EVERY == 0:
            grids.append(grid)
    return grids


def _persons(grids, kits):
    """(person id, household id, area id) of the persons served in the reported grids, by id."""
    rows = (
        Person.objects.filter(area__in=grids, merged_into__isnull=True, household__isnull=False)
        .order_by("id")
        .values_list("id", "household_id", "area_id")
    )
    return [row for row in rows if row[1] in kits]


def _positives(persons, showcase, community):
    """Two persons to test positive: in the showcase grid and in the community's next grid,
    each without an open key-person entry (so each gets a new one)."""
    taken = set(KeyPerson.objects.filter(status=KeyPerson.Status.OPEN).values_list("person_id", flat=True))
    others = sorted(
        Area.objects.filter(parent=community).exclude(pk=showcase.pk).values_list("pk", flat=True)
    )
    chosen = []
    for grid_id in [showcase.pk, *(others[:1] or [showcase.pk])]:
        person = next(
            (p for p in reversed(persons) if p[2] == grid_id and p[0] not in taken and p not in chosen), None
        )
        if person is not None:
            chosen.append(person)
    return chosen


def _reports(rng, rnd, persons, positives, grid_worker, today, now):
    skip = {p[0] for p in positives}
    start = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=1), datetime.time(18, 0))
    )
    span = max(int((now - start).total_seconds() // 60) - 5, 1)
    worker_grid = grid_worker.grants.values_list("area_id", flat=True).first() if grid_worker else None
    rows = []
    for person_id, household_id, area_id in persons:
        if person_id in skip or rng.random() >= REPORT_SHARE:
            continue
        invalid = rng.random() < INVALID_SHARE
        # rng.random() draws the same bits whatever `span` (the build's clock) is: randrange would not.
        tested = start + datetime.timedelta(minutes=int(rng.random() * span))
        rows.append(
            (
                rnd.pk,
                person_id,
                household_id,
                area_id,
                "invalid" if invalid else "negative",
                tested,
                "worker",
                grid_worker.pk if grid_worker is not None and area_id == worker_grid else None,
                "",
                tested if invalid else None,
                "",
                now,
                now,
            )
        )
    copy_rows(AntigenReport, REPORT_FIELDS, rows)


def _positive_reports(rnd, positives, users, now):
    """Through the service: report, follow-up and key-person entry, as a tap makes them."""
    reporter = users.get("community_officer")
    # Tested today, even just after midnight: the entry is identified on the day it is registered,
    # as every entry of the demo ledger is.
    midnight = timezone.make_aware(datetime.datetime.combine(timezone.localdate(now), datetime.time.min))
    for n, (person_id, _household, _area) in enumerate(positives):
        person = Person.objects.select_related("area").get(pk=person_id)
        tested = min(max(now - datetime.timedelta(hours=2 + n), midnight), now)
        report, _action = services.report(reporter, rnd, person, Result.POSITIVE, tested_at=tested)
        if n == 1:
            services.set_follow_up(reporter, report.follow_up, AntigenFollowUp.Status.SAMPLED, "单管已采")


def _log_grids(rnd):
    """One change row per grid for its bulk-written kits and reports, on the round, filed under the grid."""
    kits = {
        row["area_id"]: row
        for row in KitDistribution.objects.filter(round=rnd)
        .values("area_id")
        .annotate(n=Count("id"), k=Sum("kits"))
        .order_by()
    }
    reports = dict(
        AntigenReport.objects.filter(round=rnd).values_list("area_id").annotate(n=Count("id")).order_by()
    )
    grids = Area.objects.in_bulk(list(kits))
    rows = []
    for area_id, row in sorted(kits.items()):
        change = build_change(
            rnd,
            Action.UPDATE,
            None,
            {
                "grid": grids[area_id].code,
                "households_with_kits": row["n"],
                "kits": row["k"],
                "reports": reports.get(area_id, 0),
            },
        )
        change.area_path = grids[area_id].path  # filed under the grid: its auditors see it
        rows.append(change)
    write_changes(rows)


def antigen_counts():
    """Counts of the antigen module, for module_counts() and --json."""
    reports = dict(AntigenReport.objects.values_list("result").annotate(n=Count("id")).order_by())
    follow_ups = dict(AntigenFollowUp.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "rounds": AntigenRound.objects.count(),
        "households_with_kits": KitDistribution.objects.filter(kits__gt=0).count(),
        "kits": KitDistribution.objects.aggregate(n=Sum("kits"))["n"] or 0,
        "reports": {r: reports.get(r, 0) for r in Result.values},
        "follow_ups": {s: follow_ups.get(s, 0) for s in AntigenFollowUp.Status.values},
    }
