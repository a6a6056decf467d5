"""Lists on a 390 px phone (see conftest.py for the browser set-up): nothing scrolls sideways, table
rows are cards of "label value" lines, and everything to tap is at least 44 px."""

import datetime
import importlib
import re

from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from epigrid.control import services
from epigrid.people.models import Tag
from tests.browser.conftest import assert_assets_loaded
from tests.scoping import make_person

TAP = 44

# Measured in the page: sideways overflow, how table rows are laid out, and every visible link or
# button (in the table, the pagination, the filter form, the navigation) smaller than 44 × 44 px.
LAYOUT = """() => {
    const box = (el) => el.getBoundingClientRect();
    const visible = (el) => el.offsetParent !== null && box(el).width > 0 && box(el).height > 0;
    const rows = [...document.querySelectorAll("main table tbody tr")];
    const cells = rows.length ? [...rows[0].querySelectorAll("td")] : [];
    // A header shown only to screen readers (the cards' thead) is clipped to 1 px.
    const shown = (el) => visible(el) && !(el.closest("thead") && box(el.closest("thead")).width <= 1);
    const targets = [...document.querySelectorAll(
        "main table a, main .pagination a, main .pagination .page-link, main form[role=search] button, "
        + "main .list-group a, nav.navbar a, nav.navbar button"
    )].filter(shown);
    // A stretched link is tapped anywhere in its containing row.
    const area = (el) => (el.classList.contains("stretched-link") ? box(el.parentElement) : box(el));
    return {
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        rowDisplay: rows.length ? getComputedStyle(rows[0]).display : null,
        headerShown: [...document.querySelectorAll("main table thead")].some((h) => box(h).width > 1),
        labels: cells.slice(1).map((td) => getComputedStyle(td, "::before").content),
        small: targets
            .filter((el) => area(el).height < 44 || area(el).width < 44)
            .map((el) => `${el.textContent.trim().slice(0, 20)} (${Math.round(area(el).width)}×${Math.round(area(el).height)})`),
    };
}"""


def _layout(page):
    assert_assets_loaded(page)
    return page.evaluate(LAYOUT)


def _assert_cards(page, first_label):
    layout = _layout(page)
    assert layout["overflow"] <= 0, (page.url, layout)
    assert layout["rowDisplay"] == "flex", (page.url, layout)  # a card, not a table row
    assert not layout["headerShown"], (page.url, layout)
    assert layout["labels"] and layout["labels"][0] == f'"{first_label}"', (page.url, layout)
    assert layout["small"] == [], (page.url, layout)


def _fill_the_grid(cast):
    # The live server's database is flushed between tests, shipped protocols and tags with it.
    if not services.Protocol.objects.filter(is_active=True).exists():
        importlib.import_module("epigrid.control.migrations.0002_shipped_protocols").load(apps, None)
    elderly, _ = Tag.objects.get_or_create(code="elderly_alone", defaults={"name": "独居老人"})
    today = timezone.localdate()
    people = []
    for n, name in enumerate(["李秀英", "王建国", "欧阳娜娜", "张伟", "刘洋"]):
        person = make_person(household=cast.household_a, name=name, phone=f"+861381234567{n}")
        person.tags.add(elderly)
        people.append(person)
    for person in people[:3]:
        services.register_key_person(
            person, "low_risk_arrival", cast.grid_a, arrival=today - datetime.timedelta(days=1)
        )
    return people


def test_it_shows_the_lists_as_cards_on_a_phone(cast, page, log_in, shot):
    _fill_the_grid(cast)
    log_in(cast.grid_worker)
    assert page.viewport_size == {"width": 390, "height": 844}

    page.goto("/people/?per_page=2")
    _assert_cards(page, "证件号码")
    card = page.locator("main table tbody tr").first
    expect(card.locator("td").first.get_by_role("link")).to_be_visible()  # the name is the title
    expect(card).to_contain_text("独居老人")  # the tag column is no longer cut off
    expect(page.get_by_test_id("pagination")).to_contain_text("下一页")
    expect(page.get_by_test_id("pagination")).not_to_contain_text("下一阶段")
    shot(page, "phone_person_list")

    page.goto("/areas/households/")
    _assert_cards(page, "网格")
    shot(page, "phone_household_list")

    page.goto("/control/")
    _assert_cards(page, "证件号码")
    shot(page, "phone_keyperson_list")

    page.goto("/control/today/")
    layout = _layout(page)
    assert layout["overflow"] <= 0 and layout["small"] == [], layout
    expect(page.get_by_test_id("worklist-row").first).to_be_visible()
    shot(page, "phone_today")


def test_it_fits_the_community_roll_up_of_todays_work_on_a_phone(cast, page, log_in, shot):
    _fill_the_grid(cast)
    log_in(cast.community_officer)
    page.goto("/control/today/")
    rollup = page.get_by_test_id("rollup")
    expect(rollup.get_by_test_id("rollup-row")).to_have_count(1)
    layout = _layout(page)
    assert layout["overflow"] <= 0 and layout["small"] == [], layout
    # The counts fit: the table does not scroll sideways inside its own box either.
    assert rollup.evaluate("(t) => t.parentElement.scrollWidth - t.parentElement.clientWidth") <= 0
    shot(page, "phone_today_rollup")


def test_it_folds_the_key_person_filters_into_checkboxes_on_a_phone(cast, page, log_in, shot):
    _fill_the_grid(cast)
    log_in(cast.grid_worker)
    page.goto("/control/")
    more = page.get_by_test_id("more-filters")
    expect(more).to_be_hidden()
    page.get_by_test_id("filter-toggle").tap()
    expect(more).to_be_visible()
    close_contact = more.get_by_role("checkbox", name="密切接触者")
    box = close_contact.locator("xpath=ancestor::div[contains(@class, 'form-check')]").bounding_box()
    assert box["height"] >= TAP, box
    more.get_by_role("checkbox", name=re.compile("低风险")).check()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, "phone_keyperson_filters")
    with page.expect_navigation():
        page.locator("main form[role=search] button[type=submit]").tap()
    assert "category=low_risk_arrival" in page.url
    expect(page.get_by_test_id("more-filters")).to_be_visible()  # a filter in use stays open
    expect(page.locator("main table tbody tr")).to_have_count(3)


def test_it_keeps_the_open_navigation_and_an_empty_list_on_the_screen(cast, page, log_in, shot):
    log_in(cast.community_officer)
    page.goto("/people/?q=不存在的人")
    expect(page.get_by_test_id("empty-text")).to_have_text("暂无记录。")
    page.locator(".navbar-toggler").tap()
    page.wait_for_selector("#nav.collapse.show")  # opened, not still sliding open
    layout = _layout(page)
    assert layout["overflow"] <= 0 and layout["small"] == [], layout
    expect(page.locator("#nav")).not_to_contain_text("接口")  # no API menu for field roles
    shot(page, "phone_nav_open_empty_list")


def test_it_shows_a_chinese_error_page_with_a_way_back_on_a_phone(cast, page, log_in, shot):
    log_in(cast.commander)
    page.goto("/people/")
    response = page.goto("/control/protocols/")
    assert response.status == 403
    expect(page.get_by_test_id("error-heading")).to_have_text("没有权限")
    assert _layout(page)["overflow"] <= 0
    shot(page, "phone_403")
    with page.expect_navigation():
        page.get_by_role("link", name="返回上一页").tap()
    assert page.url.endswith("/people/")


def _tracing_rows(cast):
    """A case with a stop, two contacts and a cluster: the tracing lists and the case page have rows."""
    from epigrid.tracing import services as tracing_services
    from epigrid.tracing.models import Cluster
    from tests.tracing_cast import tracing

    tr = tracing(cast)
    cluster = Cluster.objects.create(name="牛肉面馆聚集", kind="restaurant", area=cast.district)
    case = tr.case("a", person=tr.person(name="病例甲"), cluster=cluster)
    today = timezone.localdate()
    tracing_services.add_stop(None, case, date=today, place="张掖路牛肉面馆", transport="train", transport_number="G1911")
    for name in ("密接甲", "密接乙"):
        tracing_services.add_contact(None, case, tr.person("b", name=name), last_contact=today)
    return case


def _isolation_rows(cast, site):
    """A person checked in at the site: the stays list and the site page have a row."""
    from epigrid.isolation import services as isolation_services
    from tests.isolation_cast import isolation

    iso = isolation(cast)
    stay = isolation_services.allocate(cast.admin, iso.person(name="隔离甲"), iso.room())
    isolation_services.check_in(cast.admin, stay)


def _gate_rows(cast):
    """A gate with a week's passage and a car, and a household pass with an exit and a return."""
    from tests.checkpoint_cast import gates
    from tests.test_passes_cast import passes

    g = gates(cast)
    person = g.person(name="过卡人")
    car = {"client_id": "00000000-0000-4000-8000-0000000000f1", "plate": "甘AD12345"}
    g.record(g.staff_a, g.scan(g.gate_a, person, vehicle=car), g.scan(g.gate_a, person, health_code="yellow"))
    p = passes(cast)
    now = timezone.now()
    household_pass = p.household_pass(valid_from=now - datetime.timedelta(days=1), valid_until=now + datetime.timedelta(days=5))
    p.scan(household_pass, p.mother, "exit", at=now - datetime.timedelta(minutes=30))
    p.scan(household_pass, p.mother, "return", at=now - datetime.timedelta(minutes=10))
    return g.gate_a, household_pass


def test_it_fits_every_list_page_on_a_phone(cast, page, log_in, shot):
    from tests.isolation_cast import Isolation

    _fill_the_grid(cast)
    site = Isolation(cast).site(rooms=4)  # isolation lists with rows to lay out
    _isolation_rows(cast, site)
    case = _tracing_rows(cast)
    gate, household_pass = _gate_rows(cast)
    log_in(cast.admin)  # sees every module
    for url in (
        "/areas/",
        "/areas/list/",
        "/areas/buildings/",
        "/areas/households/",
        "/people/",
        "/control/",
        "/control/today/",
        "/control/zones/",
        "/control/protocols/",
        "/audit/",
        "/jobs/",
        "/testing/",
        "/transport/",
        "/transport/boxes/",
        "/transport/labs/",
        "/results/",
        "/results/turnaround/",
        "/antigen/",
        "/antigen/kits/",
        "/antigen/reports/",
        "/antigen/followups/",
        "/retests/",
        "/retests/tasks/",
        "/retests/proposals/",
        "/isolation/",
        "/isolation/rooms/",
        "/isolation/stays/",
        site.get_absolute_url(),
        f"/isolation/sites/{site.pk}/waste/",
        "/tracing/",
        "/tracing/contacts/",
        "/tracing/clusters/",
        "/tracing/teams/",
        "/tracing/chains/",
        case.get_absolute_url(),
        "/assistance/",
        "/assistance/persons/",
        "/checkpoints/",
        "/checkpoints/passages/",
        "/checkpoints/vehicles/",
        "/checkpoints/shifts/",
        "/checkpoints/stats/",
        gate.get_absolute_url(),
        "/passes/",
        "/passes/uses/",
        household_pass.get_absolute_url(),
        cast.household_a.get_absolute_url(),
    ):
        page.goto(url)
        layout = _layout(page)
        assert layout["overflow"] <= 0 and layout["small"] == [], (url, layout)
        if layout["rowDisplay"] is not None and url != "/control/today/":
            assert layout["rowDisplay"] == "flex", (url, layout)
        shot(page, "phone_all" + url.strip("/").replace("/", "_"))
