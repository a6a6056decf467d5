"""End-to-end flows on a phone-sized screen, in the real browser (see conftest.py)."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_assets_loaded
from tests.scoping import PASSWORD, make_person

MASKED_ID = re.compile(r"^\d{4}\*{10}\d{3}[\dX]$")


def search(page, text):
    form = page.locator("main form[role=search]")
    form.locator("input[name=q]").fill(text)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def results(page):
    return page.locator("main table")


def test_it_shows_a_grid_worker_only_masked_personal_data_on_a_phone(cast, page, log_in, shot):
    person = make_person(household=cast.household_a, name="李秀英", phone="+8613812345678")
    other = make_person(household=cast.household_a, name="王建国")
    full_id, masked_id = person.doc_number, person.masked_doc_number
    assert MASKED_ID.match(masked_id)

    log_in(cast.grid_worker)
    # The grid worker lands on today's work (decision in issue 8), then opens the person search;
    # the navigation is collapsed behind the toggler.
    assert page.url.endswith("/control/today/")
    page.goto("/people/")
    expect(page.locator(".navbar-toggler")).to_be_visible()
    expect(page.locator("#nav")).to_be_hidden()
    shot(page, "person_list")

    search(page, "李秀")
    expect(results(page)).to_contain_text("李秀英")
    expect(results(page)).not_to_contain_text(other.name)
    expect(results(page)).to_contain_text(masked_id)

    page.locator("main table").get_by_role("link", name="李秀英").click()
    expect(page.get_by_test_id("person-name")).to_have_text("李秀英")
    expect(page.get_by_test_id("doc-number")).to_have_text(masked_id)
    expect(page.get_by_test_id("phone")).to_have_text("138****5678")
    expect(page.get_by_test_id("reveal")).to_have_count(0)  # grid workers cannot reveal
    shot(page, "person_detail")
    html = page.content()
    assert full_id not in html and "13812345678" not in html

    page.get_by_test_id("household-link").click()
    expect(page.get_by_test_id("household-title")).to_be_visible()
    members = page.get_by_test_id("members")
    row = members.locator("tr", has_text="李秀英")
    expect(row.locator("td.masked").nth(0)).to_have_text(masked_id)
    expect(row.locator("td.masked").nth(1)).to_have_text("138****5678")
    expect(members).to_contain_text(other.name)
    shot(page, "household")
    html = page.content()
    assert full_id not in html, "full ID number on the household page"
    assert "13812345678" not in html, "full phone number on the household page"
    assert full_id[4:14] not in html  # not even the birth-date middle part

    page.goto(cast.grid_a.get_absolute_url())
    shot(page, "area_detail")
    page.goto("/areas/")
    expect(page.get_by_test_id("area-node")).to_contain_text(cast.grid_a.name)
    shot(page, "area_tree")


def test_it_reveals_the_full_id_after_a_reason_and_logs_the_reveal(cast, page, log_in, shot):
    person = make_person(household=cast.household_a, name="赵敏", phone="+8613912345678")
    reason = "核对身份 for contact tracing"

    log_in(cast.community_officer)
    page.goto(person.get_absolute_url())
    detail_url = page.url
    expect(page.get_by_test_id("doc-number")).to_have_text(person.masked_doc_number)

    page.locator("#id_reason").fill(reason)
    with page.expect_response(lambda r: r.url.endswith(f"/people/{person.pk}/reveal/")) as reveal:
        page.get_by_test_id("reveal").click()
    # htmx posted it and swapped the fragment in: no page load.
    assert reveal.value.request.method == "POST"
    assert reveal.value.request.headers.get("hx-request") == "true"
    assert reveal.value.status == 200
    expect(page.get_by_test_id("doc-number")).to_have_text(person.doc_number)
    expect(page.get_by_test_id("phone")).to_have_text("13912345678")
    expect(page.get_by_test_id("reveal-logged")).to_be_visible()
    assert page.url == detail_url
    shot(page, "person_revealed")

    # The community officer has no audit permission; the auditor reads the log. Log out through
    # the collapsed phone navigation.
    page.locator(".navbar-toggler").click()
    # The menu is long now (every module's entry): wait until it has opened, not mid-animation.
    expect(page.locator("#nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    logout = page.locator("#nav").get_by_role("button", name=re.compile("Log out|退出"))
    logout.scroll_into_view_if_needed()
    with page.expect_navigation(url=re.compile(r"/login/"), timeout=30_000):
        logout.click()
    log_in(cast.auditor)
    page.goto("/audit/?action=reveal")
    row = page.locator("main table tbody tr", has_text=reason)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("赵敏")
    expect(row).to_contain_text("community_officer")
    shot(page, "audit_log")
    assert person.doc_number not in page.content(), "the audit page must not show the full ID"


def test_it_hides_grid_a_from_the_grid_worker_of_grid_b(cast, page, log_in):
    hidden = make_person(household=cast.household_a, name="李秀英")
    visible = make_person(household=cast.household_b, name="李四")

    log_in(cast.grid_worker_b)
    page.goto("/people/")  # a grid worker lands on today's work
    search(page, "李")
    expect(results(page)).to_contain_text(visible.name)
    expect(results(page)).not_to_contain_text(hidden.name)
    search(page, hidden.doc_number)
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"(^|\D)0(\D|$)"))
    expect(results(page)).not_to_contain_text(hidden.name)

    for url in (hidden.get_absolute_url(), cast.household_a.get_absolute_url()):
        response = page.goto(url)
        assert response.status == 404, url
        assert hidden.name not in page.content()


def test_it_speaks_simplified_chinese_by_default_and_switches_to_english(cast, new_context, shot):
    # A browser asking for a language epigrid does not offer gets the default, Simplified Chinese.
    page = new_context(locale="fr-FR").new_page()
    html = page.locator("html")
    footer = page.locator("footer")

    page.goto("/login/")
    expect(html).to_have_attribute("lang", "zh-hans")
    shot(page, "login")
    expect(footer.get_by_role("button", name="简体中文")).to_have_class(re.compile(r"\bfw-bold\b"))
    _fail_login(page)
    # Django's own messages are translated already; epigrid's msgids follow once zh_Hans is filled in.
    expect(page.locator("main .alert-danger")).to_contain_text("密码")

    with page.expect_navigation():
        footer.get_by_role("button", name="English").click()
    assert page.url.endswith("/login/")
    expect(html).to_have_attribute("lang", "en")
    expect(footer.get_by_role("button", name="English")).to_have_class(re.compile(r"\bfw-bold\b"))
    _fail_login(page)
    expect(page.locator("main .alert-danger")).to_contain_text("Please enter a correct username and password")

    # The choice sticks after logging in, and the switch works back to Chinese on any page.
    main = page.locator("main form")
    main.locator("#id_username").fill(cast.grid_worker.get_username())
    main.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        main.locator("button[type=submit]").click()
    assert page.url.endswith("/control/today/")
    page.goto("/people/")
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"\d+ results?"))
    with page.expect_navigation():
        footer.get_by_role("button", name="简体中文").click()
    assert page.url.endswith("/people/")
    expect(html).to_have_attribute("lang", "zh-hans")


def _fail_login(page):
    form = page.locator("main form")
    form.locator("#id_username").fill("nobody")
    form.locator("#id_password").fill("wrong password")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_it_fits_a_small_phone_screen(cast, new_context, log_in, page):
    """No sideways scrolling of the page (wide tables scroll in their own box), the navigation
    collapsed into one bar, and buttons big enough to tap (44 px)."""
    person = make_person(household=cast.household_a, name="李秀英", phone="+8613812345678")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/login/")
    _check_phone_layout(page)
    log_in(cast.community_officer)
    for url in (
        "/people/?q=李",
        person.get_absolute_url(),
        cast.household_a.get_absolute_url(),
        "/areas/",
        cast.grid_a.get_absolute_url(),
        "/areas/households/",
    ):
        page.goto(url)
        _check_phone_layout(page)


def _check_phone_layout(page):
    assert_assets_loaded(page)  # without epigrid.css the buttons are too small anyway
    layout = page.evaluate(
        """() => {
            const box = (el) => el.getBoundingClientRect();
            const visible = (el) => el.offsetParent !== null && box(el).width > 0;
            const brand = document.querySelector(".navbar-brand");
            const toggler = document.querySelector(".navbar-toggler");
            return {
                overflow: document.documentElement.scrollWidth - window.innerWidth,
                navbarOneRow: !toggler || !visible(toggler) || box(toggler).top < box(brand).bottom,
                smallButtons: [...document.querySelectorAll("main .btn, footer .btn")]
                    .filter((b) => visible(b) && box(b).height < 44)
                    .map((b) => `${b.textContent.trim()} (${Math.round(box(b).height)}px)`),
            };
        }"""
    )
    assert layout == {"overflow": 0, "navbarOneRow": True, "smallButtons": []}, (page.url, layout)
