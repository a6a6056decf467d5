"""Registering a person on a phone: the household is found by typing, not scrolled for."""

import datetime

from playwright.sync_api import expect

from epigrid.areas.models import Household
from epigrid.core.identity import make_resident_id
from epigrid.people.models import Person


def test_it_registers_a_person_choosing_the_household_by_search(cast, page, log_in):
    for room in range(300, 340):  # enough households that a plain list would be unusable
        Household.objects.create(building=cast.building_a, unit="1", room=str(room))
    number = make_resident_id("620102", datetime.date(1952, 6, 1), 71)
    log_in(cast.grid_worker)
    page.goto("/people/add/")
    page.locator("#id_doc_number").fill(number)
    page.locator("#id_name").fill("陈桂兰")
    page.locator("#id_phone").fill("139 3100 0000")
    household_box = page.locator(".autocomplete", has=page.locator("#id_household"))
    household_box.locator("input[type=search]").fill("1号楼 101")
    expect(household_box.locator(f'option[value="{cast.household_a.pk}"]')).to_have_count(1)
    page.locator("#id_household").select_option(str(cast.household_a.pk))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page.get_by_test_id("person-name")).to_have_text("陈桂兰")
    person = Person.objects.get(doc_number=number)
    assert (person.household, person.area, person.birth_date) == (
        cast.household_a,
        cast.grid_a,
        datetime.date(1952, 6, 1),
    )
