"""A grid worker's morning on a phone (issue 8): log in, land on today's work, find the fever at the
top, record what was done, and see it leave the list (see conftest.py for the browser set-up)."""

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


def test_it_lands_a_grid_worker_on_today_with_the_fever_on_top_and_handles_it(cast, page, log_in, shot):
    today = timezone.localdate()
    person = make_person(household=cast.household_a, name="李秀英")
    entry, _ = services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=today - datetime.timedelta(days=3)
    )
    fever = CheckIn.objects.create(
        measure=entry.measures.get(sequence=1),
        taken_at=timezone.now() - datetime.timedelta(minutes=30),
        temperature="37.8",
        symptoms="咳嗽",
    )
    services.register_key_person(
        make_person(household=cast.household_a, name="王建国"),
        "close_contact",
        cast.grid_a,
        last_exposure=today - datetime.timedelta(days=3),
    )

    log_in(cast.grid_worker)
    assert page.viewport_size == {"width": 390, "height": 844}
    assert page.url.endswith("/control/today/")
    assert_assets_loaded(page)
    expect(page.locator("h1")).to_contain_text("今日任务")
    _no_sideways_scrolling(page)

    # The abnormal readings come first, above the temperature round, and show on the first screen.
    abnormal = page.get_by_test_id("abnormal")
    row = abnormal.get_by_test_id("abnormal-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("李秀英")
    expect(row).to_contain_text("37.8 °C")
    expect(row).to_contain_text("咳嗽")
    expect(abnormal).not_to_contain_text("王建国")
    assert page.evaluate(
        """() => document.querySelector('[data-testid="abnormal"]').getBoundingClientRect().top
                 < document.querySelector('[data-testid="needs_check"]').getBoundingClientRect().top"""
    )
    assert row.bounding_box()["y"] < 844
    expect(page.get_by_test_id("count-abnormal")).to_have_text("1")
    shot(page, "today_fever_on_top")

    # Handle it: what was done (a big tap target) and a note.
    row.get_by_test_id("handle").tap()
    form = row.get_by_test_id("handle-form")
    expect(form).to_be_visible()
    form.get_by_text("已送发热门诊").tap()
    form.locator("input[name=note]").fill("社区医生陪同送省人民医院发热门诊")
    _no_sideways_scrolling(page)
    shot(page, "today_handle_form")
    with page.expect_navigation():
        form.get_by_test_id("record-handling").tap()

    assert page.url.endswith("/control/today/")
    expect(page.locator("main .alert-success")).to_contain_text("已送发热门诊")
    expect(page.get_by_test_id("abnormal").get_by_test_id("abnormal-row")).to_have_count(0)
    expect(page.get_by_test_id("count-abnormal")).to_have_text("0")
    _no_sideways_scrolling(page)
    shot(page, "today_after_handling")

    fever.refresh_from_db()
    assert (fever.follow_up, fever.outcome, fever.handled_by_id) == (
        "handled",
        "fever_clinic",
        cast.grid_worker.pk,
    )
    assert re.search("发热门诊", fever.follow_up_note)
