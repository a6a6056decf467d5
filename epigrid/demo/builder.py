"""Writes the demo district (epigrid.demo.plan) into the database, with demo users and audit rows.

`build_demo(residents, seed)` builds into an empty database inside one transaction: either the
whole district with its users exists afterwards, or nothing does. Rows go in batches (COPY on
PostgreSQL, bulk_create elsewhere). Audit rows, under a "command" change context: one per area
and per building (audit.services.log_bulk_create) and one per grid for the households and
persons written into it (docs/decisions/0006-demo-audit.md).

Then every module gets its part: the key persons with their steps, check-ins, tests and history
and the risk zones (epigrid.demo.control), and a few finished import and export jobs of the demo
users (epigrid.demo.jobs). The counts of the JSON come from the database for those modules, by
the same functions that describe an existing demo (`--if-empty`).
"""

import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import connection, transaction
from django.db.models import Count

from epigrid.accounts.models import Grant
from epigrid.accounts.roles import ROLES
from epigrid.areas.models import Area, Building, Household, Level
from epigrid.audit.models import Action, ObjectChange
from epigrid.audit.services import log_bulk_create, log_change
from epigrid.core.context import change_context
from epigrid.core.imports import bulk_insert
from epigrid.demo import data
from epigrid.demo.antigen import antigen_counts, build_antigen
from epigrid.demo.assistance import assistance_counts, build_assistance
from epigrid.demo.checkpoints import build_checkpoints, checkpoint_counts
from epigrid.demo.control import ControlBuilder, ControlError, control_counts
from epigrid.demo.dashboard import build_dashboard, dashboard_counts
from epigrid.demo.disinfection import build_disinfection, disinfection_counts
from epigrid.demo.enterprises import build_enterprises, enterprises_counts
from epigrid.demo.homeservices import build_homeservices, homeservices_counts
from epigrid.demo.isolation import build_isolation, isolation_counts
from epigrid.demo.jobs import JobError, job_counts, run_jobs
from epigrid.demo.markets import build_markets, markets_counts
from epigrid.demo.passes import build_passes, passes_counts
from epigrid.demo.plan import DistrictPlan
from epigrid.demo.reports import build_reports, reports_counts
from epigrid.demo.results import build_results, results_counts
from epigrid.demo.retests import build_retests, retests_counts
from epigrid.demo.rosters import build_rosters, rosters_counts
from epigrid.demo.supervision import build_supervision, supervision_counts
from epigrid.demo.supplies import build_supplies, supplies_counts
from epigrid.demo.testing import TestingBuilder, testing_counts, testing_json
from epigrid.demo.tracing import build_tracing, tracing_counts
from epigrid.demo.transport import build_transport, transport_counts
from epigrid.people.models import Person, Tag

BATCH_SIZE = 5000  # persons per flush; buildings and households go with their persons
PROGRESS_EVERY = 100_000
LEVEL_NAMES = {
    Level.CITY: "city",
    Level.DISTRICT: "district",
    Level.STREET: "street",
    Level.COMMUNITY: "community",
    Level.GRID: "grid",
}
LEVELS = {name: level for level, name in LEVEL_NAMES.items()}
DEMO_REASON = "demo district (epigrid demo --residents {residents} --seed {seed})"
TAG_CODES = ("elderly_alone", "disabled", "chronic", "pregnant", "child")


class DemoError(Exception):
    pass


@dataclass
class DemoResult:
    built: bool
    areas: dict
    counts: dict
    users: list
    seconds: float = 0.0
    residents: int = 0
    seed: int | None = None
    testing: dict | None = None  # the rounds (with their ids) and the demo sampler's post
    stages: dict | None = None  # seconds per build step (residents, users, each module)

    def as_json(self):
        return {
            "areas": self.areas,
            "counts": self.counts,
            "users": self.users,
            "testing": self.testing,
            "seconds": round(self.seconds, 3),
            "stages": self.stages,
        }


def demo_user_specs():
    """(role, username, level name) for every role in accounts.roles.ROLES."""
    specs = []
    for role in ROLES:
        username, level = data.DEMO_USERS.get(role, (f"demo_{role}", "district"))
        specs.append((role, username, level))
    return specs


def database_is_empty():
    return not Area.objects.exists()


def build_demo(residents, seed, *, batch_size=BATCH_SIZE, progress=None, audit=True):
    """Build the district into an empty database; returns a DemoResult. `progress(done, total,
    seconds)` is called every PROGRESS_EVERY persons."""
    if not database_is_empty():
        raise DemoError("The database already holds areas; the demo builds only into an empty one.")
    started = time.monotonic()
    builder = _Builder(DistrictPlan(residents, seed), batch_size, progress, audit, started)
    with transaction.atomic(), change_context(source="command"):
        audit_before = ObjectChange.objects.count()
        try:
            builder.build()
        except (ControlError, JobError) as exc:
            raise DemoError(str(exc)) from None
        builder.counts.update(module_counts())
        # Everything the build logged, bulk rows and the signal-logged saves (users, grants) alike.
        builder.counts["audit_rows"] = ObjectChange.objects.count() - audit_before
        testing = testing_json()
    return DemoResult(
        built=True,
        areas=builder.area_codes(),
        counts=builder.counts,
        users=demo_logins(),
        seconds=time.monotonic() - started,
        residents=residents,
        seed=seed,
        testing=testing,
        stages=builder.stages,
    )


def existing_demo():
    """DemoResult describing what the database holds, without building anything."""
    areas = {name: [] for name in LEVELS}
    for code, level in Area.objects.order_by("path").values_list("code", "level"):
        areas[LEVEL_NAMES[level]].append(code)
    return DemoResult(
        built=False, areas=areas, counts=database_counts(), users=demo_logins(), testing=testing_json()
    )


def module_counts():
    """What the operation modules hold: {"control": {...}, "jobs": {kind: {status: n}},
    "testing": {...}}."""
    return {
        "control": control_counts(),
        "jobs": job_counts(),
        "testing": testing_counts(),
        "retests": retests_counts(),
        "transport": transport_counts(),
        "results": results_counts(),
        "antigen": antigen_counts(),
        "isolation": isolation_counts(),
        "assistance": assistance_counts(),
        "tracing": tracing_counts(),
        "checkpoints": checkpoint_counts(),
        "passes": passes_counts(),
        "reports": reports_counts(),
        "supervision": supervision_counts(),
        "rosters": rosters_counts(),
        "markets": markets_counts(),
        "supplies": supplies_counts(),
        "homeservices": homeservices_counts(),
        "enterprises": enterprises_counts(),
        "disinfection": disinfection_counts(),
        "dashboard": dashboard_counts(),
    }


def database_counts():
    residence = dict(_count_by(Person, "residence_type"))
    through = Person.tags.through
    tags = dict(_count_by(through, "tag__code"))
    return {
        "areas": Area.objects.count(),
        "buildings": Building.objects.count(),
        "households": Household.objects.count(),
        "persons": Person.objects.count(),
        "residence_types": {key: residence.get(key, 0) for key in ("registered", "migrant", "foreign")},
        "tags": {code: tags.get(code, 0) for code in TAG_CODES},
        "users": get_user_model().objects.filter(username__in=[u for _r, u, _l in demo_user_specs()]).count(),
        "grants": Grant.objects.count(),
        **module_counts(),
        "audit_rows": ObjectChange.objects.count(),
    }


def _count_by(model, field_name):
    return (
        model.objects.values_list(field_name).order_by().annotate(n=Count("pk")).values_list(field_name, "n")
    )


def demo_logins():
    """[{username, password, role, area}] for the demo users present, in ROLES order."""
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=[u for _r, u, _l in demo_user_specs()])
    }
    grants = {
        (g.user_id, g.role): g.area
        for g in Grant.objects.filter(user__in=users.values()).select_related("area")
    }
    rows = []
    for role, username, _level in demo_user_specs():
        user = users.get(username)
        area = user and grants.get((user.pk, role))
        if area is None:
            continue
        rows.append({"username": username, "password": data.DEMO_PASSWORD, "role": role, "area": area.code})
    return rows


def area_names(codes):
    return dict(Area.objects.filter(code__in=codes).values_list("code", "name"))


class _Builder:
    def __init__(self, plan, batch_size, progress, audit, started):
        self.plan = plan
        self.batch_size = batch_size
        self.progress = progress
        self.audit = audit
        self.started = started
        self.areas = {}  # code -> Area
        self.counts = {
            "areas": 0,
            "buildings": 0,
            "households": 0,
            "persons": 0,
            "residence_types": {"registered": 0, "migrant": 0, "foreign": 0},
            "tags": dict.fromkeys(TAG_CODES, 0),
            "users": 0,
            "grants": 0,
            "audit_rows": 0,
        }
        self.next_report = PROGRESS_EVERY
        self.writer = _Writer(batch_size)
        self.control = None
        self.testing = None
        self.users = {}
        self.stages = {"residents": 0.0}  # step -> seconds

    def build(self):
        self.tags = {t.code: t for t in Tag.objects.filter(code__in=TAG_CODES)}
        missing = set(TAG_CODES) - set(self.tags)
        if missing:
            raise DemoError(f"Vulnerable tags missing (migrate first): {', '.join(sorted(missing))}")
        self.control = ControlBuilder(self.plan)
        self.testing = TestingBuilder(self.plan, self.writer)
        self.build_areas()
        batch, pending = [], 0
        for grid, buildings in self.plan.grids():
            batch.append((self.areas[grid.code], buildings))
            pending += grid.quota
            if pending >= self.batch_size:
                self.flush(batch)
                batch, pending = [], 0
        if batch:
            self.flush(batch)
        self.stages["residents"] = round(time.monotonic() - self.started, 2)
        started = time.monotonic()
        self.build_users()
        self.stages["users"] = round(time.monotonic() - started, 2)
        self.build_modules()

    def build_modules(self):
        """Key persons, zones, testing rounds and jobs: every operation module's part of the
        district, in order (each step's comment says what it needs before it). Each step's
        seconds are kept in `self.stages` (the demo command prints them, the bench logs them)."""
        district = self.areas[self.plan.district.code]
        showcase_grid = self.areas[self.plan.grids_list[0].code]
        community = showcase_grid.parent
        today = lambda: self.control.today  # noqa: E731 (set by control's step)
        steps = [
            ("control", lambda: self.control.build(self.areas, self.users, reason=self.reason())),
            ("zones", lambda: self.control.build_zones(self.areas, self.users)),
            # After control: the persons in centralized isolation are exempt.
            ("testing", lambda: self.testing.build(self.areas, self.users)),
            (
                "jobs",
                lambda: run_jobs(
                    self.users,
                    community,
                    self.control.unlisted_showcase_persons(),
                    self.control.rules,
                    self.control.rng,
                    today(),
                ),
            ),
            ("antigen", lambda: build_antigen(self.plan, self.areas, self.users, audit=self.audit)),
            # After control, before isolation: the persons found for the requests join the key-person
            # ledger, and those sent to centralized isolation get their rooms with the others.
            ("assistance", lambda: build_assistance(district, self.users, today())),
            # After control, before isolation: confirmed close contacts join the key-person ledger (or
            # keep their open entry), and those in centralized isolation get rooms with the others.
            ("tracing", lambda: build_tracing(district, self.users, today())),
            # After control's zones: gates for the controlled zones' communities; arrivals into the ledger.
            (
                "checkpoints",
                lambda: build_checkpoints(self.plan, self.areas, self.users, today(), seed=self.plan.seed),
            ),
            # After the checkpoints: a controlled zone's passes, scanned at its community's gate.
            ("passes", lambda: build_passes(self.users, today())),
            # After control: the persons in centralized isolation are the sites' guests.
            ("isolation", lambda: build_isolation(district, self.users, today())),
            ("transport", lambda: build_transport(self.plan, self.writer, self.areas, self.users, self.testing.now)),
            ("results", lambda: build_results(self.testing.now)),
            ("retests", build_retests),  # the pooled-positive tubes' follow-ups, opened by the results
            # What would leave a dashboard tile at zero this morning (a pooled positive today, a
            # confirmed case), through the modules' services; before the reports, which copy it.
            ("dashboard", lambda: build_dashboard(self.testing.now)),
            # Last of the ledger's readers: the daily reports copy the key persons of each community.
            ("reports", lambda: build_reports(self.users, today(), seed=self.plan.seed)),
            ("supervision", lambda: build_supervision(self.users)),  # problems around the showcase grid
            # After checkpoints, testing and isolation: their places get duty posts and shifts.
            ("rosters", lambda: build_rosters(district, community, self.users, today())),
            # Outlets of the showcase community with two weeks of reports (one spike, one short stock).
            ("markets", lambda: build_markets(community, self.users, today())),
            # After checkpoints, testing and isolation: their places get stores; stock, requisitions
            # in every state, donations with allocations.
            ("supplies", lambda: build_supplies(district, community, self.users)),
            # After control's zones: the sealed building's special groups and their requests.
            ("homeservices", lambda: build_homeservices(self.users, self.testing.now)),
            # After control and reports: staff are the showcase community's residents (some under
            # management), the permitted enterprises send their daily reports.
            ("enterprises", lambda: build_enterprises(self.users, today())),
            # After tracing and control's zones: sites, rounds half done, trips, a case's terminal disinfection.
            ("disinfection", lambda: build_disinfection(district, community, self.users, today())),
        ]
        for name, step in steps:
            started = time.monotonic()
            step()
            self.stages[name] = round(time.monotonic() - started, 2)

    def area_codes(self):
        codes = {name: [] for name in LEVELS}
        for planned in self.plan.areas():
            codes[planned.level].append(planned.code)
        return codes

    def log(self, objs):
        """One audit row per area and per building (a few thousand for a million residents)."""
        if self.audit and objs:
            log_bulk_create(objs)

    def log_residents(self, batch, households, persons):
        """One audit row per grid for the households and persons written into it: a row per person
        would double the build time and bury the audit log (docs/decisions/0006-demo-audit.md)."""
        if not self.audit:
            return
        by_grid = {}
        for household in households:
            by_grid.setdefault(household.area_id, ([], []))[0].append(household.pk)
        for person in persons:
            by_grid[person.area_id][1].append(person.pk)
        for grid, _buildings in batch:
            household_ids, person_ids = by_grid.get(grid.pk, ([], []))
            if not household_ids:
                continue
            log_change(
                grid,
                Action.UPDATE,
                None,
                {
                    "households": {
                        "added": len(household_ids),
                        "ids": [min(household_ids), max(household_ids)],
                    },
                    "persons": {"added": len(person_ids), "ids": [min(person_ids), max(person_ids)]},
                },
                reason=self.reason(),
            )

    def reason(self):
        return DEMO_REASON.format(residents=self.plan.residents, seed=self.plan.seed)

    def build_areas(self):
        planned = self.plan.areas()
        for level_name in LEVELS:
            level_objs = []
            for item in planned:
                if item.level != level_name:
                    continue
                area = Area(code=item.code, name=item.name, level=LEVELS[level_name])
                if item.parent is not None:
                    area.parent = self.areas[item.parent.code]
                area.path = area.compute_path()
                area.clean()  # code shape and parent prefix (CODE_PATTERNS, PARENT_PREFIX)
                level_objs.append(area)
                self.areas[item.code] = area
            Area.objects.bulk_create(level_objs, batch_size=self.batch_size)
            self.log(level_objs)
            self.counts["areas"] += len(level_objs)

    def flush(self, batch):
        households_planned = [h for _grid, bs in batch for b in bs for h in b.households]
        building_ids = self.writer.new_ids(Building, sum(len(bs) for _grid, bs in batch))
        household_ids = self.writer.new_ids(Household, len(households_planned))
        person_ids = self.writer.new_ids(Person, sum(len(h.members) for h in households_planned))
        buildings, households, persons, person_tags = [], [], [], []
        for grid, planned_buildings in batch:
            for pb in planned_buildings:
                building = Building(pk=next(building_ids), area=grid, name=pb.name)
                buildings.append(building)
                for ph in pb.households:
                    household = Household(
                        pk=next(household_ids), area=grid, building=building, unit=ph.unit, room=ph.room
                    )
                    households.append(household)
                    for i, pp in enumerate(ph.members):
                        person = Person(
                            pk=next(person_ids),
                            name=pp.name,
                            doc_type=pp.doc_type,
                            doc_number=pp.doc_number,
                            sex=pp.sex,
                            birth_date=pp.birth_date,
                            phone=pp.phone,
                            residence_type=pp.residence_type,
                            area=grid,
                            household=household,
                        )
                        # Same rule as Person.save(); household (and its grid) are attached, so
                        # this needs no query.
                        person.fill_derived_fields()
                        if i == 0:
                            # Foreign keys are checked at commit, so the household may name its
                            # contact before the person's row is written.
                            household.contact_person_id = person.pk
                        persons.append(person)
                        person_tags.append(pp.tags)
        through = Person.tags.through
        links = []
        tag_counts, kinds = self.counts["tags"], self.counts["residence_types"]
        for person, codes in zip(persons, person_tags, strict=True):
            kinds[person.residence_type] += 1
            for code in codes:
                links.append(through(person_id=person.pk, tag_id=self.tags[code].pk))
                tag_counts[code] += 1
        self.writer.insert(Building, buildings)
        self.writer.insert(Household, households)
        self.writer.insert(Person, persons)
        self.writer.insert(through, links)

        self.control.take(persons, buildings)
        self.testing.take(persons)
        self.log(buildings)
        self.log_residents(batch, households, persons)
        self.counts["buildings"] += len(buildings)
        self.counts["households"] += len(households)
        self.counts["persons"] += len(persons)
        if self.progress and self.counts["persons"] >= self.next_report:
            while self.next_report <= self.counts["persons"]:
                self.next_report += PROGRESS_EVERY
            self.progress(self.counts["persons"], self.plan.residents, time.monotonic() - self.started)

    def build_users(self):
        User = get_user_model()
        first = {
            "city": self.plan.city,
            "district": self.plan.district,
            "street": self.plan.streets[0],
            "community": self.plan.communities[0],
            "grid": self.plan.grids_list[0],
        }
        # One PBKDF2 hash for all demo users (same password): each hash takes about half a second.
        hashed = make_password(data.DEMO_PASSWORD)
        for role, username, level in demo_user_specs():
            area = self.areas[first[level].code]
            validate_password(data.DEMO_PASSWORD, User(username=username))
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username)
            user.password = hashed
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
            Grant.objects.get_or_create(user=user, role=role, area=area)
            self.users[role] = user
            self.counts["users"] += 1
            self.counts["grants"] += 1


class _Writer:
    """Reserves primary keys so the builder can link rows before writing them (PostgreSQL: from
    the table's sequence; SQLite: after the current maximum, the transaction holding the write
    lock), and writes through core.imports.bulk_insert."""

    def __init__(self, batch_size):
        self.batch_size = batch_size
        self.postgres = connection.vendor == "postgresql"
        self.next_id = {}

    def new_ids(self, model, count):
        """An iterator over `count` unused primary keys of model's table."""
        if count == 0:
            return iter(())
        table, pk = model._meta.db_table, model._meta.pk.column
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [connection.ops.quote_name(table), pk, count],
                )
                return iter([row[0] for row in cursor.fetchall()])
            if model not in self.next_id:
                qn = connection.ops.quote_name
                cursor.execute(f"SELECT COALESCE(MAX({qn(pk)}), 0) FROM {qn(table)}")
                self.next_id[model] = cursor.fetchone()[0] + 1
        first = self.next_id[model]
        self.next_id[model] = first + count
        return iter(range(first, first + count))

    def insert(self, model, objs):
        # One bulk writer for the project: COPY on PostgreSQL, bulk_create elsewhere.
        bulk_insert(model, objs, batch_size=self.batch_size)
