"""A community secretary sends the daily report on a phone (issue 13): today's report pre-filled
from the ledger, a typed figure that differs from the live one refused with the reason beside the
input and the typed values kept, explained and sent with one tap; the card then says sent. Then
the zero-report path. 390×844, Chinese (see conftest.py for the browser set-up)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from epigrid.control.models import KeyPerson, Protocol
from epigrid.reports.models import Submission
from tests.reports_cast import reports
from tests.scoping import make_person

pytestmark = pytest.mark.browser


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _taps_are_44px(locator):
    for i in range(locator.count()):
        box = locator.nth(i).bounding_box()
        assert box and box["height"] >= 44, box


def test_a_community_secretary_sends_the_daily_report(cast, page, log_in, shot):
    r = reports(cast)
    today = timezone.localdate()
    KeyPerson.objects.create(
        person=make_person(area=cast.grid_a),
        area=cast.grid_a,
        category="high_risk_arrival",
        protocol=Protocol.objects.get(is_active=True),
        identified_on=today,
        arrival=today,
    )

    log_in(cast.community_officer)
    page.goto("/reports/today/")
    cards = page.get_by_test_id("report-card")
    expect(cards).to_have_count(2)
    daily = cards.filter(has_text=r.daily.name)
    expect(daily.get_by_test_id("deadline")).to_contain_text("16:00")
    _taps_are_44px(daily.get_by_test_id("open-report"))
    _no_sideways_scrolling(page)
    shot(page, "reports_today")

    daily.get_by_test_id("open-report").tap()
    expect(page.get_by_test_id("input-kp_high_risk_arrival")).to_have_value("1")  # from the ledger
    expect(page.get_by_test_id("live-new_arrivals")).to_contain_text("1")
    _taps_are_44px(page.get_by_test_id("send-report"))
    _no_sideways_scrolling(page)
    page.get_by_test_id("input-new_arrivals").fill("0")  # the secretary knows better
    page.get_by_test_id("input-service_requests").fill("3")
    page.get_by_test_id("input-problems_found").fill("1")
    page.get_by_test_id("send-report").tap()

    expect(page.get_by_test_id("error-new_arrivals")).to_be_visible()
    expect(page.get_by_test_id("input-service_requests")).to_have_value("3")  # kept
    assert not Submission.objects.exists()
    _no_sideways_scrolling(page)
    shot(page, "reports_difference")

    page.get_by_test_id("explain-new_arrivals").fill("已转往外地集中隔离")
    page.get_by_test_id("send-report").tap()
    expect(
        page.get_by_test_id("status-on_time").or_(page.get_by_test_id("status-late")).first
    ).to_be_visible()
    row = Submission.objects.get(form=r.daily)
    assert row.values["service_requests"] == 3 and row.explanations == {"new_arrivals": "已转往外地集中隔离"}
    assert row.live["new_arrivals"] == 1 and row.submitted_by == cast.community_officer
    _no_sideways_scrolling(page)
    shot(page, "reports_sent")

    # Yesterday's report was never sent: its page says so; the zero path sends it as a zero report.
    yesterday = today - datetime.timedelta(days=1)
    page.goto(f"/reports/{r.daily.code}/{cast.community.code}/{yesterday.isoformat()}/")
    expect(page.get_by_test_id("status-overdue")).to_be_visible()
    page.get_by_test_id("zero-path").tap()
    expect(page.get_by_test_id("zero-statement")).to_be_visible()
    page.get_by_test_id("send-report").tap()
    expect(page.get_by_test_id("report-card")).to_have_count(2)  # back on today's page
    zero = Submission.objects.get(form=r.daily, day=yesterday)
    assert zero.zero and zero.late and zero.values["problems_found"] == 0


def test_a_commander_drills_down_the_rollup_on_a_phone(cast, page, log_in, shot):
    r = reports(cast)
    today = timezone.localdate()
    r.send(day=today, hour=0, service_requests=2)
    log_in(cast.commander)
    page.goto("/reports/rollup/")
    expect(page.get_by_test_id("rollup-row")).to_have_count(2)  # the district's two streets
    _no_sideways_scrolling(page)
    shot(page, "reports_rollup_district")
    page.get_by_test_id("drill").first.tap()
    expect(page.get_by_test_id("rollup-row")).to_have_count(2)  # the street's two communities
    expect(page.get_by_test_id("missing-unit")).to_have_count(1)
    expect(page.get_by_test_id("missing")).to_contain_text("东岗社区")
    _no_sideways_scrolling(page)
    shot(page, "reports_rollup_street")
