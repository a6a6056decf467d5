"""Passes over the API: the generic scope tests for passes and uses, issuing, the scan action
(recorded answers, refusals as answers, retries by client id) and gate staff bound to their gates."""

import uuid

import pytest
from rest_framework.test import APIClient

from epigrid.passes import codes
from epigrid.passes.models import HouseholdPass, PassUse
from tests.scoping import ScopedAPITests, assert_no_full_numbers, make_person
from tests.test_passes_cast import local, passes


@pytest.fixture
def ps(cast):
    return passes(cast)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _household(cast, grid):
    return cast.household_b if grid == cast.grid_b else cast.household_a


class TestHouseholdPassAPI(ScopedAPITests):
    model = HouseholdPass
    api_list_url = "/api/v1/passes/"
    viewer = "community_officer"
    outsider = "other_officer"
    unrevealing = "auditor"
    write_action = "revoke"

    def make_object(self, cast, grid):
        return passes(cast).household_pass(_household(cast, grid))

    def write_data(self, cast, obj):
        return {"reason": "卡片遗失"}


class TestPassUseAPI(ScopedAPITests):
    model = PassUse
    api_list_url = "/api/v1/pass-uses/"
    viewer = "community_officer"
    outsider = "other_officer"
    unrevealing = "auditor"
    read_only = True

    def make_object(self, cast, grid):
        ps = passes(cast)
        hp = ps.household_pass(_household(cast, grid))
        person = ps.neighbour if grid == cast.grid_b else ps.mother
        return ps.scan(hp, person, at=local(2026, 3, 2, 8, 0)).use

    def write_data(self, cast, obj):
        return {"direction": "return"}


def test_the_api_issues_for_a_zone_idempotently(cast, ps):
    client = api(cast.community_officer)
    first = client.post("/api/v1/passes/issue-zone/", {"zone": ps.zone.pk}, format="json")
    assert first.status_code == 200 and len(first.json()["issued"]) == 2
    again = client.post("/api/v1/passes/issue-zone/", {"zone": ps.zone.pk}, format="json").json()
    assert again == {"issued": [], "kept": 2}
    assert api(cast.checkpoint).post("/api/v1/passes/issue-zone/", {"zone": ps.zone.pk}).status_code == 403


def test_the_api_issues_a_special_pass_for_a_named_person(cast, ps):
    response = api(cast.community_officer).post(
        "/api/v1/passes/issue/",
        {"household": cast.household_a.pk, "kind": "staff", "holder": ps.mother.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["holder_doc_number"] != ps.mother.doc_number and body["persons_per_window"] is None
    refused = api(cast.community_officer).post(
        "/api/v1/passes/issue/", {"household": cast.household_a.pk, "kind": "staff"}, format="json"
    )
    assert refused.status_code == 400


def test_the_scan_action_records_once_per_client_id(cast, ps):
    hp = ps.household_pass()
    body = {
        "code": codes.make_code(hp),
        "person": ps.mother.pk,
        "direction": "exit",
        "checkpoint": ps.gate.pk,
        "client_id": str(uuid.uuid4()),
        "at": local(2026, 3, 2, 8, 0).isoformat(),
    }
    client = api(cast.checkpoint)
    first = client.post("/api/v1/pass-uses/scan/", body, format="json")
    assert first.status_code == 201 and first.json()["allowed"] is True, first.json()
    again = client.post("/api/v1/pass-uses/scan/", body, format="json")
    assert (
        again.status_code == 200 and again.json()["replayed"] and again.json()["use"] == first.json()["use"]
    )
    refused = client.post(
        "/api/v1/pass-uses/scan/",
        {**body, "person": ps.son.pk, "client_id": str(uuid.uuid4())},
        format="json",
    )
    assert refused.status_code == 201 and refused.json()["reason"] == "quota_used"
    assert refused.json()["next_window"] == "2026-03-03"
    assert_no_full_numbers(refused.content.decode())


def test_gate_staff_scan_only_at_their_gate_through_the_api(cast, ps):
    hp = ps.household_pass()
    body = {
        "code": codes.make_code(hp),
        "person": ps.mother.pk,
        "direction": "exit",
        "checkpoint": ps.gate_b.pk,
    }
    assert api(cast.checkpoint).post("/api/v1/pass-uses/scan/", body, format="json").status_code in (400, 403)
    assert api(cast.community_officer).post("/api/v1/pass-uses/scan/", body, format="json").status_code == 403


def test_an_unknown_code_is_an_answer_not_an_error(cast, ps):
    body = {"code": "EPP1:9.1:nope", "person": ps.mother.pk, "direction": "exit", "checkpoint": ps.gate.pk}
    response = api(cast.checkpoint).post("/api/v1/pass-uses/scan/", body, format="json")
    assert response.status_code == 200 and response.json()["reason"] == "unknown"


def test_the_scan_action_refuses_a_person_or_checkpoint_the_gate_does_not_see(cast, ps):
    hp = ps.household_pass()
    stranger = make_person(household=ps.other_household, name="外人")
    body = {"code": codes.make_code(hp), "person": stranger.pk, "direction": "exit", "checkpoint": ps.gate.pk}
    client = api(cast.checkpoint)
    response = client.post("/api/v1/pass-uses/scan/", body, format="json")
    assert response.status_code == 400 and "person" in response.json()
    response = client.post("/api/v1/pass-uses/scan/", {**body, "person": 10**9}, format="json")
    assert response.status_code == 400 and "person" in response.json()
    response = client.post("/api/v1/pass-uses/scan/", {**body, "person": ps.mother.pk, "checkpoint": 10**9}, format="json")
    assert response.status_code == 400 and "checkpoint" in response.json()
    assert not PassUse.objects.exists()
