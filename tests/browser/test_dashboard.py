"""The commander opens the dashboard (issue #13): the charts load under the CSP, a tile's figure is
clicked and the list behind it shows the same number. Then the same dashboard on a phone: the tiles
stack and nothing scrolls sideways. Chinese UI (see conftest.py for the browser set-up)."""

import pytest
from playwright.sync_api import expect

from epigrid.control.models import KeyPerson, Protocol
from tests.scoping import make_person

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _counted_afresh(settings):
    settings.DASHBOARD_CACHE_SECONDS = 0


def _entries(cast):
    protocol = Protocol.objects.get(is_active=True)
    for area, category in (
        (cast.grid_a, "close_contact"),
        (cast.grid_a, "suspected"),
        (cast.grid_b, "fever"),
    ):
        KeyPerson.objects.create(
            person=make_person(area=area), area=area, category=category, protocol=protocol
        )


def test_the_commander_clicks_a_tile_and_the_list_shows_the_same_number(cast, page, log_in, shot):
    _entries(cast)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(cast.commander)
    page.goto("/dashboard/")
    tile = page.get_by_test_id("tile-keypersons_open")
    expect(tile.locator("[data-value]")).to_have_text("3")
    expect(page.get_by_test_id("dash-charts")).to_have_attribute("data-loaded", "1")
    shot(page, "dashboard_desk")
    with page.expect_navigation():
        tile.click()
    expect(page.get_by_test_id("result-count")).to_contain_text("3")

    # Drill down to the community through the chips, then back up through the breadcrumbs.
    page.goto("/dashboard/")
    with page.expect_navigation():
        page.get_by_test_id("children").get_by_role("link", name=cast.street.name).click()
    expect(page.get_by_test_id("dash-title")).to_have_text(cast.street.name)
    expect(page.get_by_test_id("tile-keypersons_open").locator("[data-value]")).to_have_text("3")


def test_the_dashboard_on_a_phone_stacks_without_sideways_scrolling(cast, page, log_in, shot):
    _entries(cast)
    log_in(cast.grid_worker)
    page.goto("/dashboard/")
    expect(page.get_by_test_id("tile-keypersons_open").locator("[data-value]")).to_have_text("2")
    expect(page.get_by_test_id("dash-charts")).to_have_attribute("data-loaded", "1")
    shot(page, "dashboard_phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto("/dashboard/screen/")
    expect(page.get_by_test_id("dash-charts")).to_have_attribute("data-loaded", "1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
