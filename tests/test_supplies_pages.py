"""Supplies pages: the generic scope tests for the catalogue and the stores, the keeper bound to
their stores, the stock board with days of cover, the requisition workflow and the donation
register through the pages, the certificate and the public table."""

import decimal

import pytest
from django.test import Client

from epigrid.supplies import services
from epigrid.supplies.models import Item, Movement, Requisition, Store
from tests.scoping import ScopedViewTests
from tests.supplies_cast import supplies

D = decimal.Decimal
pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


class TestItemPages(ScopedViewTests):
    model = Item
    list_url = "/supplies/items/"

    def make_object(self, cast, grid):
        return Item.objects.create(
            code=f"GLOVE-{grid.code}", name="医用检查手套", spec="GB 10213", unit="副", area=grid
        )

    def list_text(self, obj):
        return obj.code

    def edit_data(self, cast, obj):
        return {
            "code": obj.code,
            "name": "医用检查手套（丁腈）",
            "spec": obj.spec,
            "category": "ppe",
            "unit": obj.unit,
            "area": obj.area_id,
            "is_active": "on",
        }


class TestStorePages(ScopedViewTests):
    model = Store
    list_url = "/supplies/stores/"

    def make_object(self, cast, grid):
        return supplies(cast).store(grid, code=f"T-{grid.code}", name=f"{grid.name}测温点")

    def edit_data(self, cast, obj):
        return {
            "code": obj.code,
            "name": obj.name + "（东）",
            "kind": obj.kind,
            "area": obj.area_id,
            "is_active": "on",
        }


def test_a_keeper_sees_only_the_stores_they_keep(cast):
    s = supplies(cast)
    client = cast.client_for(s.keeper)
    body = client.get("/supplies/stores/").content.decode()
    assert s.gate.name in body and s.post.name not in body
    assert client.get(s.post.get_absolute_url()).status_code == 404
    assert cast.client_for(s.keeper_b).get(s.gate.get_absolute_url()).status_code == 404


def test_the_board_shows_days_of_cover_and_flags_the_store_below_its_minimum(cast):
    s = supplies(cast)
    s.stocked(on_hand=50, daily_use=20, min_days=3)
    s.stocked(store=s.post, on_hand=300, daily_use=20, min_days=3)
    body = cast.client_for(cast.street_officer).get("/supplies/", **EN).content.decode()
    assert "2.5 days" in body and "15 days" in body
    assert "1 stock below its minimum" in body
    low = cast.client_for(cast.street_officer).get("/supplies/?below_min=true").content.decode()
    assert f'href="{s.gate.get_absolute_url()}"' in low and f'href="{s.post.get_absolute_url()}"' not in low


def test_a_keeper_records_an_issue_on_the_store_page(cast):
    s = supplies(cast)
    s.stocked(on_hand=50)
    client = cast.client_for(s.keeper)
    response = client.post(
        f"/supplies/stores/{s.gate.pk}/move/",
        {"kind": "issue", "item": s.mask.pk, "quantity": "12", "reason": "早班"},
    )
    assert response.status_code == 302
    assert services.balance_from_ledger(s.gate, s.mask) == D("38")
    assert client.post(f"/supplies/stores/{s.post.pk}/move/", {"kind": "issue"}).status_code == 404


def test_the_requisition_workflow_through_the_pages(cast):
    s = supplies(cast)
    s.stocked(on_hand=10)
    s.stocked(store=s.warehouse, on_hand=500, daily_use=0)
    keeper = cast.client_for(s.keeper)
    response = keeper.post(
        "/supplies/requisitions/add/",
        {
            "store": s.gate.pk,
            "priority": "urgent",
            "item_1": s.mask.pk,
            "quantity_1": "100",
            "purpose": "卡口",
        },
    )
    assert response.status_code == 302
    req = Requisition.objects.get()
    line = req.lines.get()
    # The keeper cannot approve; the street officer (the level above) sees it to decide.
    assert (
        keeper.post(f"/supplies/requisitions/{req.pk}/approve/", {"supplier": s.warehouse.pk}).status_code
        == 403
    )
    street = cast.client_for(cast.street_officer)
    page = street.get(req.get_absolute_url(), **EN).content.decode()
    assert 'data-testid="approve"' in page
    street.post(
        f"/supplies/requisitions/{req.pk}/approve/", {"supplier": s.warehouse.pk, f"approved_{line.pk}": "80"}
    )
    street.post(f"/supplies/requisitions/{req.pk}/deliver/", {"carrier": "甘A·12345"})
    keeper.post(
        f"/supplies/requisitions/{req.pk}/receive/",
        {f"received_{line.pk}": "78", f"reason_{line.pk}": "两只破损"},
    )
    req.refresh_from_db()
    assert req.status == Requisition.Status.RECEIVED and req.has_discrepancy
    assert services.balance_from_ledger(s.gate, s.mask) == D("88")
    assert "两只破损" in keeper.get(req.get_absolute_url()).content.decode()


def test_the_community_officer_sees_no_approve_button(cast):
    s = supplies(cast)
    req = s.requisition()
    page = cast.client_for(cast.community_officer).get(req.get_absolute_url()).content.decode()
    assert 'data-testid="approve"' not in page


def test_a_donation_is_registered_allocated_and_certified_through_the_pages(cast):
    s = supplies(cast)
    client = cast.client_for(cast.street_officer)
    response = client.post(
        "/supplies/donations/add/",
        {
            "number": "JZ-9",
            "donor_name": "某商会",
            "donor_kind": "organisation",
            "received_on": "2026-12-01",
            "area": cast.street.pk,
            "recipient_unit": "九州街道",
            "store": s.warehouse.pk,
            "item_1": s.kn95.pk,
            "quantity_1": "500",
            "value_1": "1500",
            "money": "20000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    donation = s.warehouse.donations.get()
    goods = donation.lines.get(kind="goods")
    client.post(
        f"/supplies/donations/{donation.pk}/allocate/",
        {"line": goods.pk, "quantity": "200", "recipient_store": s.gate.pk, "reason": "卡口缺口罩"},
    )
    goods.refresh_from_db()
    assert goods.allocated == D("200")
    pdf = client.get(f"/supplies/donations/{donation.pk}/certificate.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    table = client.get("/supplies/allocations/table/").content.decode()
    assert "某商会" in table and "KN95" in table and "卡口缺口罩" in table
    assert Movement.objects.filter(kind="allocation_in", store=s.gate).exists()


def test_the_public_table_publishes_an_anonymous_donor_as_such(cast):
    s = supplies(cast)
    s.donation(number="JZ-A", donor_name="王某某", anonymous=True)
    table = cast.client_for(cast.auditor).get("/supplies/allocations/table/").content.decode()
    assert "爱心人士" in table and "王某某" not in table


def test_grid_workers_see_stock_but_not_donations(cast):
    s = supplies(cast)
    s.donation()
    client = cast.client_for(cast.grid_worker)
    assert client.get("/supplies/").status_code == 200
    assert client.get("/supplies/donations/").status_code == 403
    assert client.get("/supplies/allocations/table/").status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/supplies/",
        "/supplies/stores/",
        "/supplies/items/",
        "/supplies/movements/",
        "/supplies/requisitions/",
        "/supplies/requisitions/add/",
        "/supplies/donations/",
        "/supplies/donations/add/",
        "/supplies/allocations/",
        "/supplies/allocations/table/",
    ],
)
def test_every_list_opens_for_the_street_officer(cast, url):
    s = supplies(cast)
    s.stocked()
    s.requisition()
    s.donation(money=1000)
    assert cast.client_for(cast.street_officer).get(url).status_code == 200


def test_pages_require_login(cast):
    assert Client().get("/supplies/").status_code == 302
