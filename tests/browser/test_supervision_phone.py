"""Supervision on a phone (issue 13): the grid worker responsible for a problem opens "my items",
starts the rectification, takes a photo of the fix and submits it; the list shows cards with big
enough tap targets and nothing scrolls sideways (see conftest.py for the browser set-up)."""

import io

from PIL import Image
from playwright.sync_api import expect

from epigrid.supervision.models import Item
from tests.supervision_cast import supervision


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _photo():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 110, 60)).save(buffer, format="JPEG")
    return {"name": "fix.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_the_responsible_person_submits_a_fix_with_a_photo_from_a_phone(
    cast, page, log_in, shot, live_server
):
    item = supervision(cast).item(category="checkpoint", title="卡口测温枪电量不足")
    log_in(cast.grid_worker)

    page.goto(f"{live_server.url}/supervision/mine/")
    card = page.get_by_test_id("my-item").filter(has_text="卡口测温枪电量不足")
    expect(card).to_have_count(1)
    assert card.get_by_test_id("start").bounding_box()["height"] >= 44
    _no_sideways_scrolling(page)
    card.get_by_test_id("start").tap()
    expect(page.locator(".alert-success")).to_be_visible()

    card = page.get_by_test_id("my-item").filter(has_text="卡口测温枪电量不足")
    card.locator("textarea[name=note]").fill("已更换电池并配备备用电池两组")
    card.locator("input[name=photos]").set_input_files(_photo())
    shot(page, "supervision_mine_submit")
    card.get_by_test_id("submit").tap()
    expect(page.locator(".alert-success")).to_be_visible()
    # Submitted: the card keeps the item (waiting for sign-off) without the buttons.
    submitted = page.get_by_test_id("my-item").filter(has_text="卡口测温枪电量不足")
    expect(submitted.get_by_test_id("status")).to_be_visible()
    expect(submitted.get_by_test_id("submit")).to_have_count(0)
    _no_sideways_scrolling(page)

    item.refresh_from_db()
    assert item.status == Item.Status.SUBMITTED and item.photos.filter(kind="evidence").count() == 1

    # The item's page shows the photo, served through the scoped view.
    page.goto(f"{live_server.url}{item.get_absolute_url()}")
    expect(page.get_by_test_id("photos").locator("img")).to_have_count(1)
    # Read once the image has loaded (a slow machine may still be fetching it).
    width = page.get_by_test_id("photos").locator("img").evaluate(
        "img => img.complete && img.naturalWidth ? img.naturalWidth"
        " : new Promise(done => { img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); })"
    )
    assert width == 64
    _no_sideways_scrolling(page)

    # The list becomes cards on the phone.
    page.goto(f"{live_server.url}/supervision/")
    expect(page.locator("td[data-label]").first).to_be_visible()
    _no_sideways_scrolling(page)
    shot(page, "supervision_list")
