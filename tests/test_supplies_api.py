"""Supplies API: the generic scope tests for every resource, the requisition workflow and a
donation's allocation through the API, the public table."""

import decimal

import pytest
from rest_framework.test import APIClient

from epigrid.supplies import services
from epigrid.supplies.models import Allocation, Donation, Item, Movement, Requisition, StockLevel, Store
from tests.scoping import ScopedAPITests
from tests.supplies_cast import supplies

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestItemAPI(ScopedAPITests):
    model = Item
    api_list_url = "/api/v1/supply-items/"

    def make_object(self, cast, grid):
        return Item.objects.create(
            code=f"SOAP-{grid.code}", name="84消毒液", spec="500ml", unit="瓶", area=grid
        )

    def write_data(self, cast, obj):
        return {"name": "84消毒液（大瓶）"}


class TestStoreAPI(ScopedAPITests):
    model = Store
    api_list_url = "/api/v1/supply-stores/"

    def make_object(self, cast, grid):
        return supplies(cast).store(grid, code=f"API-{grid.code}")

    def write_data(self, cast, obj):
        return {"name": obj.name + "（北）"}


class TestStockLevelAPI(ScopedAPITests):
    model = StockLevel
    api_list_url = "/api/v1/stock-levels/"
    write_action = "levels"

    def make_object(self, cast, grid):
        s = supplies(cast)
        return s.stocked(store=s.store(grid, code=f"L-{grid.code}"))

    def write_data(self, cast, obj):
        return {"daily_use": "30"}


class TestMovementAPI(ScopedAPITests):
    model = Movement
    api_list_url = "/api/v1/stock-movements/"
    read_only = True

    def make_object(self, cast, grid):
        s = supplies(cast)
        return services.receive_stock(None, s.store(grid, code=f"M-{grid.code}"), s.mask, 10)

    def write_data(self, cast, obj):
        return {"reason": "x"}


class TestRequisitionAPI(ScopedAPITests):
    model = Requisition
    api_list_url = "/api/v1/requisitions/"
    write_action = "reject"

    def make_object(self, cast, grid):
        s = supplies(cast)
        return services.request(None, s.store(grid, code=f"R-{grid.code}"), [(s.mask, 10)])

    def write_data(self, cast, obj):
        return {"reason": "库存不足"}


class TestDonationAPI(ScopedAPITests):
    """Donations are seen by their unit's officers and by the keepers of the store holding the
    goods (bound): keeper_a keeps grid A's store, keeper_b grid B's."""

    model = Donation
    api_list_url = "/api/v1/donations/"
    write_action = "allocate"
    viewer = unrevealing = "keeper_a"
    outsider = "keeper_b"

    def make_object(self, cast, grid):
        s = supplies(cast)
        cast.keeper_a, cast.keeper_b = s.keeper, s.keeper_b
        store = s.gate if grid == cast.grid_a else s.store(grid, code=f"D-{grid.code}")
        donation, _created = services.register_donation(
            None,
            number=f"API-{grid.code}",
            donor_name="某公司",
            received_on="2026-12-01",
            area=grid,
            recipient_unit=grid.name,
            store=store,
            lines=[{"kind": "goods", "item": s.mask, "quantity": 100, "value": 300}],
        )
        return donation

    def write_data(self, cast, obj):
        return {
            "line": obj.lines.get().pk,
            "quantity": "10",
            "recipient_name": "第一网格",
            "reason": "缺口罩",
        }


class TestAllocationAPI(ScopedAPITests):
    model = Allocation
    api_list_url = "/api/v1/allocations/"
    read_only = True
    viewer = unrevealing = "keeper_a"
    outsider = "keeper_b"

    def make_object(self, cast, grid):
        donation = TestDonationAPI().make_object(cast, grid)
        return services.allocate(None, donation.lines.get(), 10, "第一网格", "缺口罩")

    def write_data(self, cast, obj):
        return {"reason": "x"}


def test_the_requisition_workflow_through_the_api(cast):
    s = supplies(cast)
    s.stocked(store=s.warehouse, on_hand=500)
    created = api(s.keeper).post(
        "/api/v1/requisitions/",
        {"store": s.gate.code, "lines": [{"item": s.mask.code, "quantity": "100"}], "priority": "urgent"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk, line = created.json()["id"], created.json()["lines"][0]["id"]
    assert (
        api(s.keeper)
        .post(f"/api/v1/requisitions/{pk}/approve/", {"supplier": s.warehouse.code}, format="json")
        .status_code
        == 403
    )
    approved = api(cast.street_officer).post(
        f"/api/v1/requisitions/{pk}/approve/",
        {"supplier": s.warehouse.code, "lines": [{"line": line, "quantity": "60"}]},
        format="json",
    )
    assert approved.json()["status"] == "approved"
    assert (
        api(cast.street_officer).post(f"/api/v1/requisitions/{pk}/deliver/", {}, format="json").status_code
        == 200
    )
    received = api(s.keeper).post(
        f"/api/v1/requisitions/{pk}/receive/",
        {"lines": [{"line": line, "quantity": "55", "reason": "少一箱"}]},
        format="json",
    )
    assert received.json()["status"] == "received" and received.json()["has_discrepancy"]
    kinds = [
        m["kind"]
        for m in api(s.keeper).get("/api/v1/stock-movements/", {"requisition": pk}).json()["results"]
    ]
    assert sorted(kinds) == ["discrepancy", "requisition_in"]


def test_a_refused_move_is_a_400_with_the_reason(cast):
    s = supplies(cast)
    s.stocked(on_hand=5)
    response = api(s.keeper).post(
        "/api/v1/stock-movements/",
        {"kind": "issue", "store": s.gate.code, "item": s.mask.code, "quantity": "6"},
        format="json",
    )
    assert response.status_code == 400


def test_donations_and_the_table_through_the_api(cast):
    s = supplies(cast)
    body = {
        "number": "API-1",
        "donor_name": "某基金会",
        "donor_kind": "organisation",
        "received_on": "2026-12-02",
        "area": cast.street.code,
        "recipient_unit": "九州街道",
        "store": s.warehouse.code,
        "lines": [
            {"kind": "goods", "item": s.mask.code, "quantity": "1000", "value": "5000"},
            {"kind": "money", "quantity": "3000"},
        ],
    }
    client = api(cast.street_officer)
    first = client.post("/api/v1/donations/", body, format="json")
    assert first.status_code == 201, first.json()
    assert client.post("/api/v1/donations/", body, format="json").status_code == 200
    donation = first.json()
    goods = next(line["id"] for line in donation["lines"] if line["kind"] == "goods")
    allocated = client.post(
        f"/api/v1/donations/{donation['id']}/allocate/",
        {"line": goods, "quantity": "400", "recipient_store": s.gate.code, "reason": "卡口"},
        format="json",
    )
    assert allocated.status_code == 201, allocated.json()
    over = client.post(
        f"/api/v1/donations/{donation['id']}/allocate/",
        {"line": goods, "quantity": "601", "recipient_name": "社区", "reason": "超量"},
        format="json",
    )
    assert over.status_code == 400
    rows = {row["kind"]: row for row in client.get("/api/v1/donations/table/").json()}
    assert (
        D(rows["goods"]["received"])
        == D(rows["goods"]["allocated"]) + D(rows["goods"]["in_stock"])
        == D("1000")
    )
    assert D(rows["goods"]["in_stock"]) == D("600") and D(rows["money"]["in_stock"]) == D("3000")
