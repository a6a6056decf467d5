"""Antigen self-tests (issue 10): kits per household, results per person (idempotent, audited),
whole household negative, positive → nucleic-acid follow-up and key-person entry in one
transaction, invalid → retest, completion rates against a brute-force count."""

import datetime
import random
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from epigrid.antigen import services
from epigrid.antigen.models import AntigenFollowUp, AntigenReport, AntigenRound, KitDistribution, Result
from epigrid.areas.models import Building, Household
from epigrid.audit.models import ObjectChange
from epigrid.control.models import KeyPerson, Protocol
from tests.scoping import make_person


def make_round(cast, **fields):
    today = timezone.localdate()
    rnd = AntigenRound.objects.create(
        name=fields.pop("name", "第一轮抗原自测"),
        area=fields.pop("area", cast.district),
        starts_on=today - datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=2),
        results_due_at=timezone.now() + datetime.timedelta(days=1),
        **fields,
    )
    rnd.areas.set([cast.community])
    return rnd


@pytest.fixture
def rnd(cast):
    return make_round(cast)


@pytest.fixture
def family(cast):
    return [make_person(household=cast.household_a, name=n) for n in ("张三", "李四", "王五")]


def changes(obj):
    return ObjectChange.objects.filter(object_id=obj.pk, content_type__model=obj._meta.model_name)


# -- kits ----------------------------------------------------------------------------------------


def test_it_records_kits_once_per_household_and_corrects_on_a_second_hand_out(cast, rnd):
    first, action = services.hand_out(cast.grid_worker, rnd, cast.household_a, 3)
    assert action == "created" and first.kits == 3 and first.area == cast.grid_a
    assert services.hand_out(cast.grid_worker, rnd, cast.household_a, 3)[1] == "unchanged"
    again, action = services.hand_out(cast.grid_worker, rnd, cast.household_a, 4)
    assert (action, again.pk, again.kits) == ("updated", first.pk, 4)
    assert KitDistribution.objects.count() == 1
    assert changes(first).count() == 2  # created, then corrected: both in the change log


def test_it_records_nothing_for_zero_kits_at_a_new_door(cast, rnd):
    assert services.hand_out(cast.grid_worker, rnd, cast.household_a, 0) == (None, "unchanged")
    assert not KitDistribution.objects.exists()


def test_it_refuses_kits_outside_the_round_or_out_of_range(cast, rnd):
    other = make_round(cast, name="别的轮次")
    other.areas.set([cast.grid_b])
    with pytest.raises(ValidationError):
        services.hand_out(cast.grid_worker, other, cast.household_a, 2)
    with pytest.raises(ValidationError):
        services.hand_out(cast.grid_worker, rnd, cast.household_a, 51)


def test_it_hands_out_a_whole_building_in_one_save(cast, rnd):
    second = Household.objects.create(building=cast.building_a, unit="1", room="102")
    outcome = services.hand_out_many(cast.grid_worker, rnd, {cast.household_a: 3, second: 1})
    assert outcome == {"created": 2, "updated": 0, "unchanged": 0}
    assert dict(KitDistribution.objects.values_list("household__room", "kits")) == {"101": 3, "102": 1}


# -- reports -------------------------------------------------------------------------------------


def test_it_reports_once_per_person_and_round_and_audits_a_change(cast, rnd, family):
    person = family[0]
    report, action = services.report(cast.grid_worker, rnd, person, Result.NEGATIVE)
    assert action == "created" and report.area == cast.grid_a and report.household == cast.household_a
    assert services.report(cast.grid_worker, rnd, person, Result.NEGATIVE)[1] == "unchanged"
    changed, action = services.report(cast.grid_worker, rnd, person, Result.INVALID)
    assert (action, changed.pk) == ("updated", report.pk)
    assert AntigenReport.objects.count() == 1
    update = changes(report).filter(action="update").get()
    assert update.prechange_data["result"] == "negative" and update.postchange_data["result"] == "invalid"


def test_an_invalid_result_asks_for_a_retest_until_a_valid_one_replaces_it(cast, rnd, family):
    report, _action = services.report(cast.grid_worker, rnd, family[0], Result.INVALID)
    assert report.retest_state == "requested" and report.retest_requested_at
    assert not AntigenFollowUp.objects.exists()
    report, _action = services.report(cast.grid_worker, rnd, family[0], Result.NEGATIVE)
    assert report.retest_state == "done"


def test_whole_household_negative_keeps_results_already_reported(cast, rnd, family):
    services.report(cast.grid_worker, rnd, family[1], Result.POSITIVE)
    created = services.report_household_negative(cast.grid_worker, rnd, cast.household_a)
    assert {r.person_id for r in created} == {family[0].pk, family[2].pk}
    results = dict(AntigenReport.objects.values_list("person_id", "result"))
    assert results == {family[0].pk: "negative", family[1].pk: "positive", family[2].pk: "negative"}
    assert services.report_household_negative(cast.grid_worker, rnd, cast.household_a) == []


def test_it_refuses_a_test_dated_in_the_future(cast, rnd, family):
    with pytest.raises(ValidationError):
        services.report(
            cast.grid_worker,
            rnd,
            family[0],
            Result.NEGATIVE,
            tested_at=timezone.now() + datetime.timedelta(hours=2),
        )


# -- positive → follow-up and key-person entry ---------------------------------------------------


def test_a_positive_report_opens_a_follow_up_and_a_key_person_entry(cast, rnd, family):
    tested = timezone.now() - datetime.timedelta(hours=3)
    report, _action = services.report(cast.grid_worker, rnd, family[0], Result.POSITIVE, tested_at=tested)
    follow = AntigenFollowUp.objects.get(report=report)
    entry = KeyPerson.objects.get(person=family[0])
    assert follow.status == "open" and follow.key_person == entry and follow.area == cast.grid_a
    assert follow.due_by > timezone.now() + datetime.timedelta(hours=rnd.follow_up_hours - 1)
    assert (entry.category, entry.source, entry.area) == ("suspected", "testing", cast.grid_a)
    assert entry.identified_on == timezone.localtime(tested).date()
    assert entry.measures.exists()  # the protocol's plan came with it
    # Reporting the same positive again changes nothing and opens nothing more.
    assert (
        services.report(cast.grid_worker, rnd, family[0], Result.POSITIVE, tested_at=tested)[1] == "unchanged"
    )
    assert (AntigenFollowUp.objects.count(), KeyPerson.objects.count()) == (1, 1)


def test_a_failing_key_person_registration_leaves_nothing(cast, rnd, family):
    with (
        mock.patch(
            "epigrid.antigen.services.control_services.register_key_person",
            side_effect=ValidationError("boom"),
        ),
        pytest.raises(ValidationError),
    ):
        services.report(cast.grid_worker, rnd, family[0], Result.POSITIVE)
    assert not AntigenReport.objects.exists()
    assert not AntigenFollowUp.objects.exists()
    assert not KeyPerson.objects.exists()


def test_without_an_active_protocol_a_positive_is_refused_whole(cast, rnd, family):
    services.report(cast.grid_worker, rnd, family[0], Result.NEGATIVE)
    Protocol.objects.update(is_active=False)
    with pytest.raises(ValidationError):
        services.report(cast.grid_worker, rnd, family[0], Result.POSITIVE)
    assert AntigenReport.objects.get().result == "negative"  # the earlier result stands
    assert not AntigenFollowUp.objects.exists() and not KeyPerson.objects.exists()


def test_a_corrected_positive_cancels_the_follow_up_and_a_new_positive_reopens_it(cast, rnd, family):
    report, _a = services.report(cast.grid_worker, rnd, family[0], Result.POSITIVE)
    services.report(cast.grid_worker, rnd, family[0], Result.NEGATIVE)
    follow = AntigenFollowUp.objects.get(report=report)
    assert follow.status == "cancelled"
    services.report(cast.grid_worker, rnd, family[0], Result.POSITIVE)
    follow.refresh_from_db()
    assert follow.status == "open"


def test_follow_up_moves_through_its_workflow(cast, rnd, family):
    report, _a = services.report(cast.grid_worker, rnd, family[0], Result.POSITIVE)
    follow = report.follow_up
    with pytest.raises(ValidationError):
        services.set_follow_up(cast.grid_worker, follow, "cancelled", "")  # a cancel says why
    services.set_follow_up(cast.grid_worker, follow, "sampled")
    assert follow.sampled_at
    services.set_follow_up(cast.grid_worker, follow, "done")
    with pytest.raises(ValidationError):
        services.set_follow_up(cast.grid_worker, follow, "open")


def test_a_resident_channel_reports_without_a_worker(cast, rnd, family):
    report, action = services.report(None, rnd, family[0], Result.NEGATIVE, via="resident")
    assert (action, report.via, report.reported_by) == ("created", "resident", None)


# -- completion ----------------------------------------------------------------------------------


def brute_force(rnd, grids):
    rows = {}
    for grid in grids:
        households = list(Household.objects.filter(area=grid))
        kits = {
            d.household_id: d.kits
            for d in KitDistribution.objects.filter(round=rnd, household__in=households)
        }
        reached = [h for h in households if kits.get(h.pk, 0) > 0]
        persons = [p for h in reached for p in h.members.filter(merged_into__isnull=True)]
        reports = list(AntigenReport.objects.filter(round=rnd, area=grid))
        rows[grid.code] = {
            "households": len(households),
            "reached": len(reached),
            "kits": sum(kits.values()),
            "persons": len(persons),
            "reported": len(reports),
            "positive": sum(r.result == "positive" for r in reports),
            "invalid": sum(r.result == "invalid" for r in reports),
            "negative": sum(r.result == "negative" for r in reports),
        }
    return rows


def test_completion_matches_a_brute_force_count(cast, rnd):
    rng = random.Random(5)
    for grid in (cast.grid_a, cast.grid_b):
        for b in range(2):
            building = Building.objects.create(area=grid, name=f"{b + 3}号楼")
            for room in range(4):
                household = Household.objects.create(building=building, unit="1", room=f"{room + 1}01")
                members = [
                    make_person(household=household, name=f"居民{room}{i}") for i in range(rng.randint(0, 3))
                ]
                if rng.random() < 0.7:
                    services.hand_out(None, rnd, household, rng.randint(1, 4))
                for person in members:
                    if rng.random() < 0.6:
                        services.report(
                            None, rnd, person, rng.choice(["negative", "negative", "invalid", "positive"])
                        )
    head, rows = services.completion(rnd, cast.community)
    expected = brute_force(rnd, [cast.grid_a, cast.grid_b])
    for row in rows:
        assert {k: row[k] for k in expected[row["code"]]} == expected[row["code"]], row["code"]
    for key in ("households", "reached", "kits", "persons", "reported", "positive", "invalid"):
        assert head[key] == sum(e[key] for e in expected.values())
    # Inside a grid, per building and per household the same figures add up to the grid's.
    for grid in (cast.grid_a, cast.grid_b):
        per_building = services.building_completion(rnd, grid)
        assert sum(r["reported"] for r in per_building) == expected[grid.code]["reported"]
        assert sum(r["kits"] for r in per_building) == expected[grid.code]["kits"]
        for row in per_building:
            building = Building.objects.get(pk=row["key"])
            per_household = services.building_completion(rnd, grid, building)
            assert sum(r["persons"] for r in per_household) == row["persons"]
    assert head["completion"] == round(100 * head["reported"] / max(head["persons"], head["reported"]), 1)


def test_a_positive_to_arrange_heads_the_grid_workers_today_page(client, cast, rnd, family):
    """core.panels.TODAY: the follow-up is on /control/today/ for the grid worker who must act,
    not for the worker of another grid; once sampled-and-done it is off the page."""
    report, _action = services.report(cast.grid_worker, rnd, family[0], Result.POSITIVE)
    follow = AntigenFollowUp.objects.get(report=report)
    client.force_login(cast.grid_worker)
    page = client.get("/control/today/").content.decode()
    assert 'data-testid="follow-up-row"' in page and f"/antigen/followups/{follow.pk}/" in page
    client.force_login(cast.grid_worker_b)
    assert 'data-testid="follow-up-row"' not in client.get("/control/today/").content.decode()
    services.set_follow_up(cast.grid_worker, follow, AntigenFollowUp.Status.DONE)
    client.force_login(cast.grid_worker)
    assert 'data-testid="follow-up-row"' not in client.get("/control/today/").content.decode()
