"""The demo district command: deterministic, valid identities, consistent structure and users."""

import collections
import datetime
import hashlib
import io
import json
import random
import re
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from epigrid.accounts.models import Grant, User
from epigrid.accounts.roles import ROLES
from epigrid.antigen.models import AntigenRound
from epigrid.areas.models import CODE_PATTERNS, PARENT_PREFIX, Area, Building, Household, Level
from epigrid.assistance.models import AssistRequest
from epigrid.audit.models import ObjectChange, Transition
from epigrid.checkpoints.models import Checkpoint, Passage, VehicleCheck
from epigrid.control import models as control_models
from epigrid.control import plans, worklists
from epigrid.control.models import ABNORMAL, CheckIn, ControlMeasure, HandOver, KeyPerson, Protocol, Zone
from epigrid.core.identity import normalise_phone, resident_id_facts, validate_resident_id
from epigrid.demo import data
from epigrid.demo.episodes import STAGES, Planner, fits, stage_of, traced_categories
from epigrid.demo.plan import DistrictPlan, age_on
from epigrid.isolation.models import Site, Stay, WasteHandover
from epigrid.jobs.models import Job
from epigrid.passes.models import HouseholdPass, PassUse
from epigrid.people.models import Person
from epigrid.supervision.models import Item
from epigrid.tracing.models import Case, Cluster, Contact, Team
from epigrid.transport.models import Lab
from tests.test_demo_testing import remove_testing

RESIDENTS = 300
SEED = 7
PROTOCOLS = Path(plans.__file__).parent / "protocols"


def run_demo(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", *args, stdout=out, stderr=err, **options)
    return out.getvalue()


def build(residents=RESIDENTS, seed=SEED):
    return json.loads(run_demo(residents=residents, seed=seed, json=True))


def wipe():
    from epigrid.homeservices.models import ServiceRequest, SpecialCare
    from epigrid.reports.models import Submission
    from epigrid.rosters import models as rosters

    Submission.objects.all().delete()  # daily reports protect their units
    from epigrid.markets import models as markets

    # Shops and markets: staff protect persons, closures and outlets protect areas.
    for model in (markets.ShopStaff, markets.Closure, markets.Baseline, markets.WildlifeCheck, markets.Outlet):
        model.objects.all().delete()
    from epigrid.supplies import models as supplies

    # Supplies: the ledger protects stores, items, requisitions and donation lines; allocations
    # protect their approvers; stores and items protect their areas.
    for model in (
        supplies.Movement,
        supplies.Allocation,
        supplies.Requisition,
        supplies.Purchase,  # its funding protects the donations' money lines
        supplies.Donation,
        supplies.Store,
        supplies.Item,
    ):
        model.objects.all().delete()
    from epigrid.enterprises.models import Enterprise, Phase

    Enterprise.objects.all().delete()  # employees protect persons; applications, readings go with them
    Phase.objects.all().delete()
    from epigrid.disinfection import models as disinfection

    # Disinfection: rounds (tasks go with them) protect rules and teams, tasks protect sites.
    for model in (
        disinfection.Terminal,
        disinfection.Trip,
        disinfection.Vehicle,
        disinfection.Round,
        disinfection.Rule,
        disinfection.Site,
        disinfection.Team,
    ):
        model.objects.all().delete()
    # Rosters: assignments protect members and shifts, posts protect their areas.
    for model in (rosters.Assignment, rosters.Shift, rosters.Post, rosters.Team, rosters.StaffMember):
        model.objects.all().delete()
    remove_testing()  # the rounds' samples and tubes protect persons, users' areas and rounds
    Lab.objects.all().delete()  # their boxes went with the rounds; labs protect their areas
    AntigenRound.objects.all().delete()  # kits, reports and follow-ups go with it
    WasteHandover.objects.all().delete()  # handovers protect their sites
    PassUse.objects.filter(exit__isnull=False).delete()  # a return protects its exit
    PassUse.objects.all().delete()  # uses protect their passes
    HouseholdPass.objects.all().delete()  # passes protect households and zones
    Passage.objects.all().delete()  # passages protect persons, areas and checkpoints
    VehicleCheck.objects.all().delete()
    Checkpoint.objects.all().delete()  # shifts go with them
    Case.objects.update(source_contact=None)  # a case and its chain's contacts point both ways
    Contact.objects.all().delete()
    Case.objects.all().delete()  # cases protect persons and areas; stops go with them
    Team.objects.all().delete()
    Cluster.objects.all().delete()
    AssistRequest.objects.all().delete()  # its persons go with it; they protect persons and areas
    Item.objects.all().delete()  # supervision items protect areas and users; photos go with them
    ServiceRequest.objects.all().delete()  # requests protect households, persons, areas and users
    SpecialCare.objects.all().delete()  # entries protect persons; their checks go with them
    Stay.objects.all().delete()  # stays protect persons and sites; rooms go with their site
    Site.objects.all().delete()
    Job.objects.all().delete()
    Zone.objects.all().delete()
    KeyPerson.objects.all().delete()  # steps, check-ins and tests go with them
    Transition.objects.all().delete()
    ObjectChange.objects.all().delete()
    Grant.objects.all().delete()
    User.objects.all().delete()
    Household.objects.update(contact_person=None)
    Person.objects.all().delete()
    Household.objects.all().delete()
    Building.objects.all().delete()
    for level in sorted(Level.values, reverse=True):
        Area.objects.filter(level=level).delete()


def snapshot():
    return list(
        Person.objects.order_by(
            "household__area__code", "household__building__name", "doc_number"
        ).values_list(
            "name", "doc_type", "doc_number", "phone", "household__building__name", "household__room"
        )
    )


@pytest.mark.django_db
def test_it_builds_the_same_district_from_the_same_seed():
    # The same seed at the same moment: the running round, today's passes and shifts follow the
    # clock, so both builds read one frozen instant (builds minutes apart may straddle a box's
    # arrival at its lab).
    moment = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=moment):
        first = build()
        before = snapshot()
        wipe()
        second = build()
    assert snapshot() == before
    assert first["areas"] == second["areas"]
    assert first["counts"] == second["counts"]
    wipe()
    build(seed=SEED + 1)
    assert [row[2] for row in snapshot()] != [row[2] for row in before]


def test_it_plans_the_same_persons_from_the_same_seed():
    def persons(seed):
        return [
            (p.name, p.doc_number, p.phone)
            for _grid, buildings in DistrictPlan(2000, seed).grids()
            for b in buildings
            for h in b.households
            for p in h.members
        ]

    assert persons(3) == persons(3)
    assert persons(3) != persons(4)
    assert len(persons(3)) == 2000


@pytest.mark.django_db
def test_it_writes_valid_unique_resident_ids():
    build()
    rows = list(Person.objects.values_list("doc_type", "doc_number", "doc_number_rev", "sex", "birth_date"))
    assert len(rows) == RESIDENTS
    numbers = [number for _t, number, *_rest in rows]
    assert len(set(numbers)) == len(numbers)
    for doc_type, number, reversed_number, sex, birth in rows:
        assert reversed_number == number[::-1]
        if doc_type == "111":
            assert validate_resident_id(number) == number
            assert resident_id_facts(number) == (sex, birth)
        else:
            assert doc_type == "400"
            assert sex in ("M", "F") and birth is not None


def test_it_issues_valid_ids_to_the_elderly_of_the_district():
    """Everyone born before 1983 with a 620102 ID must pass (stdnum's region check would fail)."""
    plan = DistrictPlan(3000, SEED)
    persons = [p for _g, bs in plan.grids() for b in bs for h in b.households for p in h.members]
    elderly = [p for p in persons if p.doc_number.startswith("620102") and p.birth_date.year < 1983]
    assert len(elderly) > 300
    for person in elderly:
        assert validate_resident_id(person.doc_number) == person.doc_number
    regions = collections.Counter(p.doc_number[:6] for p in persons if p.doc_type == "111")
    assert regions["620102"] / sum(regions.values()) > 0.6
    assert len(regions) > 10  # some issued elsewhere (other provinces included)
    assert any(r[:2] != "62" for r in regions)
    assert len({p.doc_number for p in persons}) == len(persons)


@pytest.mark.django_db
def test_it_writes_phones_that_normalise():
    build()
    phones = list(Person.objects.exclude(phone="").values_list("phone", flat=True))
    assert len(phones) > RESIDENTS // 2
    for phone in random.Random(1).sample(phones, 100):
        assert normalise_phone(phone) == phone
        assert normalise_phone(phone[3:]) == phone  # as typed, without +86
    rng = random.Random(2)
    for prefix in set(data.PHONE_PREFIXES):
        for _ in range(20):
            assert normalise_phone(f"{prefix}{rng.randrange(10**8):08d}")


@pytest.mark.django_db
def test_it_puts_every_person_in_a_household_of_a_grid():
    build()
    persons = Person.objects.select_related("household__area", "household__building__area")
    assert persons.filter(household__isnull=True).count() == 0
    for person in persons:
        household = person.household
        assert household.area.level == Level.GRID
        assert person.area_id == household.area_id == household.building.area_id
    households = Household.objects.all()
    sizes = collections.Counter(Person.objects.values_list("household_id", flat=True))
    for household in households:
        assert household.contact_person_id is not None
        assert household.contact_person.household_id == household.pk
        assert age_on(household.contact_person.birth_date) >= 18
        assert 1 <= sizes[household.pk] <= 4
        assert re.fullmatch(r"\d{1,2}0[12]", household.room)
        assert re.fullmatch(r"\d+号楼", household.building.name)


@pytest.mark.django_db
def test_it_builds_an_area_tree_with_valid_codes():
    result = build()
    for area in Area.objects.select_related("parent"):
        assert re.fullmatch(CODE_PATTERNS[area.level], area.code)
        assert area.path == area.compute_path()
        if area.parent_id:
            assert area.parent.level == area.level - 1
            prefix = PARENT_PREFIX[area.level]
            assert area.code[:prefix] == area.parent.code[:prefix]
    assert result["areas"]["city"] == ["620100"]
    assert result["areas"]["district"] == ["620102"]
    assert all(re.fullmatch(r"620102\d{3}000", code) for code in result["areas"]["street"])
    assert all(len(code) == 15 for code in result["areas"]["grid"])


def test_it_lays_out_grids_of_a_few_hundred_households():
    plan = DistrictPlan(20000, SEED)
    per_grid = [sum(len(b.households) for b in buildings) for _grid, buildings in plan.grids()]
    assert len(plan.streets) >= 2
    assert all(200 <= n <= 400 for n in per_grid)


def test_it_draws_plausible_ages_and_tags():
    persons = [
        p for _g, bs in DistrictPlan(20000, SEED).grids() for b in bs for h in b.households for p in h.members
    ]
    n = len(persons)
    ages = [age_on(p.birth_date) for p in persons]
    tags = collections.Counter(t for p in persons for t in p.tags)
    assert 0.10 < sum(a < 14 for a in ages) / n < 0.20
    assert 0.10 < sum(a >= 65 for a in ages) / n < 0.20
    assert 0.45 < sum(p.sex == "M" for p in persons) / n < 0.55
    assert 0.015 < tags["elderly_alone"] / n < 0.035
    assert 0.008 < tags["disabled"] / n < 0.025
    assert 0.035 < tags["chronic"] / n < 0.07
    assert 0.003 < tags["pregnant"] / n < 0.012
    kinds = collections.Counter(p.residence_type for p in persons)
    assert kinds["registered"] > kinds["migrant"] > kinds["foreign"] > 0
    assert all(p.doc_type == "400" for p in persons if p.residence_type == "foreign")


@pytest.mark.django_db
def test_it_tags_consistently_with_age_and_sex():
    build(residents=1500)
    sizes = collections.Counter(Person.objects.values_list("household_id", flat=True))
    seen = collections.Counter()
    for person in Person.objects.prefetch_related("tags"):
        codes = {t.code for t in person.tags.all()}
        age = age_on(person.birth_date)
        seen.update(codes)
        assert ("child" in codes) == (age < 14)
        if "pregnant" in codes:
            assert person.sex == "F" and 20 <= age <= 42
        if "elderly_alone" in codes:
            assert age >= 60 and sizes[person.household_id] == 1
    assert seen["child"] and seen["elderly_alone"] and seen["chronic"]


@pytest.mark.django_db
def test_it_reports_counts_that_match_the_database():
    result = build()
    counts = result["counts"]
    assert counts["persons"] == Person.objects.count() == RESIDENTS
    assert counts["households"] == Household.objects.count()
    assert counts["buildings"] == Building.objects.count()
    assert counts["areas"] == Area.objects.count() == sum(len(v) for v in result["areas"].values())
    for level, codes in result["areas"].items():
        assert sorted(codes) == sorted(Area.objects.filter(level=LEVEL[level]).values_list("code", flat=True))
    for code, n in counts["tags"].items():
        assert n == Person.objects.filter(tags__code=code).count()
    for kind, n in counts["residence_types"].items():
        assert n == Person.objects.filter(residence_type=kind).count()
    assert counts["audit_rows"] == ObjectChange.objects.count()
    assert result["seconds"] >= 0


LEVEL = {"city": Level.CITY, "district": Level.DISTRICT, "street": Level.STREET}
LEVEL |= {"community": Level.COMMUNITY, "grid": Level.GRID}


@pytest.mark.django_db
def test_it_logs_what_it_creates_in_the_audit_log():
    """A row per area and per building; a row per grid for its households and persons."""
    result = build()
    # The demo's jobs log as jobs do (an export is filed under "/", as every export is).
    assert set(ObjectChange.objects.values_list("source", flat=True)) == {"command", "job"}
    changes = ObjectChange.objects.filter(source="command")
    assert changes.exclude(area_path__startswith="/620100/").count() == 0
    assert changes.filter(content_type__model="area", action="create").count() == Area.objects.count()
    assert changes.filter(content_type__model="building").count() == Building.objects.count()
    per_grid = changes.filter(content_type__model="area", action="update")
    assert per_grid.count() == len(result["areas"]["grid"])
    assert sum(c.postchange_data["persons"]["added"] for c in per_grid) == RESIDENTS
    assert sum(c.postchange_data["households"]["added"] for c in per_grid) == Household.objects.count()
    for change in per_grid:
        grid = Area.objects.get(pk=change.object_id)
        assert change.area_path == grid.path
        low, high = change.postchange_data["persons"]["ids"]
        assert (
            Person.objects.filter(area=grid, pk__gte=low, pk__lte=high).count()
            == Person.objects.filter(area=grid).count()
        )


@pytest.mark.django_db
def test_it_creates_a_demo_user_per_role():
    result = build()
    assert {u["role"] for u in result["users"]} == set(ROLES)
    for row in result["users"]:
        user = User.objects.get(username=row["username"])
        assert user.check_password(row["password"])
        assert user.grants.filter(role=row["role"], area__code=row["area"]).exists()
    grid_worker = User.objects.get(username="demo_grid")
    grid = grid_worker.grants.get().area
    assert grid.level == Level.GRID
    assert Person.objects.restrict(grid_worker).count() == Person.objects.filter(area=grid).count() > 0
    commander = User.objects.get(username="demo_commander")
    assert commander.grants.get().area.code == "620102"
    assert Person.objects.restrict(commander).count() == RESIDENTS


@pytest.mark.django_db
def test_it_builds_nothing_the_second_time_with_if_empty():
    first = build()
    output = run_demo(residents=RESIDENTS + 100, seed=SEED + 1, json=True, if_empty=True)
    second = json.loads(output)
    assert Person.objects.count() == RESIDENTS
    assert second["areas"] == first["areas"]
    assert second["users"] == first["users"]
    assert second["counts"]["persons"] == RESIDENTS
    text = run_demo(residents=RESIDENTS, seed=SEED, if_empty=True)
    assert "nothing built" in text
    assert "demo_commander" in text and data.DEMO_PASSWORD in text


@pytest.mark.django_db
def test_it_refuses_to_build_over_existing_areas():
    build()
    with pytest.raises(CommandError):
        run_demo(residents=RESIDENTS, seed=SEED)
    assert Person.objects.count() == RESIDENTS


@pytest.mark.django_db
def test_it_prints_one_json_object_or_a_readable_summary():
    output = run_demo(residents=RESIDENTS, seed=SEED, json=True)
    result = json.loads(output)
    assert set(result) == {"areas", "counts", "users", "testing", "seconds", "stages"}
    # Where a slow build spends its time: residents, users and every module's step, in order.
    stages = result["stages"]
    assert list(stages)[:4] == ["residents", "users", "control", "zones"]
    assert {"testing", "results", "reports", "markets", "supplies", "enterprises", "disinfection"} <= set(stages)
    assert all(seconds >= 0 for seconds in stages.values())
    assert sum(stages.values()) <= result["seconds"] + 0.5
    assert set(result["areas"]) == {"city", "district", "street", "community", "grid"}
    for user in result["users"]:
        assert set(user) == {"username", "password", "role", "area"}
    wipe()
    text = run_demo(residents=RESIDENTS, seed=SEED)
    assert "城关区" in text
    assert "demo_grid" in text and data.DEMO_PASSWORD in text


# -- every module's part: key persons, zones, jobs -----------------------------------------------


def today():
    return timezone.localdate()


def active_rules():
    return Protocol.objects.get(is_active=True).rules


@pytest.fixture
def demo(db):
    return build()


def demo_user(role):
    username = data.DEMO_USERS[role][0]
    return User.objects.get(username=username)


def grid_of(user):
    return user.grants.get().area


@pytest.mark.django_db
def test_it_puts_key_persons_of_every_category_at_every_stage(demo):
    control = demo["counts"]["control"]
    categories = traced_categories(active_rules())
    assert set(categories) <= set(control["categories"])
    assert all(control["categories"][c] > 0 for c in categories)
    assert list(control["stages"]) == list(STAGES)
    assert all(n > 0 for n in control["stages"].values()), control["stages"]
    assert sum(control["stages"].values()) == control["key_persons"] == KeyPerson.objects.count()
    # The grid worker's grid is the showcase: every category is there.
    grid = grid_of(demo_user("grid_worker"))
    in_grid = set(KeyPerson.objects.filter(area=grid).values_list("category", flat=True))
    assert set(categories) <= in_grid


@pytest.mark.django_db
def test_it_plans_every_step_as_the_active_protocol_does(demo):
    protocol = Protocol.objects.get(is_active=True)
    for entry in KeyPerson.objects.prefetch_related("measures"):
        assert entry.protocol == protocol
        steps = sorted(entry.measures.all(), key=lambda m: m.sequence)
        if any(m.status == "released_early" for m in steps):
            continue  # released early from a site: the later steps start at once (decision 0024)
        expected = plans.plan(protocol.rules, entry.category, entry.anchor_date)
        assert [(m.kind, m.start, m.planned_end, m.temps_per_day) for m in steps] == [
            (s.measure, s.start, s.end, s.temps_per_day) for s in expected
        ]
        assert [m.test_dates for m in steps] == [[d.isoformat() for d in s.test_dates] for s in expected]
        assert entry.identified_on <= today()


def history_of(obj):
    return list(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
        ).values_list("source", "target")
    )


@pytest.mark.django_db
def test_it_keeps_step_statuses_consistent_with_their_dates_and_history(demo):
    day = today()
    for entry in KeyPerson.objects.prefetch_related("measures"):
        released = entry.status == KeyPerson.Status.RELEASED
        assert (("open", "released") in history_of(entry)) == released
        steps = sorted(entry.measures.all(), key=lambda m: m.sequence)
        for step in steps:
            # A step ended at its site while the entry runs on: a later step is open (decision 0024).
            later_open = any(m.sequence > step.sequence and m.status in ControlMeasure.OPEN for m in steps)
            moves = history_of(step)
            if step.status == "planned":
                assert step.start > day and not released
            else:
                assert step.start <= day
            if entry.identified_on < step.start <= day:  # started by the daily advance
                assert ("planned", "active") in moves
            if step.status == "completed":
                assert (released or later_open) and step.ended_on == step.planned_end <= day
                assert ("active", "completed") in moves
            if step.status == "released_early":
                assert (released or later_open) and step.start <= step.ended_on <= day
                assert ("active", "released_early") in moves
            if step.status == "hospitalized":
                assert ("active", "hospitalized") in moves and not released
            if released:
                assert step.status in ("completed", "released_early")


@pytest.mark.django_db
def test_it_records_twice_daily_checkins_with_a_few_fevers(demo):
    day, now = today(), timezone.now()
    checkins = list(CheckIn.objects.select_related("measure__key_person"))
    assert checkins
    per_day = collections.Counter()
    for checkin in checkins:
        step = checkin.measure
        taken = timezone.localtime(checkin.taken_at)
        assert checkin.taken_at <= now
        assert (
            max(step.start, step.key_person.identified_on)
            <= taken.date()
            <= min(step.planned_end or day, day)
        )
        per_day[(step.pk, taken.date())] += 1
    steps = {c.measure.pk: c.measure for c in checkins}
    assert all(n <= steps[pk].temps_per_day for (pk, _d), n in per_day.items())
    assert any(n == 2 for n in per_day.values())
    fevers = [c for c in checkins if c.is_fever]
    assert 0 < len(fevers) < len(checkins) / 5
    assert any(timezone.localtime(c.taken_at).date() == day for c in fevers)
    assert demo["counts"]["control"]["fevers"] == len(fevers)


@pytest.mark.django_db
def test_it_leaves_tests_due_today_and_overdue_in_the_grid_workers_lists(demo):
    user = demo_user("grid_worker")
    lists = worklists.lists_for(user, grid_of(user))
    assert all(lists[name] for name in worklists.ALL_LISTS), {n: len(rows) for n, rows in lists.items()}
    yesterday = today() - datetime.timedelta(days=1)
    overdue = lists["overdue"]
    assert any(m.planned_end < today() for m in overdue)  # should have been released
    assert any(yesterday.isoformat() in m.test_dates for m in overdue)  # yesterday's test missing
    for record in control_models.TestRecord.objects.select_related("measure"):
        assert record.measure.start <= record.day <= today()
        assert record.day.isoformat() in record.measure.test_dates


@pytest.mark.django_db
def test_it_draws_zones_of_every_level_with_one_lifting_applied_for(demo):
    levels = active_rules()["zones"]["levels"]
    assert set(levels) <= set(Zone.objects.values_list("level", flat=True))
    applied = Zone.objects.get(status=Zone.Status.APPLIED)
    street = demo_user("street_officer")
    move = Transition.objects.get(content_type__model="zone", object_id=applied.pk)
    assert (move.source, move.target, move.user) == ("active", "applied", street)
    assert not Zone.objects.exclude(status=Zone.Status.ACTIVE).exclude(pk=applied.pk).exists()
    assert Zone.objects.restrict(demo_user("grid_worker"), "view").count() >= 2
    assert demo["counts"]["control"]["zones_lifting"] == 1


@pytest.mark.django_db
def test_it_leaves_finished_import_and_export_jobs_of_demo_users(demo):
    jobs = Job.objects.select_related("user")
    assert {(j.kind, j.user.username) for j in jobs} == {
        ("import", "demo_community"),
        ("export", "demo_community"),
        ("export", "demo_grid"),
    }
    assert {j.status for j in jobs} == {"succeeded"}
    preview, imported = jobs.filter(kind="import").order_by("created")
    assert preview.params["dry_run"] and imported.params["preview"] == str(preview.pk)
    assert imported.result["created"] == data.IMPORT_ROWS and imported.result["rejected"] == 1
    assert all(j.output_file for j in jobs)  # the exports' xlsx, the imports' error reports
    assert KeyPerson.objects.filter(notes=data.ASSISTANCE_NOTE).count() == data.IMPORT_ROWS
    assert demo["counts"]["jobs"] == {"export": {"succeeded": 2}, "import": {"succeeded": 2}}


CONTROL_PAGES = ("control:keyperson_list", "control:today", "control:zone_list")


@pytest.mark.django_db
def test_every_demo_user_with_the_control_pages_sees_rows_on_them(demo, client):
    roles = [r for r in ROLES if "control.view_keyperson" in ROLES[r][1]]
    assert {"grid_worker", "community_officer", "street_officer", "district_commander"} <= set(roles)
    for role in roles:
        user = demo_user(role)
        client.force_login(user)
        entries = KeyPerson.objects.restrict(user, "view").select_related("person")
        zones = Zone.objects.restrict(user, "view").select_related("area")
        assert entries and zones, role
        pages = {name: client.get(reverse(name)) for name in CONTROL_PAGES}
        assert {n: r.status_code for n, r in pages.items()} == dict.fromkeys(CONTROL_PAGES, 200), role
        ledger = pages["control:keyperson_list"].content.decode()
        assert any(e.person.name in ledger for e in entries), role
        today_page = pages["control:today"].content.decode()
        assert 'data-testid="worklist-row"' in today_page or 'data-testid="rollup-row"' in today_page, role
        assert any(z.get_absolute_url() in pages["control:zone_list"].content.decode() for z in zones), role


def ledger_digest():
    """A stable digest of the key persons: who, what, where and every step, dates as days before today."""
    day = today()

    def back(d):
        return None if d is None else (day - d).days

    rows = []
    for entry in KeyPerson.objects.select_related("person", "area").prefetch_related("measures"):
        steps = sorted(
            (m.sequence, m.kind, m.status, back(m.start), back(m.planned_end), back(m.ended_on))
            for m in entry.measures.all()
        )
        rows.append(
            (
                entry.person.doc_number,
                entry.category,
                entry.status,
                entry.area.code,
                back(entry.identified_on),
                back(entry.anchor_date),
                entry.origin,
                entry.notes,
                steps,
                CheckIn.objects.filter(measure__key_person=entry).count(),
                control_models.TestRecord.objects.filter(measure__key_person=entry).count(),
            )
        )
    return hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()


@pytest.mark.django_db
def test_it_makes_the_same_key_persons_and_zones_from_the_same_seed():
    def zones():
        return sorted(Zone.objects.values_list("area__code", "building__name", "level", "status"))

    first = build()
    digest, drawn = ledger_digest(), zones()
    wipe()
    second = build()
    assert ledger_digest() == digest and zones() == drawn
    assert first["counts"]["control"]["stages"] == second["counts"]["control"]["stages"]
    wipe()
    build(seed=SEED + 1)
    assert ledger_digest() != digest


@pytest.mark.django_db
def test_it_lists_what_every_module_holds_in_the_json_and_the_summary(demo):
    control = demo["counts"]["control"]
    assert control["key_persons"] == KeyPerson.objects.count()
    assert control["measures"] == ControlMeasure.objects.count()
    assert control["checkins"] == CheckIn.objects.count()
    assert control["tests"] == control_models.TestRecord.objects.count()
    assert control["zones"] == Zone.objects.count()
    assert control["history_rows"] == Transition.objects.count()
    assert set(control["work_lists"]) == set(worklists.LISTS)
    again = json.loads(run_demo(residents=RESIDENTS, seed=SEED, json=True, if_empty=True))
    assert again["counts"]["control"]["stages"] == control["stages"]
    assert again["counts"]["jobs"] == demo["counts"]["jobs"]
    text = run_demo(residents=RESIDENTS, seed=SEED, if_empty=True)
    assert f"{control['key_persons']} key persons" in text
    assert "zones" in text and "jobs" in text


@pytest.mark.parametrize("code", ["v8", "v9", "twenty"])
def test_it_shapes_a_showcase_under_every_shipped_protocol(code):
    rules = json.loads((PROTOCOLS / f"{code}.json").read_text())
    day = datetime.date(2026, 3, 1)
    planner = Planner(rules, day)
    showcase = planner.showcase(random.Random(1))
    assert {c for c, _s in showcase} == set(traced_categories(rules))
    for category, situation in showcase:
        episode = planner.shaped(random.Random(2), category, situation)
        assert episode.steps == plans.plan(rules, category, episode.anchor)
        if situation in STAGES:
            assert stage_of(episode, day) == situation
        elif situation == "released_early":
            assert stage_of(episode, day) == "released" and episode.early
        else:
            assert fits(episode.steps, day, situation)
    stages = {stage_of(planner.shaped(random.Random(3), c, s), day) for c, s in showcase}
    assert {"centralized", "at_home", "released", "in_hospital", "handed_over", "overdue"} <= stages


@pytest.mark.django_db
def test_it_handles_past_fevers_and_leaves_todays_to_the_work_lists(demo):
    day = today()
    abnormal = CheckIn.objects.filter(ABNORMAL).select_related("measure__key_person")
    assert abnormal
    for checkin in abnormal:
        taken = timezone.localtime(checkin.taken_at).date()
        if taken < day:
            assert checkin.follow_up == "handled" and checkin.outcome and checkin.follow_up_note
            assert checkin.taken_at <= checkin.handled_at <= timezone.now()
            assert history_of(checkin) == [("pending", "handled")]
        else:
            assert checkin.follow_up == "pending" and not history_of(checkin)
    assert demo["counts"]["control"]["abnormal_to_handle"] == abnormal.filter(follow_up="pending").count() > 0


@pytest.mark.django_db
def test_it_hands_entries_over_through_requests_and_leaves_one_waiting(demo):
    moved = KeyPerson.objects.exclude(area=F("person__area"))
    assert moved.exists()
    for entry in moved:
        request = entry.handovers.get()
        assert (request.status, request.to_area_id) == ("accepted", entry.area_id)
        assert history_of(request) == [("", "requested"), ("requested", "accepted")]
        assert f"{request.note}" in entry.notes
    waiting = HandOver.objects.get(status="requested")
    assert waiting.key_person.status == "open" and waiting.from_area == waiting.key_person.area
    assert demo["counts"]["control"]["handovers"]["requested"] == 1


@pytest.mark.django_db
def test_it_dates_each_registration_on_the_day_the_person_was_identified(demo):
    imported = KeyPerson.objects.filter(notes=data.ASSISTANCE_NOTE)
    for entry in KeyPerson.objects.exclude(pk__in=imported):
        assert timezone.localtime(entry.created).date() == entry.identified_on
    for entry in imported:  # through the real pipeline, today
        assert entry.identified_on == today()


@pytest.mark.django_db
def test_it_builds_nothing_without_an_active_protocol():
    Protocol.objects.update(is_active=False)
    message = gettext("No protocol is active. An administrator must choose one.")
    with pytest.raises(CommandError, match=re.escape(message)):
        run_demo(residents=RESIDENTS, seed=SEED)
    assert not Area.objects.exists() and not Person.objects.exists()
