"""Supplies on a phone: a warehouse keeper opens the delivered requisition of their checkpoint,
types the quantity actually received and why it differs, and confirms; the stock board shows
cards with the days of cover and nothing scrolls sideways (see conftest.py for the set-up)."""

import decimal

from playwright.sync_api import expect

from epigrid.supplies import services
from epigrid.supplies.models import Requisition
from tests.supplies_cast import supplies


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def test_a_keeper_receives_a_delivery_with_a_discrepancy_from_a_phone(cast, page, log_in, shot, live_server):
    s = supplies(cast)
    s.stocked(on_hand=30, daily_use=20, min_days=3)
    s.stocked(store=s.warehouse, on_hand=500, daily_use=0)
    req = s.requisition(quantity=100)
    services.approve(cast.street_officer, req, s.warehouse)
    services.deliver(cast.street_officer, req, carrier="甘A·12345")
    log_in(s.keeper, "x")

    page.goto(f"{live_server.url}/supplies/")
    expect(page.get_by_test_id("below-min").first).to_be_visible()
    expect(page.locator("td[data-label]").first).to_be_visible()
    _no_sideways_scrolling(page)
    shot(page, "supplies_board")

    page.goto(f"{live_server.url}{req.get_absolute_url()}")
    page.get_by_test_id("received-1").fill("96")
    page.locator("input[name^=reason_]").fill("一盒破损")
    button = page.get_by_test_id("receive")
    assert button.bounding_box()["height"] >= 44
    _no_sideways_scrolling(page)
    shot(page, "supplies_receive")
    button.tap()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("discrepancy")).to_be_visible()
    _no_sideways_scrolling(page)

    req.refresh_from_db()
    assert req.status == Requisition.Status.RECEIVED and req.has_discrepancy
    assert services.balance_from_ledger(s.gate, s.mask) == decimal.Decimal("126")
