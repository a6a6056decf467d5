"""Disinfection on a phone (issue 14): the team leader opens today's sites, picks one, takes a photo
with the camera input and saves the site done; the cards have big enough tap targets and nothing
scrolls sideways (see conftest.py for the browser set-up)."""

import io

from PIL import Image
from playwright.sync_api import expect

from epigrid.disinfection.models import Task
from tests.disinfection_cast import disinfection


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _photo():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 110, 60)).save(buffer, format="JPEG")
    return {"name": "site.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_a_team_leader_completes_a_site_with_a_photo_from_a_phone(cast, page, log_in, shot, live_server):
    d = disinfection(cast)
    task = d.task(cast.grid_a)
    task.site.name = "1号楼垃圾收集点"
    task.site.save()
    d.task(cast.grid_b, team="b")  # another team's site: not on this leader's page
    log_in(cast.leader)

    page.goto(f"{live_server.url}/disinfection/my/")
    cards = page.get_by_test_id("site-card")
    expect(cards).to_have_count(1)
    card = cards.filter(has_text="1号楼垃圾收集点")
    assert card.get_by_test_id("open-site").bounding_box()["height"] >= 44
    _no_sideways_scrolling(page)
    shot(page, "disinfection_my_sites")
    card.get_by_test_id("open-site").tap()

    form = page.get_by_test_id("complete-form")
    expect(form).to_be_visible()
    assert form.locator("input[name=disinfectant]").input_value() == "含氯消毒剂"
    assert form.locator("input[name=photo]").get_attribute("capture") == "environment"
    form.locator("input[name=photo]").set_input_files(_photo())
    _no_sideways_scrolling(page)
    shot(page, "disinfection_complete")
    assert page.get_by_test_id("complete").bounding_box()["height"] >= 44
    page.get_by_test_id("complete").tap()

    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("no-sites")).to_be_visible()
    expect(page.get_by_test_id("my-progress")).to_have_text("1 / 1")
    _no_sideways_scrolling(page)

    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.operator == cast.leader and task.photo

    # The site's page shows the photo, served through the scoped view.
    page.get_by_test_id("done-site").first.tap()
    expect(page.get_by_test_id("photo").locator("img")).to_have_count(1)
    # Read once the image has loaded (a slow machine may still be fetching it).
    width = page.get_by_test_id("photo").locator("img").evaluate(
        "img => img.complete && img.naturalWidth ? img.naturalWidth"
        " : new Promise(done => { img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); })"
    )
    assert width == 64
    _no_sideways_scrolling(page)
