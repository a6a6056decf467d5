"""Hand-over (issue 7, item 8): one rule in the service for pages and API. Into an area the user
holds, the entry moves; elsewhere it is a request the receiving area accepts or returns, with
both sides in the history."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.areas.models import Area, Level
from epigrid.control import services
from epigrid.control.models import HandOver
from tests.scoping import ScopedAPITests, make_person

TODAY = timezone.localdate()


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def entry(cast):
    person = make_person(household=cast.household_a, name="密接甲")
    entry, _created = services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=TODAY - datetime.timedelta(days=2)
    )
    return entry


@pytest.fixture
def far_grid(cast):
    street = Area.objects.create(
        code="620102002000", name="东岗街道", level=Level.STREET, parent=cast.district
    )
    community = Area.objects.create(
        code="620102002001", name="东岗社区", level=Level.COMMUNITY, parent=street
    )
    return Area.objects.create(code="620102002001001", name="第一网格", level=Level.GRID, parent=community)


def test_it_answers_page_and_api_alike_for_an_area_the_grid_worker_does_not_hold(cast, entry, far_grid):
    response = _api(cast.grid_worker).post(
        f"/api/v1/keypersons/{entry.pk}/handover/", {"area": far_grid.code, "note": "搬家"}, format="json"
    )
    assert response.status_code == 202 and response.json()["status"] == "requested"
    entry.refresh_from_db()
    assert entry.area == cast.grid_a  # not moved until the receiving area accepts
    # the page refuses a second request while one waits, with the same rule
    page = cast.client_for(cast.grid_worker).post(f"/control/{entry.pk}/hand-over/", {"area": far_grid.pk})
    assert page.status_code == 302 and entry.handovers.count() == 1


def test_it_moves_at_once_into_an_area_the_user_holds(cast, entry):
    response = _api(cast.community_officer).post(
        f"/api/v1/keypersons/{entry.pk}/handover/", {"area": cast.grid_b.code}, format="json"
    )
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.area == cast.grid_b and not entry.handovers.exists()


def test_the_receiving_area_sees_and_accepts_the_request(cast, entry, django_user_model):
    services.hand_over(entry, cast.grid_b, "搬至9号楼", user=cast.grid_worker)
    receiver = cast.client_for(cast.grid_worker_b)
    html = receiver.get("/control/handovers/").content.decode()
    assert "密接甲" in html and entry.person.doc_number not in html
    assert cast.client_for(cast.grid_worker_b).get("/control/").status_code == 200
    handover = HandOver.objects.get()
    assert (
        _api(cast.grid_worker).get(f"/api/v1/handovers/{handover.pk}/").status_code == 404
    )  # sender: entry page
    response = _api(cast.grid_worker_b).post(f"/api/v1/handovers/{handover.pk}/accept/", {"note": "已接收"})
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    entry.refresh_from_db()
    assert entry.area == cast.grid_b
    history = receiver.get(entry.get_absolute_url()).content.decode()
    assert "搬至9号楼" in history and "已接收" in history  # both sides in the history


def test_the_receiving_area_returns_the_request_with_a_reason(cast, entry):
    handover = services.hand_over(entry, cast.grid_b, "搬家", user=cast.grid_worker)
    client = cast.client_for(cast.grid_worker_b)
    client.post(f"/control/handovers/{handover.pk}/return/", {"note": ""})
    handover.refresh_from_db()
    assert handover.status == "requested"  # a return needs a reason
    client.post(f"/control/handovers/{handover.pk}/return/", {"note": "查无此人"})
    handover.refresh_from_db()
    entry.refresh_from_db()
    assert handover.status == "returned" and entry.area == cast.grid_a
    assert "查无此人" in cast.client_for(cast.grid_worker).get(entry.get_absolute_url()).content.decode()


def test_it_hides_a_request_from_areas_other_than_the_receiver(cast, entry, far_grid):
    handover = services.hand_over(entry, far_grid, "", user=cast.grid_worker)
    assert (
        cast.client_for(cast.grid_worker_b).post(f"/control/handovers/{handover.pk}/accept/").status_code
        == 404
    )
    assert cast.client_for(cast.auditor).get("/control/handovers/").status_code == 200


def test_it_refuses_a_nul_byte_in_the_area_with_400(cast, entry):
    response = _api(cast.grid_worker).post(
        f"/api/v1/keypersons/{entry.pk}/handover/", {"area": "620102\x00"}, format="json"
    )
    assert response.status_code == 400


def test_it_offers_areas_outside_the_users_scope_for_a_hand_over_only(cast, far_grid):
    make_person(household=cast.household_b, name="张外")
    client = cast.client_for(cast.grid_worker)
    assert "东岗" in client.get("/options/areas.area/", {"term": "东岗", "everywhere": "1"}).content.decode()
    assert "东岗" not in client.get("/options/areas.area/", {"term": "东岗"}).content.decode()
    assert (
        "张外"
        not in client.get("/options/people.person/", {"term": "张", "everywhere": "1"}).content.decode()
    )


class TestHandOverAPI(ScopedAPITests):
    """Hand-overs are read through the API and answered by the accept and return actions."""

    model = HandOver
    api_list_url = "/api/v1/handovers/"
    write_action = "accept"

    def make_object(self, cast, grid):
        # An entry of the other grid handed to `grid` by that grid's worker: a request.
        other = cast.grid_b if grid == cast.grid_a else cast.grid_a
        household = cast.household_b if other == cast.grid_b else cast.household_a
        sender = cast.grid_worker_b if other == cast.grid_b else cast.grid_worker
        person = make_person(household=household, name="移交甲")
        entry, _created = services.register_key_person(
            person, "close_contact", other, last_exposure=TODAY - datetime.timedelta(days=2)
        )
        return services.hand_over(entry, grid, "搬家", user=sender)

    def write_data(self, cast, obj):
        return {"note": "已接收"}
