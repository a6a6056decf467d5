"""Resident-services pages and API through the generic scope mixins; the volunteer's binding; the
second request's warning offering to add to the open one; the phone page; exports masked; the
special-groups import with bad rows."""

import io

import pytest
from django.urls import reverse

from epigrid.homeservices import services
from epigrid.homeservices.models import ProactiveCheck, ServiceRequest, SpecialCare
from tests.homeservices_cast import homes
from tests.scoping import ScopedAPITests, ScopedViewTests, assert_no_full_numbers


@pytest.fixture
def h(cast):
    return homes(cast)


class TestRequestPages(ScopedViewTests):
    model = ServiceRequest
    list_url = "/homeservices/"

    def make_object(self, cast, grid):
        return homes(cast).request(grid)

    def list_text(self, obj):
        return f">{obj.pk}</a>"

    def edit_data(self, cast, obj):
        return {"assignee": cast.grid_worker.pk}


class TestRequestAPI(ScopedAPITests):
    model = ServiceRequest
    api_list_url = "/api/v1/service-requests/"
    write_action = "start"

    def make_object(self, cast, grid):
        return homes(cast).request(grid)

    def write_data(self, cast, obj):
        return {}


def _care(cast, grid):
    h = homes(cast)
    worker = cast.grid_worker if grid == cast.grid_a else cast.grid_worker_b
    return services.register_care(worker, h.resident(grid), "elderly_alone")


class TestCarePages(ScopedViewTests):
    model = SpecialCare
    list_url = "/homeservices/special/"

    def make_object(self, cast, grid):
        return _care(cast, grid)

    def list_text(self, obj):
        return obj.person.name

    def edit_data(self, cast, obj):
        return {"person": obj.person.pk, "group": "elderly_alone", "visit_every_days": 2, "active": "on"}


class TestCareAPI(ScopedAPITests):
    model = SpecialCare
    api_list_url = "/api/v1/special-groups/"

    def make_object(self, cast, grid):
        return _care(cast, grid)

    def write_data(self, cast, obj):
        return {"visit_every_days": 3}


class TestCheckAPI(ScopedAPITests):
    model = ProactiveCheck
    api_list_url = "/api/v1/proactive-checks/"
    write_action = "record"

    def make_object(self, cast, grid):
        care = _care(cast, grid)
        homes(cast).seal(grid)
        services.generate_checks()
        return ProactiveCheck.objects.filter(care=care, kind="call").get()

    def write_data(self, cast, obj):
        return {"outcome": "well"}


def test_a_volunteer_sees_only_the_requests_assigned_to_them(cast, h):
    mine = h.assigned()
    other = h.assigned(kind="animals", details={"species": "羊", "count": 5}, to=h.volunteer_b)
    unassigned = h.request(kind="psychological", details={"concern": "焦虑"})
    client = cast.client_for(h.volunteer)
    page = client.get("/homeservices/mine/").content.decode()
    assert f"#{mine.pk} " in page and f"#{other.pk} " not in page
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(unassigned.get_absolute_url()).status_code == 404
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(h.volunteer)
    assert [r["id"] for r in api.get("/api/v1/service-requests/").json()["results"]] == [mine.pk]
    assert_no_full_numbers(page)


def test_the_form_warns_of_an_open_request_and_adds_to_it(cast, h):
    first = h.request()
    client = cast.client_for(cast.grid_worker)
    data = {
        "household": cast.household_a.pk,
        "person": h.resident_a.pk,
        "kind": "shopping",
        "urgency": "normal",
        "source": "phone",
        "shopping__items": "酱油",
        "client_id": "form-1",
    }
    page = client.post("/homeservices/add/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and 'data-testid="open-request-warning"' in page.content.decode()
    assert ServiceRequest.objects.get().additions == 0
    response = client.post("/homeservices/add/", {**data, "add_to_open": "true"})
    assert response.status_code == 302 and response.url == first.get_absolute_url()
    assert client.post("/homeservices/add/", {**data, "add_to_open": "true"}).status_code == 302  # a retry
    first.refresh_from_db()
    assert first.additions == 1 and "酱油" in first.details["items"]
    detail = client.get(first.get_absolute_url()).content.decode()
    assert 'data-testid="additions"' in detail and "酱油" in detail


def test_the_board_shows_open_requests_and_filters_overdue(cast, h):
    import datetime

    from django.utils import timezone

    late = h.request(kind="psychological", details={"concern": "焦虑"})
    ServiceRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    fresh = h.request()
    client = cast.client_for(cast.community_officer)
    page = client.get("/homeservices/").content.decode()
    assert f">{late.pk}</a>" in page and f">{fresh.pk}</a>" in page
    page = client.get("/homeservices/?overdue=true&kind=psychological").content.decode()
    assert f">{late.pk}</a>" in page and f">{fresh.pk}</a>" not in page


def test_the_phone_page_closes_a_request(cast, h):
    req = h.assigned()
    client = cast.client_for(h.volunteer)
    client.post(reverse("homeservices:done", args=[req.pk]), {"note": "已送达门口", "next": "mine"})
    client.post(reverse("homeservices:confirm", args=[req.pk]), {"how": "in_person", "next": "mine"})
    req.refresh_from_db()
    assert req.status == "confirmed" and req.confirmed_by == h.volunteer


def test_exports_mask_phones_for_a_role_without_reveal(cast, h):
    from epigrid.jobs.exports import EXPORTS

    h.request()
    services.register_care(cast.grid_worker, h.resident_a, "elderly_alone")
    for name in ("service-requests", "special-groups"):
        export = EXPORTS[name](cast.grid_worker)
        rows = list(export.rows(export.queryset("")))
        assert rows
        assert_no_full_numbers(repr(rows))


def test_the_special_groups_import_reports_bad_rows(cast, h):
    from epigrid.core.imports import run_import
    from epigrid.homeservices.imports import SpecialCareResource

    csv = (
        "姓名,身份证,类别,预产期,治疗日\n"
        f"{h.resident_a.name},{h.resident_a.doc_number},独居老人,,\n"
        f"{h.resident_a.name},{h.resident_a.doc_number},孕产妇,,\n"
        "某人,11010519491231002X,透析患者,,1,3\n"
        f"{h.resident_a.name},{h.resident_a.doc_number},外星人,,\n"
    )
    resource = SpecialCareResource(cast.community_officer, cast.community)
    result = run_import(resource, io.BytesIO(csv.encode()), "groups.csv", dry_run=False)
    assert result.created == 1 and result.rejected == 3, result.errors
    assert SpecialCare.objects.get().group == "elderly_alone"
    again = run_import(
        SpecialCareResource(cast.community_officer, cast.community),
        io.BytesIO(csv.encode()),
        "groups.csv",
        dry_run=False,
    )
    assert again.unchanged == 1 and SpecialCare.objects.count() == 1
