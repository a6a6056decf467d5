"""A tracer at a desk (issue 11): on a case's page they add a trajectory stop and three contacts
(found through the registry search), then open the chain graph, which draws the case and its three
contacts. 1366×900, Chinese (see conftest.py for the browser set-up)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from epigrid.tracing.models import Contact, TrajectoryEntry
from tests.tracing_cast import tracing

pytestmark = pytest.mark.browser


def _pick_person(page, name, person):
    box = page.locator(".autocomplete", has=page.locator("#id_person"))
    box.locator("input[type=search]").fill(name)
    expect(box.locator(f'option[value="{person.pk}"]')).to_have_count(1)
    page.locator("#id_person").select_option(str(person.pk))


def test_a_tracer_adds_a_trajectory_and_three_contacts_and_sees_the_chain(cast, page, log_in, shot):
    tr = tracing(cast)
    case = tr.case(
        "a", person=tr.person(name="病例王"), onset=timezone.localdate() - datetime.timedelta(days=2)
    )
    contacts = [tr.person("b", name=name) for name in ("赵一", "钱二", "孙三")]
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(tr.tracer_a, password="x")
    page.goto(case.get_absolute_url())
    expect(page.get_by_test_id("deadlines")).to_be_visible()

    page.get_by_test_id("stop-form-box").locator("summary").click()
    form = page.get_by_test_id("stop-form")
    form.locator("#id_time_from").fill("12:00")
    form.locator("#id_time_to").fill("13:30")
    form.locator("#id_place").fill("张掖路牛肉面馆")
    form.locator("#id_activity").fill("聚餐")
    with page.expect_navigation():
        form.get_by_test_id("save-stop").click()
    expect(page.get_by_test_id("stop-row")).to_have_count(1)
    expect(page.get_by_test_id("stop-row")).to_contain_text("张掖路牛肉面馆")

    for person in contacts:
        _pick_person(page, person.name, person)
        page.locator("#id_setting").select_option("meal")
        with page.expect_navigation():
            page.get_by_test_id("save-contact").click()
    expect(page.get_by_test_id("contact-row")).to_have_count(3)
    expect(page.get_by_test_id("contact-count")).to_have_text("3")
    shot(page, "tracing_case")

    with page.expect_navigation():
        page.get_by_test_id("case-chain-link").click()
    graph = page.get_by_test_id("chain-graph")
    expect(graph).to_have_attribute("data-ready", "1")
    expect(page.locator('[data-count="cases"]')).to_have_text("1")
    expect(page.locator('[data-count="contacts"]')).to_have_text("3")
    expect(page.locator('[data-count="chains"]')).to_have_text("1")
    expect(graph.locator("canvas")).to_have_count(1)
    shot(page, "tracing_chain")

    assert TrajectoryEntry.objects.get(case=case).place == "张掖路牛肉面馆"
    assert set(Contact.objects.filter(case=case).values_list("person__name", "setting")) == {
        ("赵一", "meal"),
        ("钱二", "meal"),
        ("孙三", "meal"),
    }
