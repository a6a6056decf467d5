"""Isolation API: scoping through the generic mixins, availability in the site answers and the
total, and the moves (allocate, check-in, check-out, transfer, clean) through the services."""

import pytest
from rest_framework.test import APIClient

from epigrid.control import services as control_services
from epigrid.isolation import services
from epigrid.isolation.models import Room, Site, Stay
from tests.isolation_cast import isolation
from tests.scoping import ScopedAPITests


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def iso(cast):
    return isolation(cast)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestSiteAPIForStaff(ScopedAPITests):
    model = Site
    api_list_url = "/api/v1/isolation-sites/"
    viewer = "staff_a"
    outsider = "staff_b"
    unrevealing = "staff_a"

    def make_object(self, cast, grid):
        return isolation(cast).site(grid)

    def write_data(self, cast, obj):
        return {"capacity": 30}


class TestSiteAPIForOfficials(TestSiteAPIForStaff):
    viewer = "official_a"
    outsider = "official_b"
    unrevealing = "official_a"


class TestRoomAPI(ScopedAPITests):
    model = Room
    api_list_url = "/api/v1/isolation-rooms/"
    viewer = "staff_a"
    outsider = "staff_b"
    unrevealing = "staff_a"

    def make_object(self, cast, grid):
        return isolation(cast).room(grid)

    def write_data(self, cast, obj):
        return {"beds": 2}


class TestStayAPI(ScopedAPITests):
    model = Stay
    api_list_url = "/api/v1/isolation-stays/"
    viewer = "staff_a"
    outsider = "staff_b"
    unrevealing = "staff_a"
    write_action = "check-in"

    def make_object(self, cast, grid):
        iso = isolation(cast)
        return services.allocate(cast.admin, iso.person(grid), iso.room(grid))

    def write_data(self, cast, obj):
        return {}


def test_a_site_answers_its_availability_and_the_list_its_total(cast, iso):
    site = iso.site(capacity=10)
    services.allocate(cast.commander, iso.person(), iso.room())
    row = api(cast.commander).get(f"/api/v1/isolation-sites/{site.pk}/").json()
    assert (row["capacity"], row["occupied"], row["allocated"], row["available"], row["free_rooms"]) == (
        10,
        0,
        1,
        9,
        3,
    )
    total = api(cast.commander).get("/api/v1/isolation-sites/availability/").json()
    assert total["total"]["available"] == 9 and total["sites"][0]["name"] == site.name


def test_it_allocates_checks_in_transfers_and_checks_out(cast, iso):
    person = iso.person()
    entry, _created = control_services.register_key_person(person, "close_contact", cast.grid_a)
    client = api(iso.staff_a)
    answer = client.post(
        "/api/v1/isolation-stays/allocate/",
        {"person": person.pk, "room": iso.room().pk, "key_person": entry.pk},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    stay = answer.json()
    assert stay["status"] == "allocated" and stay["measure"] and "*" in stay["person_doc_number"]
    answer = client.post(f"/api/v1/isolation-stays/{stay['id']}/check-in/", {}, format="json")
    assert answer.json()["status"] == "checked_in"
    answer = client.post(
        f"/api/v1/isolation-stays/{stay['id']}/transfer/", {"room": iso.room(number="102").pk}, format="json"
    )
    moved = answer.json()
    assert answer.status_code == 200 and moved["room_number"] == "102" and moved["status"] == "checked_in"
    # Before the step's planned end only as an early release, with its reason.
    answer = client.post(f"/api/v1/isolation-stays/{moved['id']}/check-out/", {"note": "解除"}, format="json")
    assert answer.status_code == 400 and "early release" in str(answer.json())
    answer = client.post(
        f"/api/v1/isolation-stays/{moved['id']}/check-out/",
        {"early_reason": "核酸复核排除密接"},
        format="json",
    )
    assert answer.json()["status"] == "checked_out" and answer.json()["home_step"]
    room = iso.room(number="102")
    assert (
        client.post(f"/api/v1/isolation-rooms/{room.pk}/clean/", {}, format="json").json()["status"] == "free"
    )


def test_a_taken_room_is_a_400_with_the_reason(cast, iso):
    room = iso.room()
    services.allocate(iso.staff_a, iso.person(), room)
    answer = api(iso.staff_a).post(
        "/api/v1/isolation-stays/allocate/", {"person": iso.person().pk, "room": room.pk}, format="json"
    )
    assert answer.status_code == 400 and "one person a room" in str(answer.json())


def test_a_room_of_another_site_cannot_be_chosen(cast, iso):
    answer = api(iso.staff_b).post(
        "/api/v1/isolation-stays/allocate/",
        {"person": iso.person(cast.grid_b).pk, "room": iso.room(cast.grid_a).pk},
        format="json",
    )
    assert answer.status_code == 400 and "room" in answer.json()
    assert not Stay.objects.exists()


def test_a_read_only_role_cannot_allocate(cast, iso):
    answer = api(cast.auditor).post(
        "/api/v1/isolation-stays/allocate/", {"person": iso.person().pk, "room": iso.room().pk}, format="json"
    )
    assert answer.status_code == 403


def test_the_room_status_is_not_written_directly(cast, iso):
    room = iso.room()
    api(cast.commander).patch(f"/api/v1/isolation-rooms/{room.pk}/", {"status": "cleaning"}, format="json")
    assert Room.objects.get(pk=room.pk).status == "free"


def test_a_room_does_not_move_to_another_site(cast, iso):
    room = iso.room()
    other = iso.site(cast.grid_b)
    answer = api(cast.commander).patch(
        f"/api/v1/isolation-rooms/{room.pk}/", {"site": other.pk}, format="json"
    )
    assert answer.status_code == 400 and "site" in answer.json()
    assert Room.objects.get(pk=room.pk).site_id == room.site_id
