"""Scope and permission rules on every registry page, through the generic mixins."""

from epigrid.areas.models import Area, Building, Household
from epigrid.people.models import Person
from tests.scoping import ScopedViewTests, make_person


class TestAreaPages(ScopedViewTests):
    model = Area
    list_url = "/areas/list/"

    def make_object(self, cast, grid):
        return grid

    def edit_data(self, cast, obj):
        return {"parent": obj.parent_id, "level": obj.level, "code": obj.code, "name": obj.name + "（改）"}


class TestBuildingPages(ScopedViewTests):
    model = Building
    list_url = "/areas/buildings/"

    def make_object(self, cast, grid):
        return Building.objects.create(area=grid, name="测试楼")

    def list_text(self, obj):
        return obj.name

    def edit_data(self, cast, obj):
        return {"area": obj.area_id, "name": obj.name + "A", "address": "九州大道1号"}


class TestHouseholdPages(ScopedViewTests):
    model = Household
    list_url = "/areas/households/"

    def make_object(self, cast, grid):
        building = Building.objects.create(area=grid, name="测试楼")
        return Household.objects.create(building=building, unit="3", room="303")

    def edit_data(self, cast, obj):
        return {"building": obj.building_id, "unit": obj.unit, "room": "304", "notes": ""}


class TestPersonPages(ScopedViewTests):
    model = Person
    list_url = "/people/"

    def make_object(self, cast, grid):
        household = cast.household_a if grid == cast.grid_a else cast.household_b
        return make_person(household=household, name="李四")

    def edit_data(self, cast, obj):
        return {
            "name": "李四四",
            "phone": "13812345678",
            "residence_type": "registered",
            "household": obj.household_id,
        }
