"""A volunteer on a phone (issue 13): opens "my shifts", taps 签到 inside the window, sees they are
on duty, taps 签退; a later shift says check-in opens later. A community officer's roster on the
same phone shows posts as cards with tonight's gaps. 390×844, Chinese (see conftest.py)."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from epigrid.rosters import services
from epigrid.rosters.models import Assignment
from tests.rosters_cast import duty


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _taps_are_44px(locator):
    box = locator.bounding_box()
    assert box and box["height"] >= 44, box


def test_a_volunteer_checks_in_and_out_from_the_phone(cast, page, log_in, shot):
    d = duty(cast)
    now = timezone.now()
    soon = d.shift(d.post_a, start=now + datetime.timedelta(minutes=20))
    later = d.shift(d.post_b, start=now + datetime.timedelta(hours=20))
    d.on(soon, d.volunteer)
    d.on(later, d.volunteer)

    log_in(d.volunteer_user, password="x")
    page.goto("/rosters/my/")
    cards = page.get_by_test_id("my-shift")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(d.post_a.name)
    expect(cards.nth(1).get_by_test_id("opens-later")).to_be_visible()
    button = cards.first.get_by_test_id("check-in")
    _taps_are_44px(button)
    _no_sideways_scrolling(page)
    shot(page, "rosters_my_shifts")

    button.tap()
    expect(page.get_by_test_id("my-shift").first.get_by_test_id("checked-in-at")).to_be_visible()
    out = page.get_by_test_id("my-shift").first.get_by_test_id("check-out")
    _taps_are_44px(out)
    row = Assignment.objects.get(shift=soon)
    assert row.status == "on_duty" and not row.late

    out.tap()
    expect(page.get_by_test_id("my-shift").first.get_by_test_id("check-out")).to_have_count(0)
    row.refresh_from_db()
    assert row.status == "done" and row.checked_out_at is not None
    _no_sideways_scrolling(page)


def test_a_community_officer_sees_the_roster_as_cards_with_tonights_gap(cast, page, log_in, shot):
    d = duty(cast)
    evening, _morning = services.tonight()
    night = d.shift(d.post_a, start=evening + datetime.timedelta(minutes=1), hours=4)
    d.on(night, d.cadre)

    log_in(cast.community_officer)
    page.goto("/rosters/")
    expect(page.get_by_test_id("roster-card").first).to_be_visible()
    expect(page.get_by_test_id("roster-grid")).to_be_hidden()
    expect(page.get_by_test_id("gap").first).to_contain_text(d.post_a.name)
    _taps_are_44px(page.get_by_test_id("gap").first)
    _no_sideways_scrolling(page)
    shot(page, "rosters_roster_phone")
