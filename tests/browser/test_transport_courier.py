"""A courier on a phone (issue 10): lands on the pick-up page, a keyboard-wedge scanner reads the
sealed box's barcode into the always-focused field, and the box moves to "boxes you carry", signed
by the courier. 390×844, Chinese system language (see conftest.py for the browser set-up)."""

import datetime
import re
from urllib.parse import urlsplit

from django.utils import timezone
from playwright.sync_api import expect

from epigrid.transport.models import Box
from tests.transport_cast import Transport

PASSWORD = "x"  # tests.transport_cast's couriers


def _scanner(page, text):
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def test_a_courier_scans_a_sealed_box_to_pick_it_up(cast, page, log_in, shot):
    tp = Transport(cast)
    box = tp.box(step="sealed", tubes=2, scanned_at=timezone.now() - datetime.timedelta(hours=1))
    elsewhere = tp.box(cast.grid_b, step="sealed")
    log_in(tp.courier, password=PASSWORD)
    # A courier starts on the pick-up page, the box waiting at the point in view.
    assert urlsplit(page.url).path == "/transport/pickup/"
    waiting = page.get_by_test_id("waiting")
    expect(waiting.locator(f'[data-barcode="{box.barcode}"]')).to_be_visible()
    expect(waiting.locator(f'[data-barcode="{elsewhere.barcode}"]')).to_have_count(0)
    scan = page.locator("input[data-scan]")
    expect(scan).to_be_focused()
    _no_sideways_scrolling(page)
    shot(page, "transport_pickup_before")

    _scanner(page, box.barcode.lower())
    expect(page).to_have_url(re.compile(r"/transport/pickup/$"))
    expect(page.locator(".alert-success")).to_contain_text(box.barcode)
    carrying = page.get_by_test_id("carrying")
    expect(carrying.locator(f'[data-barcode="{box.barcode}"]')).to_be_visible()
    expect(page.get_by_test_id("carrying-count")).to_have_text("1")
    expect(page.locator("input[data-scan]")).to_be_focused()
    _no_sideways_scrolling(page)
    shot(page, "transport_pickup_after")
    box.refresh_from_db()
    assert box.status == Box.Status.IN_TRANSIT and box.picked_up_by == tp.courier

    # The same scan again (a double read) changes nothing and says so.
    _scanner(page, box.barcode)
    expect(page.locator(".alert-info")).to_contain_text(box.barcode)
    assert box.events.filter(kind="picked_up").count() == 1

    # The box's page shows the custody chain with the courier's signature, as cards.
    carrying.locator(f'[data-barcode="{box.barcode}"] a').first.tap()
    expect(page.get_by_test_id("event-picked_up")).to_contain_text(tp.courier.username)
    _no_sideways_scrolling(page)
    shot(page, "transport_box_page")
