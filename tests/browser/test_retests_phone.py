"""A grid worker on a phone (issue 10): a pooled-positive tube's person heads today's work; the
worker opens the urgent task, taps 已原地管控, types the single tube's barcode for 已单管复核, and
then records the retest negative. 390×844, Chinese (see conftest.py for the browser set-up)."""

from urllib.parse import urlsplit

from playwright.sync_api import expect

from epigrid.retests.models import PoolFollowUp
from tests.test_results_helpers import lab


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _taps_are_44px(page, locator):
    box = locator.bounding_box()
    assert box and box["height"] >= 44, box


def test_a_grid_worker_opens_the_urgent_task_and_records_a_single_tube_retest(cast, page, log_in, shot):
    rl = lab(cast)
    (tube,) = rl.delivered(cast.grid_a, persons=2)
    assert rl.record(tube, "混阳")["status"] == "created"
    task = PoolFollowUp.objects.get(tube=tube).tasks.order_by("id").first()

    log_in(cast.grid_worker)
    assert urlsplit(page.url).path == "/control/today/"
    urgent = page.get_by_test_id("retest-tasks")
    expect(urgent).to_be_visible()
    expect(page.get_by_test_id("count-retest-tasks")).to_have_text("2")
    expect(urgent.get_by_test_id("retest-task-row").first).to_contain_text(tube.barcode)
    _no_sideways_scrolling(page)
    shot(page, "retests_today")

    urgent.locator(f'a[href="/retests/tasks/{task.pk}/"]').tap()
    hold = page.get_by_test_id("move-hold")
    _taps_are_44px(page, hold)
    hold.tap()
    expect(page.get_by_test_id("task-status")).to_contain_text("已原地管控")

    page.get_by_test_id("retest-barcode-input").fill("rt0001")
    page.get_by_test_id("move-retest").tap()
    expect(page.get_by_test_id("retest-barcode")).to_contain_text("RT0001")
    _no_sideways_scrolling(page)
    shot(page, "retests_task_sampled")

    page.get_by_test_id("move-negative").tap()
    expect(page.get_by_test_id("task-status")).to_contain_text("已解除")
    task.refresh_from_db()
    assert (task.status, task.retest_barcode) == ("released", "RT0001")
    assert task.held_at and task.sampled_at and task.resolved_at
