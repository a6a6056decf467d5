"""Assistance API: scoping through the generic mixins, receiving a request with its persons,
adding persons, and the answers (found/, not-here/, assign/) through the services — the same
answer again answers 200 and changes nothing; numbers always masked."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.control.models import KeyPerson
from tests.scoping import ScopedAPITests, make_person
from tests.test_assistance_cast import assist, outsider_id, row_of


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def aid(cast):
    return assist(cast)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestRequestAPI(ScopedAPITests):
    model = AssistRequest
    api_list_url = "/api/v1/assist-requests/"
    viewer = "assist_a"
    outsider = "assist_b"
    unrevealing = "auditor"

    def make_object(self, cast, grid):
        person = make_person(household=cast.household_a if grid == cast.grid_a else cast.household_b)
        return assist(cast).request(area=grid, rows=[row_of(person)])

    def write_data(self, cast, obj):
        return {"notes": "电话已确认"}


class TestPersonAPI(ScopedAPITests):
    model = AssistPerson
    api_list_url = "/api/v1/assist-persons/"
    write_action = "found"

    def make_object(self, cast, grid):
        person = make_person(household=cast.household_a if grid == cast.grid_a else cast.household_b)
        return assist(cast).row(grid=grid, person=person)

    def write_data(self, cast, obj):
        return {}


def test_it_receives_a_request_with_its_persons(cast, aid):
    number = outsider_id()
    response = api(cast.commander).post(
        "/api/v1/assist-requests/",
        {
            "requester": "西安市疫情防控指挥部",
            "reference": "西协〔2022〕12号",
            "in_province": False,
            "received_at": timezone.now().isoformat(),
            "area": cast.district.code,
            "persons": [
                {"name": "外地人", "doc_number": number, "phone": "13812345678", "category": "close_contact"}
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["total"], body["answered"], body["overdue"]) == (1, 0, False)
    assert AssistPerson.objects.get().phone == "+8613812345678"
    again = api(cast.commander).post(
        "/api/v1/assist-requests/",
        {
            "requester": "西安市疫情防控指挥部",
            "reference": "西协〔2022〕12号",
            "received_at": timezone.now().isoformat(),
            "area": cast.district.code,
        },
        format="json",
    )
    assert again.status_code == 400 and AssistRequest.objects.count() == 1


def test_a_bad_person_refuses_the_whole_request(cast, aid):
    response = api(cast.commander).post(
        "/api/v1/assist-requests/",
        {
            "requester": "西安市",
            "reference": "西协〔2022〕13号",
            "received_at": timezone.now().isoformat(),
            "area": cast.district.code,
            "persons": [{"name": "错号", "doc_number": "360426199101010072", "category": "close_contact"}],
        },
        format="json",
    )
    assert response.status_code == 400 and "doc_number" in str(response.json())
    assert not AssistRequest.objects.exists()


def test_persons_are_added_and_the_same_document_again_is_that_row(cast, aid):
    request = aid.request()
    rows = [{"name": "补录", "doc_number": outsider_id(), "category": "secondary_contact"}]
    first = api(cast.commander).post(f"/api/v1/assist-requests/{request.pk}/persons/", rows, format="json")
    second = api(cast.commander).post(f"/api/v1/assist-requests/{request.pk}/persons/", rows, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()[0]["id"] == second.json()[0]["id"] and request.persons.count() == 1


def test_found_through_the_api_is_idempotent(cast, aid):
    person = make_person(household=cast.household_a)
    row = aid.row(person=person)
    client = api(cast.grid_worker)
    first = client.post(f"/api/v1/assist-persons/{row.pk}/found/", {"note": "已核实"}, format="json")
    second = client.post(f"/api/v1/assist-persons/{row.pk}/found/", {}, format="json")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json() and first.json()["status"] == "found"
    assert KeyPerson.objects.filter(person=person, source="assistance").count() == 1


def test_not_here_and_a_contradicting_answer(cast, aid):
    row = aid.row()
    client = api(cast.grid_worker)
    response = client.post(
        f"/api/v1/assist-persons/{row.pk}/not-here/",
        {"status": "no_such_person", "note": "查无此人"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "no_such_person"
    refused = client.post(f"/api/v1/assist-persons/{row.pk}/found/", {}, format="json")
    assert refused.status_code == 400 and "answered already" in str(refused.json())


def test_assign_moves_a_row_into_a_grid(cast, aid):
    request = aid.request(rows=[row_of(name="外地人")])
    row = request.persons.get()
    response = api(cast.commander).post(
        f"/api/v1/assist-persons/{row.pk}/assign/", {"area": cast.grid_a.code}, format="json"
    )
    assert response.status_code == 200 and response.json()["area"] == cast.grid_a.code
    assert row.pk in [r["id"] for r in api(cast.grid_worker).get("/api/v1/assist-persons/").json()["results"]]


def test_the_api_masks_numbers_of_persons_not_registered(cast, aid):
    number = outsider_id()
    row = aid.row(doc_number=number, phone="+8613987654321")
    body = api(cast.commander).get(f"/api/v1/assist-persons/{row.pk}/").content.decode()
    assert number not in body and "13987654321" not in body
