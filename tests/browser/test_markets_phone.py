"""The market inspector on a phone (390×844): records an inspection that closes a live-poultry
point, then re-inspects it from the closure's card and reopens it; tap targets are 44 px and
nothing scrolls sideways; the outlets list becomes cards (see conftest.py for the browser set-up)."""

from playwright.sync_api import expect

from epigrid.markets.models import Closure
from tests.markets_cast import markets


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def test_the_inspector_closes_and_reopens_a_live_poultry_point_from_a_phone(
    cast, page, log_in, shot, live_server
):
    m = markets(cast)
    log_in(m.inspector)

    page.goto(f"{live_server.url}/markets/inspect/?outlet={m.poultry.pk}")
    form = page.get_by_test_id("inspection-form")
    form.locator("select[name=result]").select_option("closed")
    form.locator("textarea[name=findings]").fill("违规宰杀活禽，现场未消毒")
    assert form.locator("label[for=id_masks_ok]").locator("..").bounding_box()["height"] >= 44
    assert form.get_by_test_id("record").bounding_box()["height"] >= 44
    _no_sideways_scrolling(page)
    shot(page, "markets_inspect")
    form.get_by_test_id("record").tap()
    expect(page.locator(".alert-warning")).to_be_visible()

    card = page.get_by_test_id("closure-card").filter(has_text=m.poultry.name)
    expect(card).to_have_count(1)
    card.locator("textarea[name=findings]").fill("已全面清洗消毒，环境样本阴性")
    card.locator("input[name=reopen][value='1']").check()
    assert card.get_by_test_id("reinspect").bounding_box()["height"] >= 44
    _no_sideways_scrolling(page)
    card.get_by_test_id("reinspect").tap()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("no-closures")).to_be_visible()

    closure = Closure.objects.get(outlet=m.poultry)
    assert (closure.status, closure.reinspections) == ("reopened", 1)

    page.goto(f"{live_server.url}/markets/")
    expect(page.locator("td[data-label]").first).to_be_visible()
    _no_sideways_scrolling(page)
    shot(page, "markets_outlets")
