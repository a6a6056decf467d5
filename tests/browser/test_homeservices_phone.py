"""Resident services on a phone (issue 14): a volunteer opens their requests on a 390×844 screen,
closes a shopping request with a note and a photo, and records the resident's confirmation at the
door; the cards have big enough tap targets and nothing scrolls sideways (see conftest.py)."""

import io

from PIL import Image
from playwright.sync_api import expect

from epigrid.homeservices.models import ServiceRequest
from tests.homeservices_cast import homes


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _photo():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 110, 60)).save(buffer, format="JPEG")
    return {"name": "bags.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_a_volunteer_closes_a_shopping_request_from_a_phone(cast, page, log_in, shot, live_server):
    h = homes(cast)
    req = h.assigned(details={"items": "大米 5kg，鸡蛋 30 枚"})
    assert page.viewport_size == {"width": 390, "height": 844}
    log_in(h.volunteer)

    page.goto(f"{live_server.url}/homeservices/mine/")
    card = page.get_by_test_id("my-request").filter(has_text="大米 5kg")
    expect(card).to_have_count(1)
    assert card.get_by_test_id("done").bounding_box()["height"] >= 44
    _no_sideways_scrolling(page)
    card.locator("textarea[name=note]").fill("已采购送到门口，小票已拍照")
    card.locator("input[name=photo]").set_input_files(_photo())
    shot(page, "homeservices_mine_done")
    card.get_by_test_id("done").tap()
    expect(page.locator(".alert-success")).to_be_visible()

    card = page.get_by_test_id("my-request").filter(has_text="大米 5kg")
    assert card.get_by_test_id("confirm").bounding_box()["height"] >= 44
    card.get_by_test_id("confirm").tap()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("my-request")).to_have_count(0)
    expect(page.get_by_test_id("closed")).to_contain_text(f"#{req.pk}")
    _no_sideways_scrolling(page)

    req.refresh_from_db()
    assert req.status == ServiceRequest.Status.CONFIRMED and req.done_photo
    assert req.confirmed_by == h.volunteer and req.confirmed_how == "in_person"
