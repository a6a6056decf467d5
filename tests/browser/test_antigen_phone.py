"""Antigen self-tests on a phone (issue 10): a grid worker opens a household of their building,
marks the whole household negative with one tap, then reports one member positive — the nucleic-
acid follow-up heads the antigen pages (see conftest.py for the browser set-up)."""

import re

from playwright.sync_api import expect

from epigrid.antigen.models import AntigenFollowUp, AntigenReport
from epigrid.control.models import KeyPerson
from tests.scoping import make_person
from tests.test_antigen_services import make_round


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def test_a_grid_worker_marks_a_household_negative_and_reports_one_positive(
    cast, page, log_in, shot, live_server
):
    rnd = make_round(cast)
    family = [make_person(household=cast.household_a, name=n) for n in ("张三", "李四", "王五")]
    neighbour = make_person(household=cast.household_b, name="赵六")
    log_in(cast.grid_worker)

    # The round, then the building's kits page: one number per household, one save.
    page.goto(f"{live_server.url}/antigen/")
    page.get_by_role("link", name=rnd.name).first.tap()
    expect(page.locator("h1")).to_contain_text(rnd.name)
    page.get_by_test_id("hand-out-link").tap()
    page.get_by_test_id("building-choice").filter(has_text=cast.building_a.name).tap()
    page.locator(f"#kits-{cast.household_a.pk}").fill("3")
    _no_sideways_scrolling(page)
    shot(page, "antigen_hand_out")
    page.get_by_test_id("save-kits").tap()
    expect(page.locator(".alert-success")).to_be_visible()

    # The household's sheet: all negative with one tap.
    page.get_by_test_id("sheet-link").first.tap()
    expect(page).to_have_url(re.compile(rf"/antigen/rounds/{rnd.pk}/households/{cast.household_a.pk}/$"))
    expect(page.get_by_test_id("member")).to_have_count(3)
    page.get_by_test_id("all-negative").tap()
    expect(page.get_by_test_id("member-result").filter(has_text="阴性")).to_have_count(3)
    expect(page.get_by_test_id("all-negative")).to_have_count(0)
    _no_sideways_scrolling(page)

    # One of them tests again, positive: the follow-up and the key-person entry come with it.
    page.get_by_test_id("member").filter(has_text="李四").get_by_test_id("report-positive").tap()
    expect(page.locator(".alert-success")).to_contain_text("李四")
    expect(page.get_by_test_id("member").filter(has_text="李四")).to_contain_text("阳性")
    box = page.get_by_test_id("report-positive").first.bounding_box()
    assert box["height"] >= 44
    shot(page, "antigen_household")

    page.goto(f"{live_server.url}/antigen/")
    expect(page.get_by_test_id("follow-up-row")).to_have_count(1)
    expect(page.get_by_test_id("follow-up-row")).to_contain_text("李四")
    _no_sideways_scrolling(page)
    shot(page, "antigen_round_list")

    results = dict(AntigenReport.objects.values_list("person__name", "result"))
    assert results == {"张三": "negative", "李四": "positive", "王五": "negative"}
    assert neighbour.pk not in AntigenReport.objects.values_list("person_id", flat=True)
    follow = AntigenFollowUp.objects.get()
    assert follow.person == family[1] and follow.status == "open"
    assert KeyPerson.objects.get(person=family[1]).category == "suspected"
