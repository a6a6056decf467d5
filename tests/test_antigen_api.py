"""Antigen API: scope through the generic mixins, the idempotent batch report, kits POSTed twice,
completion by area, follow-up moves."""

import pytest
from rest_framework.test import APIClient

from epigrid.antigen import services
from epigrid.antigen.models import AntigenFollowUp, AntigenReport, AntigenRound, KitDistribution
from epigrid.control.models import KeyPerson
from tests.scoping import ScopedAPITests, make_person
from tests.test_antigen_services import make_round


def _round(cast):
    return AntigenRound.objects.first() or make_round(cast)


def _household(cast, grid):
    return cast.household_a if grid == cast.grid_a else cast.household_b


class TestAntigenRoundAPI(ScopedAPITests):
    model = AntigenRound
    api_list_url = "/api/v1/antigen-rounds/"
    viewer = "commander"
    outsider = "grid_worker_b"
    unrevealing = "grid_worker"

    def make_object(self, cast, grid):
        rnd = make_round(cast, area=grid, name=f"{grid.name}轮次")
        rnd.areas.set([grid])
        return rnd

    def write_data(self, cast, obj):
        return {"name": "改名"}

    def test_it_refuses_api_changes_from_a_read_only_role(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = self.api_client(cast.commander)
        assert client.get(self.detail(obj)).status_code == 200
        assert client.patch(self.detail(obj), {"name": "x"}, format="json").status_code == 403


class TestKitDistributionAPI(ScopedAPITests):
    model = KitDistribution
    api_list_url = "/api/v1/antigen-kits/"

    def make_object(self, cast, grid):
        return services.hand_out(None, _round(cast), _household(cast, grid), 2)[0]

    def write_data(self, cast, obj):
        return {"kits": 3}


class TestAntigenReportAPI(ScopedAPITests):
    model = AntigenReport
    api_list_url = "/api/v1/antigen-reports/"
    read_only = True

    def make_object(self, cast, grid):
        person = make_person(household=_household(cast, grid), name="赵六", phone="+8613812345678")
        return services.report(None, _round(cast), person, "negative")[0]

    def write_data(self, cast, obj):
        return {"result": "positive"}


class TestAntigenFollowUpAPI(ScopedAPITests):
    model = AntigenFollowUp
    api_list_url = "/api/v1/antigen-followups/"
    write_action = "sampled"

    def make_object(self, cast, grid):
        person = make_person(household=_household(cast, grid), name="钱七", phone="+8613812345679")
        return services.report(None, _round(cast), person, "positive")[0].follow_up

    def write_data(self, cast, obj):
        return {"note": "已采样"}


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def rnd(cast):
    return make_round(cast)


def test_the_batch_is_idempotent_per_person_and_round(cast, rnd):
    a, b = (make_person(household=cast.household_a, name=n) for n in ("甲", "乙"))
    outsider = make_person(household=cast.household_b, name="丙")
    batch = {
        "reports": [
            {"round": rnd.pk, "person": a.pk, "result": "negative"},
            {"round": rnd.pk, "person": b.pk, "result": "positive", "tested_at": "2000-01-01T08:00:00+08:00"},
            {"round": rnd.pk, "person": b.pk, "result": "positive"},
            {"round": rnd.pk, "person": outsider.pk, "result": "negative"},
            {"round": rnd.pk, "person": a.pk, "result": "maybe"},
        ]
    }
    client = client_for(cast.grid_worker)
    first = client.post("/api/v1/antigen-reports/batch/", batch, format="json")
    assert first.status_code == 200
    statuses = [o["status"] for o in first.json()["outcomes"]]
    assert statuses == ["created", "refused", "created", "refused", "refused"]
    second = client.post("/api/v1/antigen-reports/batch/", batch, format="json").json()["outcomes"]
    assert [o["status"] for o in second] == ["unchanged", "refused", "unchanged", "refused", "refused"]
    assert AntigenReport.objects.count() == 2
    assert AntigenFollowUp.objects.count() == 1 and KeyPerson.objects.filter(person=b).count() == 1


def test_the_batch_refuses_what_is_not_a_batch(cast, rnd):
    client = client_for(cast.grid_worker)
    assert client.post("/api/v1/antigen-reports/batch/", {"reports": []}, format="json").status_code == 400
    assert (
        client_for(cast.commander)
        .post("/api/v1/antigen-reports/batch/", {"reports": [{"round": rnd.pk}]}, format="json")
        .status_code
        == 403
    )


def test_posting_the_same_household_again_corrects_its_kits(cast, rnd):
    client = client_for(cast.grid_worker)
    data = {"round": rnd.pk, "household": cast.household_a.pk, "kits": 2}
    assert client.post("/api/v1/antigen-kits/", data, format="json").status_code == 201
    again = client.post("/api/v1/antigen-kits/", {**data, "kits": 5}, format="json")
    assert again.status_code == 200 and again.json()["kits"] == 5
    assert KitDistribution.objects.get().kits == 5
    refused = client_for(cast.grid_worker_b).post("/api/v1/antigen-kits/", data, format="json")
    assert refused.status_code == 400  # the household is not among grid B's choices


def test_completion_by_area(cast, rnd):
    person = make_person(household=cast.household_a, name="丁")
    services.hand_out(None, rnd, cast.household_a, 1)
    services.report(None, rnd, person, "positive")
    data = (
        client_for(cast.commander)
        .get(f"/api/v1/antigen-rounds/{rnd.pk}/completion/?area={cast.community.code}")
        .json()
    )
    assert (data["reported"], data["positive"], data["kits"]) == (1, 1, 1)
    assert {c["code"]: c["reported"] for c in data["children"]} == {cast.grid_a.code: 1, cast.grid_b.code: 0}
    assert (
        client_for(cast.grid_worker_b)
        .get(f"/api/v1/antigen-rounds/{rnd.pk}/completion/?area={cast.grid_a.code}")
        .status_code
        == 404
    )


def test_a_follow_up_is_moved_through_the_api(cast, rnd):
    person = make_person(household=cast.household_a, name="戊")
    follow = services.report(None, rnd, person, "positive")[0].follow_up
    client = client_for(cast.grid_worker)
    assert client.post(f"/api/v1/antigen-followups/{follow.pk}/cancel/", {}, format="json").status_code == 400
    answer = client.post(f"/api/v1/antigen-followups/{follow.pk}/done/", {"note": "单管阴性"}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "done"
