"""Site staff on a phone (issue 11): today's checks of their site, floor by floor. A mistyped
temperature (365 for 36.5) is refused with the reason next to the input and nothing saved; once
corrected, one tap saves the floor, its rooms turn grey, the count says done and the fever room is
flagged. 390×844, Chinese (see conftest.py for the browser set-up)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from epigrid.isolation import services
from epigrid.isolation.models import Reading
from tests.isolation_cast import isolation

pytestmark = pytest.mark.browser


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _taps_are_44px(locator):
    for i in range(locator.count()):
        box = locator.nth(i).bounding_box()
        assert box and box["height"] >= 44, box


def test_site_staff_record_a_floors_temperatures(cast, page, log_in, shot):
    iso = isolation(cast)
    yesterday = timezone.now() - datetime.timedelta(days=1)
    stays = []
    for number, name in (("101", "一楼甲"), ("102", "一楼乙"), ("201", "二楼丙")):
        stay = services.allocate(cast.admin, iso.person(name=name), iso.room(number=number))
        stays.append(services.check_in(cast.admin, stay, now=yesterday))
    site = stays[0].site

    log_in(iso.staff_a, password="x")
    page.goto(f"/isolation/sites/{site.pk}/checks/?slot=morning")
    floors = page.get_by_test_id("checks-floor")
    expect(floors).to_have_count(2)
    first = floors.first
    expect(first.get_by_test_id("floor-count")).to_contain_text("0/2")
    inputs = first.get_by_test_id("temperature-input")
    expect(inputs).to_have_count(2)
    _taps_are_44px(inputs)
    _taps_are_44px(first.get_by_test_id("save-floor"))
    _no_sideways_scrolling(page)
    shot(page, "isolation_checks_due")

    inputs.nth(0).fill("36.5")
    inputs.nth(1).fill("385")  # 38.5 without its point
    first.get_by_test_id("save-floor").tap()
    first = page.get_by_test_id("checks-floor").first
    expect(first.get_by_test_id("temperature-error")).to_contain_text("34.0")
    assert not Reading.objects.exists()
    inputs = first.get_by_test_id("temperature-input")
    expect(inputs.nth(0)).to_have_value("36.5")  # what was typed is kept
    _no_sideways_scrolling(page)

    inputs.nth(1).fill("38.5")
    first.get_by_test_id("save-floor").tap()
    first = page.get_by_test_id("checks-floor").first
    expect(first.get_by_test_id("floor-count")).to_contain_text("2/2")
    expect(first.get_by_test_id("check-room-done")).to_have_count(2)
    expect(first.locator(".bg-body-secondary")).to_have_count(1)  # 101, greyed
    expect(first.get_by_test_id("room-fever")).to_have_count(1)  # 102, flagged red instead
    expect(page.get_by_test_id("checks-floor").nth(1).get_by_test_id("floor-count")).to_contain_text("0/1")
    _no_sideways_scrolling(page)
    shot(page, "isolation_checks_saved")

    readings = {r.stay_id: r.temperature for r in Reading.objects.filter(slot="morning")}
    assert {k: str(v) for k, v in readings.items()} == {stays[0].pk: "36.5", stays[1].pk: "38.5"}

    # The site page flags the fever room too.
    page.goto(site.get_absolute_url())
    expect(page.get_by_test_id("room-fever")).to_have_count(1)
    _no_sideways_scrolling(page)
