"""The enterprises API: the generic scope tests for every endpoint; the application workflow with a
refusal; an employee added by document (unknown → 400 with what to do); a gate reading recorded
as measured by the caller; the contact phone masked in every answer."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.core.identity import make_resident_id
from epigrid.enterprises import services
from epigrid.enterprises.models import Application, Employee, Enterprise, PPEStock, TemperatureReading
from tests.enterprises_cast import ANSWERS, works
from tests.scoping import ScopedAPITests

S = Application.Status


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def w(cast):
    return works(cast)


class TestEnterpriseAPI(ScopedAPITests):
    model = Enterprise
    api_list_url = "/api/v1/enterprises/"

    def make_object(self, cast, grid):
        return works(cast).enterprise(grid)

    def write_data(self, cast, obj):
        return {"industry": "建材"}


class TestEmployeeAPI(ScopedAPITests):
    model = Employee
    api_list_url = "/api/v1/enterprise-employees/"
    read_only = True

    def make_object(self, cast, grid):
        w = works(cast)
        return w.employee(w.enterprise(grid))

    def write_data(self, cast, obj):
        return {"department": "x"}


class TestApplicationAPI(ScopedAPITests):
    model = Application
    api_list_url = "/api/v1/enterprise-applications/"
    write_action = "submit"

    def make_object(self, cast, grid):
        w = works(cast)
        return w.draft(w.enterprise(grid))

    def write_data(self, cast, obj):
        return {}


class TestTemperatureAPI(ScopedAPITests):
    model = TemperatureReading
    api_list_url = "/api/v1/enterprise-temperatures/"
    read_only = True

    def make_object(self, cast, grid):
        w = works(cast)
        return services.record_temperature(cast.admin, w.employee(w.enterprise(grid)), "36.4")

    def write_data(self, cast, obj):
        return {"temperature": "36.0"}


class TestPPEStockAPI(ScopedAPITests):
    model = PPEStock
    api_list_url = "/api/v1/enterprise-ppe/"
    read_only = True

    def make_object(self, cast, grid):
        return services.set_ppe(None, works(cast).enterprise(grid), "mask", 100, 2)

    def write_data(self, cast, obj):
        return {"stock": "1"}


def test_the_workflow_through_the_api_with_a_refusal(cast, w):
    w.ready()
    contact, officer = api(w.contact), api(cast.community_officer)
    response = contact.post(
        "/api/v1/enterprise-applications/",
        {
            "enterprise": w.a.pk,
            "planned_start": timezone.localdate().isoformat(),
            "prevention_plan": "测温消杀",
            "emergency_plan": "隔离报告",
            "commitment": True,
            "commitment_by": "王经理",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert contact.post(f"/api/v1/enterprise-applications/{pk}/submit/").json()["status"] == "submitted"
    assert (
        contact.post(f"/api/v1/enterprise-applications/{pk}/approve/", {}, format="json").status_code == 403
    )
    assert (
        officer.post(
            f"/api/v1/enterprise-applications/{pk}/approve/", {"note": "错峰"}, format="json"
        ).json()["status"]
        == "conditional"
    )
    refused = officer.post(
        f"/api/v1/enterprise-applications/{pk}/refuse/", {"reason": "隔离室未落实"}, format="json"
    ).json()
    assert refused["status"] == "refused" and refused["refused_in"] == "conditional"
    assert officer.post(f"/api/v1/enterprise-applications/{pk}/permit/", {}, format="json").status_code == 400


def test_an_employee_is_added_by_document_and_an_unknown_one_is_a_400(cast, w):
    client = api(w.contact)
    response = client.post(
        f"/api/v1/enterprises/{w.a.pk}/employees/", {"doc_number": w.worker.doc_number}, format="json"
    )
    assert response.status_code == 201 and response.json()["doc_number"] == w.worker.masked_doc_number
    unknown = make_resident_id("620102", datetime.date(1993, 4, 5), 555)
    response = client.post(
        f"/api/v1/enterprises/{w.a.pk}/employees/",
        {"doc_number": unknown},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "not in the resident registry" in str(response.json())
    assert (
        api(w.contact_b)
        .post(f"/api/v1/enterprises/{w.a.pk}/employees/", {"doc_number": w.worker.doc_number}, format="json")
        .status_code
        == 404
    )


def test_a_gate_reading_through_the_api_is_measured_by_the_caller(cast, w):
    employee = w.employee()
    response = api(w.contact).post(
        f"/api/v1/enterprise-employees/{employee.pk}/temperature/", {"temperature": "37.4"}, format="json"
    )
    assert (
        response.status_code == 201
        and response.json()["measured_by"] == "contact_a"
        and response.json()["fever"]
    )
    card = api(w.contact).post(
        f"/api/v1/enterprise-employees/{employee.pk}/card/", {"answers": ANSWERS}, format="json"
    )
    assert card.status_code == 200 and card.json()["protocol"] == "v9"


def test_the_contact_phone_is_masked_in_the_api(cast, w):
    body = api(cast.community_officer).get(f"/api/v1/enterprises/{w.a.pk}/").json()
    assert body["masked_contact_phone"] == "139****5678" and "contact_phone" not in body


def test_ppe_counted_through_the_api_gives_days_of_cover(cast, w):
    w.employee()
    response = api(w.contact).post(
        f"/api/v1/enterprises/{w.a.pk}/ppe/", {"item": "mask", "stock": "5", "daily_use": "2"}, format="json"
    )
    assert response.status_code == 200 and response.json()["days_of_cover"] == "2.5"
    short = api(cast.community_officer).get("/api/v1/enterprises/?ppe_short=true").json()["results"]
    assert [row["id"] for row in short] == [w.a.pk]


def test_the_contact_cannot_patch_the_phase_through_the_api(cast, w):
    assert api(w.contact).patch(f"/api/v1/enterprises/{w.a.pk}/", {"phase": None}, format="json").status_code == 403
    assert api(w.contact).patch(f"/api/v1/enterprises/{w.a.pk}/", {"industry": "建材"}, format="json").status_code == 200
