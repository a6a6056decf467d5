"""Lab results over the API: the batch (idempotent per tube and result), corrections, scoping through
the generic mixins (lab A's staff vs lab B's, the commander), turnaround at the boundary, a tube's
persons and a person's latest result with its validity."""

import datetime

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from epigrid.control.models import Protocol
from epigrid.results.models import ResultCorrection, TubeResult
from epigrid.testing.models import Sample
from tests.scoping import ScopedAPITests, assert_no_full_numbers
from tests.test_results_helpers import lab


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def rl(cast):
    return lab(cast)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _result(cast, grid):
    rl = lab(cast)
    (tube,) = rl.delivered(grid)
    is_b = grid == cast.grid_b
    rl.record(
        tube,
        "阴性",
        user=rl.tp.lab_user_b if is_b else rl.tp.lab_user,
        lab=rl.tp.lab_b if is_b else rl.tp.lab_a,
    )
    return TubeResult.objects.get(tube=tube)


class _ResultAPI(ScopedAPITests):
    model = TubeResult
    api_list_url = "/api/v1/results/"
    write_action = "correct"

    def make_object(self, cast, grid):
        return _result(cast, grid)

    def write_data(self, cast, obj):
        return {"result": "positive", "reason": "复核为阳性"}


class TestResultAPIForLabs(_ResultAPI):
    """A result of lab A is seen by lab A's staff, not by lab B's (both granted the district)."""

    viewer = "lab_user"
    outsider = "lab_user_b"
    unrevealing = "lab_user"
    readonly_user = "commander"


class TestResultAPIForTheCommandCentre(_ResultAPI):
    viewer = "commander"
    outsider = "lab_user_b"
    unrevealing = "lab_user"
    readonly_user = "auditor"


def test_the_batch_is_idempotent_per_tube_and_result(rl):
    tubes = rl.delivered(tubes=3)
    body = {
        "lab": "laba",
        "results": [
            {"barcode": tubes[0].barcode, "result": "阴性", "ct_orf1ab": None},
            {"barcode": tubes[1].barcode, "result": "混阳", "ct_orf1ab": 34.5, "ct_n": "35"},
            {"barcode": tubes[2].barcode, "result": "invalid", "tested_at": timezone.now().isoformat()},
            {"barcode": "NOSUCH01", "result": "阴性"},
        ],
    }
    first = api(rl.tp.lab_user).post("/api/v1/results/batch/", body, format="json")
    assert first.status_code == 200, first.content
    assert [o["status"] for o in first.json()["outcomes"]] == ["created", "created", "created", "refused"]
    again = api(rl.tp.lab_user).post("/api/v1/results/batch/", body, format="json").json()
    assert [o["status"] for o in again["outcomes"]] == ["unchanged", "unchanged", "unchanged", "refused"]
    assert TubeResult.objects.count() == 3


def test_the_batch_refuses_what_is_not_a_batch_and_labs_that_are_not_yours(cast, rl):
    client = api(rl.tp.lab_user)
    assert client.post("/api/v1/results/batch/", {"results": []}, format="json").status_code == 400
    assert (
        client.post("/api/v1/results/batch/", {"lab": "LABA", "results": "x"}, format="json").status_code
        == 400
    )
    assert (
        client.post("/api/v1/results/batch/", {"lab": "LABB", "results": []}, format="json").status_code
        == 404
    )
    assert (
        api(cast.commander)
        .post("/api/v1/results/batch/", {"lab": "LABA", "results": []}, format="json")
        .status_code
        == 403
    )
    assert (
        api(rl.tp.courier)
        .post("/api/v1/results/batch/", {"lab": "LABA", "results": []}, format="json")
        .status_code
        == 403
    )


def test_a_correction_over_the_api_needs_a_reason_and_is_listed(rl):
    obj = _result(rl.cast, rl.cast.grid_a)
    client = api(rl.tp.lab_user)
    assert (
        client.post(f"/api/v1/results/{obj.pk}/correct/", {"result": "positive"}, format="json").status_code
        == 400
    )
    answer = client.post(
        f"/api/v1/results/{obj.pk}/correct/", {"result": "positive", "reason": "复核阳性"}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["result"] == "positive"
    assert answer.json()["corrections"][0]["reason"] == "复核阳性"
    client.post(
        f"/api/v1/results/{obj.pk}/correct/", {"result": "positive", "reason": "复核阳性"}, format="json"
    )
    assert ResultCorrection.objects.count() == 1


def test_samplers_and_grid_workers_do_not_list_results(cast, rl):
    _result(cast, cast.grid_a)
    assert api(rl.tp.rnd.sampler).get("/api/v1/results/").status_code == 403
    assert api(cast.grid_worker).get("/api/v1/results/").status_code == 403


# Turnaround


def _timed(rl, hours_after_sampling, target=12):
    (tube,) = rl.delivered()
    tube.campaign.turnaround_hours = target
    tube.campaign.save()
    sampled = timezone.now() - datetime.timedelta(hours=30)
    tube.__class__.objects.filter(pk=tube.pk).update(opened_at=sampled)
    rl.record(
        tube, "阴性", reported_at=(sampled + datetime.timedelta(hours=hours_after_sampling)).isoformat()
    )
    return tube


def test_turnaround_counts_a_report_exactly_at_the_target_on_time_and_a_second_later_late(cast, rl):
    _timed(rl, 12)
    _timed(rl, 12 + 1 / 3600)
    _timed(rl, 6)
    (tube,) = rl.delivered()
    rl.record(tube, "待检")  # pending: not counted
    rows = api(cast.commander).get("/api/v1/results/turnaround/?by=campaign").json()
    (row,) = rows
    assert (row["results"], row["on_time"], row["late"]) == (3, 2, 1)
    assert row["median_hours"] == 12.0
    assert 11.9 < row["p90_hours"] <= 12.01
    by_lab = api(rl.tp.lab_user).get("/api/v1/results/turnaround/?by=lab").json()
    assert [r["name"] for r in by_lab] == ["市疾控中心实验室"]
    assert api(cast.commander).get("/api/v1/results/turnaround/?by=x").status_code == 400


# A tube's persons


def test_a_tubes_persons_come_with_household_grid_worker_and_masked_phone(cast, rl):
    (tube,) = rl.delivered(persons=3)
    Sample.objects.filter(tube=tube).first().person.__class__.objects.filter(
        pk__in=Sample.objects.filter(tube=tube).values("person_id")
    ).update(phone="+8613812345678")
    answer = api(cast.community_officer).get(f"/api/v1/tubes/{tube.barcode}/persons/")
    assert answer.status_code == 200
    data = answer.json()
    assert len(data["persons"]) == 3
    first = data["persons"][0]
    assert first["phone"] == "138****5678"
    assert first["building"] == "1号楼" and first["room"] == "101"
    assert first["grid"] == {"code": cast.grid_a.code, "name": "九州社区·第一网格"}
    assert first["grid_workers"] == [{"username": "grid_worker", "name": "grid_worker"}]
    assert "*" in first["doc_number"]
    assert_no_full_numbers(answer.content.decode())


def test_a_tubes_persons_are_those_the_user_may_see(cast, rl):
    (tube,) = rl.delivered(persons=2)
    assert api(cast.grid_worker).get(f"/api/v1/tubes/{tube.barcode}/persons/").status_code == 200
    assert api(cast.grid_worker_b).get(f"/api/v1/tubes/{tube.barcode}/persons/").status_code == 404
    assert api(rl.tp.lab_user).get(f"/api/v1/tubes/{tube.barcode}/persons/").status_code == 403
    assert api(cast.commander).get("/api/v1/tubes/NOSUCH/persons/").status_code == 404


def test_a_tubes_persons_take_two_queries(cast, rl, django_assert_num_queries):
    from epigrid.results.services import tube_persons

    (tube,) = rl.delivered(persons=9)
    with django_assert_num_queries(2):
        assert len(tube_persons(tube)) == 9


# A person's latest result and its validity


def _sampled(rl, hours_ago, result="阴性"):
    (tube,) = rl.delivered()
    sample = Sample.objects.get(tube=tube)
    when = timezone.now() - datetime.timedelta(hours=hours_ago)
    Sample.objects.filter(pk=sample.pk).update(scanned_at=when)
    tube.__class__.objects.filter(pk=tube.pk).update(opened_at=when)
    rl.record(tube, result)
    return sample.person, when


def _latest(user, person):
    answer = api(user).get(f"/api/v1/persons/{person.pk}/latest-result/")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_a_negative_is_valid_48_hours_from_sampling_inclusive(cast, rl):
    Protocol.objects.update(is_active=False)
    person, when = _sampled(rl, hours_ago=47)
    latest = _latest(cast.grid_worker, person)["latest"]
    assert (latest["status"], latest["valid"], latest["validity_hours"]) == ("negative", True, 48)
    from epigrid.results import services

    sample_time = Sample.objects.get(person=person).scanned_at
    exactly = services.latest_result(person, now=sample_time + datetime.timedelta(hours=48))
    just_after = services.latest_result(person, now=sample_time + datetime.timedelta(hours=48, seconds=1))
    assert exactly["valid"] is True and just_after["valid"] is False


def test_the_protocol_may_set_72_hours(cast, rl):
    Protocol.objects.update(is_active=False)
    Protocol.objects.create(
        code="t72",
        name="72h",
        short_name="72h",
        published=datetime.date(2022, 6, 1),
        rules={"result_validity_hours": 72},
        is_active=True,
    )
    person, _when = _sampled(rl, hours_ago=60)
    latest = _latest(cast.grid_worker, person)["latest"]
    assert (latest["validity_hours"], latest["valid"]) == (72, True)


def test_a_pooled_positive_is_pending_retest_never_negative(cast, rl):
    person, _when = _sampled(rl, hours_ago=1, result="混管阳性")
    data = _latest(cast.grid_worker, person)
    assert data["latest"]["status"] == "pending_retest" and data["latest"]["valid"] is False
    assert data["name"].count("*") >= 1


def test_a_persons_latest_result_is_scoped_through_the_person(cast, rl):
    person, _when = _sampled(rl, hours_ago=1)
    assert api(cast.grid_worker_b).get(f"/api/v1/persons/{person.pk}/latest-result/").status_code == 404
    assert api(rl.tp.rnd.sampler).get(f"/api/v1/persons/{person.pk}/latest-result/").status_code == 403
    assert _latest(cast.commander, person)["latest"]["result"] == "negative"


def test_a_person_without_a_result_has_none(cast):
    from tests.scoping import make_person

    person = make_person(household=cast.household_a)
    assert _latest(cast.grid_worker, person)["latest"] is None
