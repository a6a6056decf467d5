"""An enterprise's contact on a phone (issue 14): "my enterprise" shows their enterprise as a card,
the gate page records each employee's temperature with a 44 px button, as measured by the contact;
a fever is flagged at once; the enterprise's page (roster, PPE) has no sideways scroll (see
conftest.py for the browser set-up)."""

from playwright.sync_api import expect

from epigrid.enterprises.models import TemperatureReading
from tests.enterprises_cast import works


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def test_the_contact_records_gate_temperatures_from_a_phone(cast, page, log_in, shot, live_server):
    w = works(cast)
    w.ready()
    log_in(w.contact, password="x")

    page.goto(f"{live_server.url}/enterprises/mine/")
    card = page.get_by_test_id("my-enterprise").filter(has_text=w.a.name)
    expect(card).to_have_count(1)
    assert card.get_by_test_id("gate-link").bounding_box()["height"] >= 44
    _no_sideways_scrolling(page)
    card.get_by_test_id("gate-link").tap()

    row = page.get_by_test_id("gate-employee").filter(has_text="张工")
    assert row.get_by_test_id("record").bounding_box()["height"] >= 44
    row.get_by_test_id("temperature-input").fill("37.6")
    shot(page, "enterprises_gate")
    row.get_by_test_id("record").tap()
    expect(page.locator(".alert-warning")).to_be_visible()
    expect(
        page.get_by_test_id("gate-employee").filter(has_text="张工").get_by_test_id("temperature")
    ).to_have_count(1)
    _no_sideways_scrolling(page)
    reading = TemperatureReading.objects.get()
    assert reading.measured_by == w.contact and reading.fever

    page.goto(f"{live_server.url}{w.a.get_absolute_url()}")
    expect(page.get_by_test_id("roster").locator("td[data-label]").first).to_be_visible()
    expect(page.get_by_test_id("fevers")).to_be_visible()
    _no_sideways_scrolling(page)
    shot(page, "enterprises_detail")
