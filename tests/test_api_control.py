"""The key-person ledger over the API: scope, masking, search-before-create registration,
descriptive updates, the state-changing actions and their refusals, check-ins."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.control import services
from epigrid.control.models import CheckIn, ControlMeasure, KeyPerson, Protocol
from tests.scoping import ScopedAPITests, make_person

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _entry(cast, grid, exposure=None, category="close_contact", name="密接甲"):
    exposure = exposure or TODAY - 3 * DAY
    household = cast.household_a if grid == cast.grid_a else cast.household_b
    person = make_person(household=household, name=name, phone="+8613812345678")
    entry, _created = services.register_key_person(person, category, grid, last_exposure=exposure)
    return entry


class TestKeyPersonAPI(ScopedAPITests):
    model = KeyPerson
    api_list_url = "/api/v1/keypersons/"

    def make_object(self, cast, grid):
        return _entry(cast, grid)

    def write_data(self, cast, obj):
        return {"notes": "每日随访"}


class TestControlMeasureAPI(ScopedAPITests):
    """Measures are read-only; their writes are the actions, probed here instead of PATCH."""

    model = ControlMeasure
    api_list_url = "/api/v1/measures/"

    def make_object(self, cast, grid):
        return _entry(cast, grid).measures.get(sequence=1)

    def write_data(self, cast, obj):
        return {"days": 1, "reason": "复核阳性"}

    def test_it_hides_another_grids_object_from_the_api(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = self.api_client(cast.grid_worker_b)
        assert obj.pk not in [row["id"] for row in client.get(self.api_list_url).json()["results"]]
        assert client.get(self.detail(obj)).status_code == 404
        response = client.post(f"{self.detail(obj)}extend/", self.write_data(cast, obj), format="json")
        assert response.status_code == 404

    def test_it_refuses_api_changes_from_a_read_only_role(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = self.api_client(cast.auditor)
        assert client.get(self.detail(obj)).status_code == 200
        response = client.post(f"{self.detail(obj)}extend/", self.write_data(cast, obj), format="json")
        assert response.status_code == 403
        assert client.patch(self.detail(obj), {"kind": "home_isolation"}, format="json").status_code == 405


class TestCheckInAPI(ScopedAPITests):
    model = CheckIn
    api_list_url = "/api/v1/checkins/"

    def make_object(self, cast, grid):
        measure = _entry(cast, grid).measures.get(sequence=1)
        return CheckIn.objects.create(measure=measure, taken_at=timezone.now(), temperature="36.5")

    def write_data(self, cast, obj):
        return {"temperature": "36.6"}


# -- the ledger -----------------------------------------------------------------------------------


@pytest.fixture
def person(cast):
    return make_person(household=cast.household_a, name="来返乙", phone="+8613912345678")


def register(client, person, **data):
    payload = {"person": person.pk, "category": "close_contact", "last_exposure": str(TODAY - DAY), **data}
    return client.post("/api/v1/keypersons/", payload, format="json")


def test_it_masks_the_person_in_list_and_detail(cast):
    entry = _entry(cast, cast.grid_a)
    client = _api(cast.grid_worker)
    for url in ("/api/v1/keypersons/", f"/api/v1/keypersons/{entry.pk}/"):
        response = client.get(url)
        assert entry.person.doc_number not in response.content.decode()
        assert "13812345678" not in response.content.decode()
    body = client.get(f"/api/v1/keypersons/{entry.pk}/").json()
    assert (body["person_doc_number"], body["person_phone"]) == (
        entry.person.masked_doc_number,
        "138****5678",
    )


def test_it_registers_with_a_plan_under_the_active_protocol(cast, person):
    response = register(_api(cast.grid_worker), person, origin="上海", grid_worker="王五")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["already_registered"], body["protocol"], body["area"], body["status"]) == (
        False,
        "v9",
        cast.grid_a.code,
        "open",
    )
    assert [(m["kind"], m["start"], m["planned_end"]) for m in body["measures"]] == [
        ("centralized", str(TODAY), str(TODAY + 6 * DAY)),
        ("home_monitoring", str(TODAY + 7 * DAY), str(TODAY + 9 * DAY)),
    ]
    assert person.doc_number not in response.content.decode()


def test_it_answers_200_with_the_open_entry_instead_of_a_second_one(cast, person):
    client = _api(cast.grid_worker)
    first = register(client, person).json()
    response = register(client, person, category="fever")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["already_registered"]) == (first["id"], True)
    assert KeyPerson.objects.count() == 1


def test_it_answers_409_without_data_when_the_open_entry_is_out_of_scope(cast, person):
    entry, _ = services.register_key_person(person, "close_contact", cast.grid_a)
    services.hand_over(entry, cast.grid_b, "搬家")
    response = register(_api(cast.grid_worker), person)
    assert response.status_code == 409 and list(response.json()) == ["detail"]
    assert KeyPerson.objects.count() == 1


def test_it_refuses_a_category_the_active_protocol_no_longer_manages(cast, person):
    services.activate(Protocol.objects.get(code="twenty"))
    response = register(_api(cast.grid_worker), person, category="secondary_contact")
    assert response.status_code == 400 and list(response.json()) == ["category"]
    assert not KeyPerson.objects.exists()


def test_it_refuses_an_area_outside_the_users_scope(cast, person):
    response = register(_api(cast.grid_worker), person, area=cast.grid_b.code)
    assert response.status_code == 400 and "area" in response.json()
    assert not KeyPerson.objects.exists()


def test_it_refuses_registration_to_a_role_that_may_not_add(cast, person):
    assert register(_api(cast.auditor), person).status_code == 403


def test_it_updates_descriptive_fields_and_refuses_replanning_ones(cast):
    entry = _entry(cast, cast.grid_a)
    client, url = _api(cast.grid_worker), f"/api/v1/keypersons/{entry.pk}/"
    response = client.patch(url, {"doctor": "赵六", "arrival": str(TODAY - 5 * DAY)}, format="json")
    assert response.status_code == 200, response.json()
    for change in ({"category": "fever"}, {"last_exposure": str(TODAY)}, {"area": cast.grid_b.code}):
        response = client.patch(url, change, format="json")
        assert response.status_code == 400 and list(response.json()) == list(change)
    entry.refresh_from_db()
    assert (entry.doctor, entry.category, entry.last_exposure) == ("赵六", "close_contact", TODAY - 3 * DAY)


def test_it_accepts_a_get_then_put_unchanged(cast):
    entry = _entry(cast, cast.grid_a)
    client, url = _api(cast.grid_worker), f"/api/v1/keypersons/{entry.pk}/"
    data = client.get(url).json()
    response = client.put(url, {**data, "notes": "已随访"}, format="json")
    assert response.status_code == 200, response.json()


def test_it_refuses_release_while_a_step_runs_and_releases_when_over(cast):
    running = _entry(cast, cast.grid_a)
    client = _api(cast.grid_worker)
    response = client.post(f"/api/v1/keypersons/{running.pk}/release/", {"note": "x"}, format="json")
    assert response.status_code == 400 and response.json()["non_field_errors"]
    over = _entry(cast, cast.grid_a, exposure=TODAY - 20 * DAY, name="期满丁")
    response = client.post(f"/api/v1/keypersons/{over.pk}/release/", {"note": "期满解除"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "released"
    again = client.post(f"/api/v1/keypersons/{over.pk}/release/", {}, format="json")
    assert again.status_code == 400 and again.json()["non_field_errors"]


def test_it_hands_an_entry_over_and_refuses_a_released_one(cast):
    entry = _entry(cast, cast.grid_a)
    client = _api(cast.community_officer)
    response = client.post(
        f"/api/v1/keypersons/{entry.pk}/handover/",
        {"area": cast.grid_b.code, "note": "搬至9号楼"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["area"] == cast.grid_b.code
    assert _api(cast.grid_worker).get(f"/api/v1/keypersons/{entry.pk}/").status_code == 404
    over = _entry(cast, cast.grid_a, exposure=TODAY - 20 * DAY, name="期满丁")
    services.release(over)
    response = client.post(
        f"/api/v1/keypersons/{over.pk}/handover/", {"area": cast.grid_b.code}, format="json"
    )
    assert response.status_code == 400 and response.json()["non_field_errors"]


def test_it_refuses_an_action_to_a_read_only_role(cast):
    entry = _entry(cast, cast.grid_a)
    response = _api(cast.auditor).post(f"/api/v1/keypersons/{entry.pk}/release/", {}, format="json")
    assert response.status_code == 403


# -- measures -------------------------------------------------------------------------------------


def test_it_extends_a_measure_and_moves_the_next_step(cast):
    entry = _entry(cast, cast.grid_a)
    first = entry.measures.get(sequence=1)
    response = _api(cast.grid_worker).post(
        f"/api/v1/measures/{first.pk}/extend/", {"days": 2, "reason": "第5天阳性复核"}, format="json"
    )
    assert response.status_code == 200 and response.json()["planned_end"] == str(first.planned_end + 2 * DAY)
    assert entry.measures.get(sequence=2).start == first.planned_end + 3 * DAY


def test_it_asks_for_a_reason_and_sane_days_to_extend(cast):
    first = _entry(cast, cast.grid_a).measures.get(sequence=1)
    client = _api(cast.grid_worker)
    for data in ({"days": 2, "reason": ""}, {"days": 0, "reason": "复核"}, {"days": 2, "reason": "  "}):
        assert client.post(f"/api/v1/measures/{first.pk}/extend/", data, format="json").status_code == 400


def test_it_releases_a_running_step_early_and_refuses_a_planned_one(cast):
    entry = _entry(cast, cast.grid_a)
    client = _api(cast.grid_worker)
    planned = entry.measures.get(sequence=2)
    response = client.post(
        f"/api/v1/measures/{planned.pk}/release-early/", {"reason": "专家评估"}, format="json"
    )
    assert response.status_code == 400 and response.json()["non_field_errors"]
    active = entry.measures.get(sequence=1)
    response = client.post(
        f"/api/v1/measures/{active.pk}/release-early/", {"reason": "专家评估"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "released_early"


def test_it_filters_measures_by_status(cast):
    entry = _entry(cast, cast.grid_a)
    rows = _api(cast.grid_worker).get("/api/v1/measures/?status=active").json()["results"]
    assert [row["id"] for row in rows] == [entry.measures.get(sequence=1).pk]


# -- check-ins ------------------------------------------------------------------------------------


def test_it_records_a_check_in_for_the_recording_user(cast):
    measure = _entry(cast, cast.grid_a).measures.get(sequence=1)
    response = _api(cast.grid_worker).post(
        "/api/v1/checkins/", {"measure": measure.pk, "temperature": "37.5", "symptoms": "咳嗽"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["recorded_by"], response.json()["is_fever"]) == ("grid_worker", True)


@pytest.mark.parametrize("temperature", ["33.9", "43.1", "365", "abc", "36.55"])
def test_it_refuses_an_impossible_temperature(cast, temperature):
    measure = _entry(cast, cast.grid_a).measures.get(sequence=1)
    response = _api(cast.grid_worker).post(
        "/api/v1/checkins/", {"measure": measure.pk, "temperature": temperature}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["temperature"]
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("temperature", ["34.0", "43.0"])
def test_it_accepts_the_bounds_of_the_temperature(cast, temperature):
    measure = _entry(cast, cast.grid_a).measures.get(sequence=1)
    response = _api(cast.grid_worker).post(
        "/api/v1/checkins/", {"measure": measure.pk, "temperature": temperature}, format="json"
    )
    assert response.status_code == 201


def test_it_refuses_a_check_in_for_a_measure_that_is_over(cast):
    measure = _entry(cast, cast.grid_a).measures.get(sequence=1)
    services.release_early(measure, "专家评估")
    response = _api(cast.grid_worker).post(
        "/api/v1/checkins/", {"measure": measure.pk, "temperature": "36.5"}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["measure"]


def test_it_refuses_a_check_in_for_a_measure_out_of_scope(cast):
    measure = _entry(cast, cast.grid_a).measures.get(sequence=1)
    response = _api(cast.grid_worker_b).post(
        "/api/v1/checkins/", {"measure": measure.pk, "temperature": "36.5"}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["measure"]


def test_it_lists_check_ins_of_one_measure(cast):
    first = _entry(cast, cast.grid_a).measures.get(sequence=1)
    second = _entry(cast, cast.grid_a, name="密接戊").measures.get(sequence=1)
    for measure in (first, second):
        CheckIn.objects.create(measure=measure, taken_at=timezone.now(), temperature="36.5")
    rows = _api(cast.grid_worker).get(f"/api/v1/checkins/?measure={first.pk}").json()["results"]
    assert [row["measure"] for row in rows] == [first.pk]


def test_it_clears_an_assistance_request_through_the_api(cast):
    import datetime

    from django.utils import timezone
    from rest_framework.test import APIClient

    from epigrid.control import services as control_services
    from tests.scoping import make_person

    person = make_person(household=cast.household_a, name="协查人")
    entry, _ = control_services.register_key_person(
        person,
        "close_contact",
        cast.grid_a,
        last_exposure=timezone.localdate(),
        source="assistance",
        assistance_received_at=timezone.now() - datetime.timedelta(hours=30),
    )
    client = APIClient()
    client.force_authenticate(cast.grid_worker)
    response = client.post(
        f"/api/v1/keypersons/{entry.pk}/assistance-cleared/", {"note": "已回函"}, format="json"
    )
    entry.refresh_from_db()
    assert response.status_code == 200 and entry.assistance_cleared_at is not None
