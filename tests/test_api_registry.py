"""Scope and permission rules of the registry API, through the generic mixin, plus the rules
the area, building and household endpoints add."""

from rest_framework.test import APIClient

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Area, Building, Household
from epigrid.people.models import Person
from tests.scoping import ScopedAPITests, make_person


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestAreaAPI(ScopedAPITests):
    model = Area
    api_list_url = "/api/v1/areas/"

    def make_object(self, cast, grid):
        return grid

    def write_data(self, cast, obj):
        return {"name": obj.name + "（改）"}


class TestBuildingAPI(ScopedAPITests):
    model = Building
    api_list_url = "/api/v1/buildings/"

    def make_object(self, cast, grid):
        return Building.objects.create(area=grid, name="测试楼")

    def write_data(self, cast, obj):
        return {"address": "九州大道1号"}


class TestHouseholdAPI(ScopedAPITests):
    model = Household
    api_list_url = "/api/v1/households/"

    def make_object(self, cast, grid):
        building = Building.objects.create(area=grid, name="测试楼")
        return Household.objects.create(building=building, unit="3", room="303")

    def write_data(self, cast, obj):
        return {"room": "304"}


class TestPersonAPI(ScopedAPITests):
    model = Person
    api_list_url = "/api/v1/persons/"

    def make_object(self, cast, grid):
        household = cast.household_a if grid == cast.grid_a else cast.household_b
        return make_person(household=household, name="李四")

    def write_data(self, cast, obj):
        return {"name": "李四四"}


def test_it_refers_to_areas_by_code(cast):
    response = _api(cast.grid_worker).post(
        "/api/v1/buildings/", {"area": cast.grid_a.code, "name": "2号楼"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["area"] == cast.grid_a.code


def test_it_refuses_an_area_code_outside_the_users_scope(cast):
    response = _api(cast.grid_worker).post(
        "/api/v1/buildings/", {"area": cast.grid_b.code, "name": "2号楼"}, format="json"
    )
    assert response.status_code == 400 and "area" in response.json()
    assert not Building.objects.filter(name="2号楼").exists()


def test_it_applies_the_models_own_rules_to_api_writes(cast):
    # Building.clean(): buildings belong to a grid, not to a community.
    response = _api(cast.admin).post(
        "/api/v1/buildings/", {"area": cast.community.code, "name": "2号楼"}, format="json"
    )
    assert response.status_code == 400 and "area" in response.json()


def test_it_filters_areas_with_the_list_pages_filterset(cast):
    data = _api(cast.commander).get("/api/v1/areas/", {"parent": cast.community.code}).json()
    assert sorted(row["code"] for row in data["results"]) == [cast.grid_a.code, cast.grid_b.code]


def test_it_filters_households_by_area_code(cast):
    data = _api(cast.commander).get("/api/v1/households/", {"area": cast.grid_b.code}).json()
    assert [row["id"] for row in data["results"]] == [cast.household_b.pk]


def test_it_refuses_a_household_contact_who_is_not_a_member(cast):
    outsider = make_person(area=cast.grid_a, name="路人")
    response = _api(cast.grid_worker).patch(
        f"/api/v1/households/{cast.household_a.pk}/", {"contact_person": outsider.pk}, format="json"
    )
    assert response.status_code == 400 and "contact_person" in response.json()


def test_it_answers_409_when_a_delete_is_blocked_by_references(cast):
    response = _api(cast.admin).delete(f"/api/v1/areas/{cast.community.pk}/")
    assert response.status_code == 409
    assert Area.objects.filter(pk=cast.community.pk).exists()


def test_it_refuses_creating_an_area_outside_the_users_scope(cast):
    # Administers the street, views the district: the district is a valid parent to choose,
    # but the new street would lie outside the administered subtree.
    user = User.objects.create_user("street_admin")
    Grant.objects.create(user=user, role="system_admin", area=cast.street)
    Grant.objects.create(user=user, role="auditor", area=cast.district)
    data = {"code": "620102002000", "name": "新街道", "level": 3, "parent": cast.district.code}
    response = _api(user).post("/api/v1/areas/", data, format="json")
    assert response.status_code == 403
    assert not Area.objects.filter(code="620102002000").exists()
