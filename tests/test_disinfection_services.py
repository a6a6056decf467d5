"""Disinfection services (decision 0036): round generation by site type × zone level × times a day
and its idempotence, live coverage by area, completion with a photo, trips handed over, terminal
disinfection from a case's addresses with the notices, and two generators at once on PostgreSQL."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from epigrid.control import services as control
from epigrid.disinfection import services
from epigrid.disinfection.models import Round, Task, Terminal, Trip, Vehicle
from epigrid.tracing import services as tracing
from tests.disinfection_cast import disinfection, png
from tests.scoping import make_person


@pytest.fixture
def d(cast):
    return disinfection(cast)


def test_it_generates_one_round_per_period_with_a_task_per_matching_site(cast, d):
    bins = [d.site(cast.grid_a), d.site(cast.grid_b)]
    d.site(cast.grid_a, site_type="toilet")
    d.rule(site_type="bin", per_day=2)
    rounds, created = d.generate()
    assert sorted(r.period for r in rounds) == [1, 2]
    assert created == 4
    for rnd in rounds:
        assert set(rnd.tasks.values_list("site_id", flat=True)) == {s.pk for s in bins}
        assert rnd.team == d.team_a and rnd.site_type == "bin"


def test_it_matches_sites_to_the_rule_of_the_zone_level_over_them(cast, d):
    plain, sealed = d.site(cast.grid_a), d.site(cast.grid_b)
    level = control.active_protocol().rules["zones"]["levels"][0]
    control.draw_zone(cast.grid_b, level, timezone.localdate())
    no_zone = d.rule(site_type="bin", per_day=1)
    zoned = d.rule(site_type="bin", zone_level=level, per_day=3)
    d.generate()
    assert set(Task.objects.filter(round__rule=no_zone).values_list("site_id", flat=True)) == {plain.pk}
    assert set(Task.objects.filter(round__rule=zoned).values_list("site_id", flat=True)) == {sealed.pk}
    assert Round.objects.filter(rule=zoned).count() == 3


def test_generating_twice_adds_nothing(cast, d):
    d.site(cast.grid_a)
    d.rule(site_type="bin", per_day=2)
    first, created = d.generate()
    again, created_again = d.generate()
    assert created == 2 and created_again == 0
    assert {r.pk for r in first} == {r.pk for r in again}
    assert Task.objects.count() == 2 and Round.objects.count() == 2


def test_a_new_site_joins_todays_round_on_the_next_generation(cast, d):
    d.site(cast.grid_a)
    d.rule(site_type="bin")
    d.generate()
    d.site(cast.grid_b)
    _rounds, created = d.generate()
    assert created == 1 and Round.objects.count() == 1 and Task.objects.count() == 2


def test_only_a_planner_generates(cast, d):
    d.rule(site_type="bin")
    with pytest.raises(PermissionDenied):
        services.generate_rounds(cast.grid_worker, cast.community, timezone.localdate())
    with pytest.raises(PermissionDenied):
        services.generate_rounds(cast.leader, cast.community, timezone.localdate())


def test_coverage_counts_done_over_due_by_child_area(cast, d):
    a1, _a2, _b1 = d.site(cast.grid_a), d.site(cast.grid_a), d.site(cast.grid_b)
    d.rule(site_type="bin")
    (rnd,), _n = d.generate()
    d.complete(rnd.tasks.get(site=a1))
    rows, total = services.coverage(cast.commander, [rnd.pk], cast.community)
    by_area = {r["area"].pk: (r["done"], r["due"], r["pct"]) for r in rows}
    assert by_area == {cast.grid_a.pk: (1, 2, 50.0), cast.grid_b.pk: (0, 1, 0.0)}
    assert (total["done"], total["due"], total["pct"]) == (1, 3, 33.3)
    # A grid worker counts their own grid only.
    _rows, own = services.coverage(cast.grid_worker, [rnd.pk], cast.community)
    assert (own["done"], own["due"]) == (1, 2)


def test_the_daily_reports_live_figures_count_the_days_rounds_in_the_units_subtree(cast, d):
    """A community's daily report may carry "sites due / done on the day" (reports.live): the
    tasks of that day's rounds under the unit, not another day's nor another community's."""
    from epigrid.reports.live import REGISTRY

    a1, _a2, _b1 = d.site(cast.grid_a), d.site(cast.grid_a), d.site(cast.grid_b)
    d.rule(site_type="bin")
    (rnd,), _n = d.generate()
    d.complete(rnd.tasks.get(site=a1))
    due, done = REGISTRY["disinfection_due"][1], REGISTRY["disinfection_done"][1]
    assert (due(cast.community, rnd.date), done(cast.community, rnd.date)) == (3, 1)
    assert (due(cast.grid_a, rnd.date), done(cast.grid_a, rnd.date)) == (2, 1)
    assert (due(cast.grid_b, rnd.date), done(cast.grid_b, rnd.date)) == (1, 0)
    yesterday = rnd.date - datetime.timedelta(days=1)
    assert (due(cast.community, yesterday), done(cast.community, yesterday)) == (0, 0)


def test_round_counts_are_one_group_by_for_a_page_of_rounds(cast, d, django_assert_num_queries):
    d.site(cast.grid_a)
    d.rule(site_type="bin", per_day=3)
    rounds, _n = d.generate()
    d.complete(rounds[0].tasks.get())
    cast.commander.scope_paths("disinfection.view_task")  # the grants, read once per user
    with django_assert_num_queries(1):
        counts = services.round_counts(cast.commander, [r.pk for r in rounds])
    assert sorted(counts.values()) == [(1, 0), (1, 0), (1, 1)]


def test_completing_needs_a_photo_and_keeps_the_evidence(cast, d):
    task = d.task()
    with pytest.raises(ValidationError):
        d.complete(task, photo=None)
    fake = SimpleUploadedFile("x.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError):
        d.complete(task, photo=fake)
    task.refresh_from_db()
    assert task.status == Task.Status.DUE and not task.photo
    done = d.complete(task, latitude="36.061", longitude="103.834", area_treated_m2="10")
    assert done.status == Task.Status.DONE and done.operator == cast.leader and done.photo
    assert (done.concentration, done.contact_minutes, str(done.latitude)) == (1000, 30, "36.061000")


def test_a_retry_by_the_same_operator_changes_nothing_and_another_is_refused(cast, d):
    task = d.task()
    first = d.complete(task)
    again = d.complete(task, concentration=500)
    assert again.done_at == first.done_at and again.concentration == 1000
    with pytest.raises(ValidationError):
        d.complete(task, user=cast.community_officer)


def test_a_leader_completes_only_their_teams_tasks(cast, d):
    task = d.task(team="b")
    with pytest.raises(PermissionDenied):
        d.complete(task, user=cast.leader)
    assert d.complete(task, user=cast.other_leader).status == Task.Status.DONE


def test_concentration_and_contact_time_are_checked(cast, d):
    task = d.task()
    with pytest.raises(ValidationError):
        d.complete(task, concentration=0)
    with pytest.raises(ValidationError):
        d.complete(task, contact_minutes="", photo=png())
    with pytest.raises(ValidationError):
        d.complete(task, disinfectant=" ")


def _vehicle(cast, d, kind="garbage_large"):
    return Vehicle.objects.create(area=cast.community, plate="甘A12345", kind=kind, team=d.team_a)


def test_a_waste_trip_is_handed_over_once_with_both_sides_recorded(cast, d):
    trip = services.record_trip(
        cast.leader, _vehicle(cast, d), started_at=timezone.now(), waste_kind="household", tonnage="2.5"
    )
    assert trip.tonnage == 2.5 and trip.area == cast.community and not trip.handed_over
    done = services.hand_over(cast.leader, trip, received_by="李明", received_unit="转运站")
    assert done.handed_by == cast.leader and done.handed_at and done.received_by == "李明"
    assert services.hand_over(cast.leader, trip, received_by="李明").handed_at == done.handed_at
    with pytest.raises(ValidationError):
        services.hand_over(cast.leader, trip, received_by="王五")
    with pytest.raises(ValidationError):
        services.hand_over(cast.leader, trip, received_by="")


def test_tonnage_is_needed_for_waste_and_a_spray_trip_is_not_handed_over(cast, d):
    vehicle = _vehicle(cast, d, "spray")
    with pytest.raises(ValidationError):
        services.record_trip(cast.leader, vehicle, started_at=timezone.now(), waste_kind="medical", tonnage=0)
    spray = services.record_trip(cast.leader, vehicle, started_at=timezone.now())
    with pytest.raises(ValidationError):
        services.hand_over(cast.leader, spray, received_by="李明")


def test_another_teams_leader_records_no_trip_of_the_vehicle(cast, d):
    with pytest.raises(PermissionDenied):
        services.record_trip(cast.other_leader, _vehicle(cast, d), started_at=timezone.now())
    assert not Trip.objects.exists()


def _case(cast):
    person = make_person(household=cast.household_a, name="病例")
    case, _ = tracing.open_case(None, person, sampled_on=timezone.localdate(), positive_at=timezone.now())
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    tracing.add_stop(None, case, date=yesterday, place="惠民超市", address="九州大道12号")
    tracing.add_stop(None, case, date=yesterday, place="惠民超市", address="九州大道12号")
    tracing.add_stop(None, case, date=timezone.localdate(), stayed_home=True)
    return case


def test_the_tracing_service_gives_a_cases_home_and_places_once_each(cast):
    case = _case(cast)
    found = tracing.case_addresses(case)
    assert [(a["kind"], a["area"]) for a in found] == [("home", cast.grid_a), ("place", case.area)]
    assert "1号楼" in found[0]["address"] and found[1]["address"] == "惠民超市 九州大道12号"


def test_terminal_disinfection_is_planned_from_a_case_once_and_goes_through_the_notices(cast, d):
    case = _case(cast)
    terminals, created = services.plan_terminal(cast.commander, case, team=d.team_a)
    assert len(created) == 2 and {t.kind for t in terminals} == {"home", "place"}
    _again, created_again = services.plan_terminal(cast.commander, case, team=d.team_a)
    assert created_again == [] and Terminal.objects.count() == 2
    home = next(t for t in terminals if t.kind == "home")
    with pytest.raises(ValidationError):  # the residents are told first
        services.record_terminal(
            cast.leader, home, disinfectant="含氯消毒剂", concentration=1000, contact_minutes=60
        )
    home = services.notify(cast.leader, home)
    assert home.status == "notified" and home.notified_by == cast.leader and home.notified_at
    home = services.record_terminal(
        cast.leader,
        home,
        disinfectant="含氯消毒剂",
        concentration=1000,
        contact_minutes=60,
        area_treated_m2="85",
    )
    assert home.status == "disinfected" and home.operator == cast.leader
    home = services.post_notice(cast.leader, home)
    assert home.status == "closed" and home.posted_by == cast.leader and home.posted_at
    assert services.post_notice(cast.leader, home).posted_at == home.posted_at  # repeated: unchanged


def test_another_teams_leader_cannot_work_a_terminal_disinfection(cast, d):
    terminals, _ = services.plan_terminal(cast.commander, _case(cast), team=d.team_a)
    with pytest.raises(PermissionDenied):
        services.notify(cast.other_leader, terminals[0])


@pytest.mark.django_db(transaction=True)
def test_two_generators_at_once_write_each_task_once(cast):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    d = disinfection(cast)
    for n in range(30):
        d.site(cast.grid_a if n % 2 else cast.grid_b)
    d.rule(site_type="bin", per_day=2)
    errors, barrier = [], threading.Barrier(2)

    def run(user):
        try:
            barrier.wait()
            services.generate_rounds(user, cast.community, timezone.localdate())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in (cast.community_officer, cast.street_officer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Round.objects.count() == 2 and Task.objects.count() == 60
