"""Shops and markets over the API: the generic scope tests for every model in it, search before
create for outlets, alerts handled through `handle/`, the trend, staff added by document, an
inspection that closes a point and the closure's `reinspect/`."""

from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from epigrid.markets.models import Baseline, Closure, Inspection, Outlet, PriceAlert, ShopStaff, WildlifeCheck
from tests.markets_cast import day, markets, prices
from tests.scoping import ScopedAPITests, make_person

pytestmark = pytest.mark.django_db


def _outlet(cast, grid):
    m = markets(cast)
    return m.supermarket if grid == cast.grid_a else m.market


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestOutletAPI(ScopedAPITests):
    model = Outlet
    api_list_url = "/api/v1/market-outlets/"

    def make_object(self, cast, grid):
        return _outlet(cast, grid)

    def write_data(self, cast, obj):
        return {"address": "新地址"}


class TestBaselineAPI(ScopedAPITests):
    model = Baseline
    api_list_url = "/api/v1/market-baselines/"

    def make_object(self, cast, grid):
        return Baseline.objects.create(commodity=markets(cast).pork, area=grid, price=D("13.50"))

    def write_data(self, cast, obj):
        return {"price": "14.00"}


class TestPriceAlertAPI(ScopedAPITests):
    model = PriceAlert
    api_list_url = "/api/v1/market-alerts/"
    write_action = "handle"

    def make_object(self, cast, grid):
        m = markets(cast)
        return PriceAlert.objects.create(
            outlet=_outlet(cast, grid), commodity=m.pork, day=day(1), kind="short_stock", value=1, reference=3
        )

    def write_data(self, cast, obj):
        return {"action_taken": "已处理"}


class TestShopStaffAPI(ScopedAPITests):
    model = ShopStaff
    api_list_url = "/api/v1/market-staff/"

    def make_object(self, cast, grid):
        household = cast.household_a if grid == cast.grid_a else cast.household_b
        person = make_person(household=household, name="周店员", phone="+8613600006666")
        return ShopStaff.objects.create(outlet=_outlet(cast, grid), person=person)

    def write_data(self, cast, obj):
        return {"position": "店长"}


class TestInspectionAPI(ScopedAPITests):
    model = Inspection
    api_list_url = "/api/v1/market-inspections/"

    def make_object(self, cast, grid):
        return Inspection.objects.create(outlet=_outlet(cast, grid), findings="合格")

    def write_data(self, cast, obj):
        return {"findings": "复核合格"}


class TestClosureAPI(ScopedAPITests):
    model = Closure
    api_list_url = "/api/v1/market-closures/"
    write_action = "reinspect"

    def make_object(self, cast, grid):
        return Closure.objects.create(outlet=_outlet(cast, grid), reason="关停")

    def write_data(self, cast, obj):
        return {"findings": "已消毒", "reopen": True}


class TestWildlifeCheckAPI(ScopedAPITests):
    model = WildlifeCheck
    api_list_url = "/api/v1/market-wildlife/"

    def make_object(self, cast, grid):
        return WildlifeCheck.objects.create(
            area=grid, site="养殖场", species="梅花鹿", count=5, checker="李四"
        )

    def write_data(self, cast, obj):
        return {"count": 7}


def test_the_same_outlet_posted_twice_answers_the_existing_one(cast):
    m = markets(cast)
    data = {"name": m.supermarket.name, "area": cast.grid_a.code, "kind": "supermarket"}
    response = api(cast.community_officer).post("/api/v1/market-outlets/", data, format="json")
    assert response.status_code == 200 and response.json()["id"] == m.supermarket.pk
    assert response.json()["masked_phone"] == "138****2222" and "phone" not in response.json()
    data["name"] = "新开超市"
    assert api(cast.community_officer).post("/api/v1/market-outlets/", data, format="json").status_code == 201


def test_an_alert_is_handled_through_the_api_and_the_trend_answers(cast):
    m = markets(cast)
    m.send(m.supermarket, day(1), prices(pork=(500, "14.00", 1)))
    alert = PriceAlert.objects.get()
    response = api(cast.community_officer).post(
        f"/api/v1/market-alerts/{alert.pk}/handle/", {"action_taken": "补货"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "handled"
    trend = api(cast.grid_worker).get("/api/v1/market-alerts/trend/", {"item": "pork", "days": 7}).json()
    assert trend[-1]["mean"] == "14.00" and trend[-1]["outlets"] == 1


def test_staff_are_added_by_document_through_the_api(cast):
    m = markets(cast)
    person = make_person(household=cast.household_a, name="吴员工")
    data = {
        "outlet": m.supermarket.pk,
        "doc_type": "111",
        "doc_number": person.doc_number,
        "position": "保洁",
    }
    response = api(cast.community_officer).post("/api/v1/market-staff/", data, format="json")
    assert response.status_code == 201
    assert response.json()["masked_doc_number"] != person.doc_number
    assert person.doc_number not in response.content.decode()
    data["doc_number"] = "11010519491231002X"
    assert api(cast.community_officer).post("/api/v1/market-staff/", data, format="json").status_code == 400


def test_an_inspection_closes_and_reinspect_reopens_through_the_api(cast):
    m = markets(cast)
    client = api(m.inspector)
    response = client.post(
        "/api/v1/market-inspections/",
        {"outlet": m.poultry.pk, "result": "closed", "findings": "违规"},
        format="json",
    )
    assert response.status_code == 201
    closure = Closure.objects.get()
    response = client.post(
        f"/api/v1/market-closures/{closure.pk}/reinspect/",
        {"findings": "合格", "reopen": True},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "reopened"
    response = client.post(
        f"/api/v1/market-closures/{closure.pk}/reinspect/",
        {"findings": "合格", "reopen": True},
        format="json",
    )
    assert response.status_code == 400
