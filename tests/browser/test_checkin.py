"""A grid worker's temperature round on a phone (see conftest.py for the browser set-up)."""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from epigrid.control import services
from epigrid.control.models import CheckIn
from tests.browser.conftest import assert_assets_loaded
from tests.scoping import make_person


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def test_it_records_a_temperature_check_from_todays_list(cast, page, log_in, shot):
    # One check a day (a low-risk arrival's daily monitoring): due at any hour the test runs.
    today = timezone.localdate()
    person = make_person(household=cast.household_a, name="李秀英")
    entry, _ = services.register_key_person(
        person, "low_risk_arrival", cast.grid_a, arrival=today - datetime.timedelta(days=1)
    )
    assert entry.measures.get().temps_per_day == 1
    make_person(household=cast.household_a, name="王建国")  # not a key person

    log_in(cast.grid_worker)
    assert page.viewport_size == {"width": 390, "height": 844}
    page.goto("/control/today/")
    assert_assets_loaded(page)
    _no_sideways_scrolling(page)
    needs_check = page.get_by_test_id("needs_check")
    expect(needs_check).to_contain_text("李秀英")
    expect(needs_check).not_to_contain_text("王建国")
    shot(page, "control_today")

    needs_check.get_by_role("link", name=re.compile("李秀英")).tap()
    expect(page.get_by_test_id("person-name")).to_have_text("李秀英")
    expect(page.get_by_test_id("doc-number")).to_have_text(person.masked_doc_number)
    _no_sideways_scrolling(page)
    form = page.get_by_test_id("checkin-form")
    temperature = form.locator("input[name=temperature]")
    expect(temperature).to_have_attribute("inputmode", "decimal")
    temperature.fill("36.8")
    with page.expect_navigation():
        form.get_by_test_id("record-checkin").tap()
    row = page.get_by_test_id("checkins").get_by_test_id("checkin-row")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("36.8")
    expect(page.get_by_test_id("fever")).to_have_count(0)
    shot(page, "control_entry_after_checkin")
    checkin = CheckIn.objects.get()
    assert (str(checkin.temperature), checkin.recorded_by_id) == ("36.8", cast.grid_worker.pk)

    page.get_by_test_id("back").tap()
    page.wait_for_url(re.compile(r"/control/today/$"))
    expect(page.get_by_test_id("needs_check")).not_to_contain_text("李秀英")
    expect(page.get_by_test_id("count-needs_check")).to_have_text("0")
    shot(page, "control_today_after_checkin")
