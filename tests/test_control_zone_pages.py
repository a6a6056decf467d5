"""Risk-zone pages: list with counts and downgrade dates, drawing, the zone page with the
households and persons inside, new cases, and the lifting workflow street → district → city
through the pages. The services themselves: test_control_zones.py."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Building, Household
from epigrid.audit.services import history
from epigrid.control import services
from epigrid.control.models import Zone
from epigrid.control.zone_views import attach_counts
from tests.scoping import PASSWORD, ScopedViewTests, make_person

TODAY = timezone.localdate()
LIST = "/control/zones/"
ADD = "/control/zones/add/"


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def url(zone, action=""):
    base = reverse("control:zone_detail", args=[zone.pk])
    return f"{base}{action}/" if action else base


@pytest.fixture(autouse=True)
def _english(settings):
    # Assertions read English messages; the zh_Hans catalogue may translate them any day.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def city_commander(cast):
    Grant.objects.create(user=cast.commander, role="district_commander", area=cast.city)
    return cast.commander


def draw(cast, grid=None, level="high", last_case=8, **fields):
    """A zone whose last case was `last_case` days ago (high, 第九版: may go to medium today at 8)."""
    return services.draw_zone(
        grid or cast.grid_a, level, started_on=days_ago(last_case), last_case_on=days_ago(last_case), **fields
    )


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def post(client, path, data=None):
    response = client.post(path, data or {}, follow=True)
    assert response.status_code == 200, response.status_code
    return response


class TestZonePages(ScopedViewTests):
    model = Zone
    list_url = LIST

    def make_object(self, cast, grid):
        building = cast.building_a if grid == cast.grid_a else cast.building_b
        return draw(cast, grid, building=building)

    def detail_url(self, obj):
        return url(obj)

    def list_text(self, obj):
        return obj.building.name

    def edit_data(self, cast, obj):
        return {"rules_text": "足不出户，服务上门"}


# The list


def test_it_lists_a_zone_with_level_case_free_days_next_level_and_counts(cast):
    make_person(household=cast.household_a, name="楼内甲")
    make_person(household=cast.household_a, name="楼内乙")
    draw(cast, building=cast.building_a, unit="1", last_case=3)
    html = page(cast.client_for(cast.grid_worker), LIST)
    assert "第一网格 / 1号楼 / unit 1" in html
    assert "High-risk area" in html and "In force" in html
    may_from = days_ago(3) + datetime.timedelta(days=8)
    assert f"Medium-risk area from {may_from:%Y-%m-%d}" in html
    row = html[html.index("1号楼") :]
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:9]]
    assert cells[4:] == ["3", f"Medium-risk area from {may_from:%Y-%m-%d}", "1", "2"]


def test_it_says_when_the_next_step_lifts_the_zone(cast):
    draw(cast, level="medium", last_case=1)
    assert f"lifted from {days_ago(1) + datetime.timedelta(days=4):%Y-%m-%d}" in page(
        cast.client_for(cast.grid_worker), LIST
    )


def test_it_counts_like_the_services_for_area_building_and_unit_zones(cast):
    other = Building.objects.create(area=cast.grid_a, name="2号楼")
    Household.objects.create(building=other, unit="1", room="301")
    Household.objects.create(building=cast.building_a, unit="2", room="102")
    for household in (cast.household_a, cast.household_a, cast.household_b):
        make_person(household=household)
    make_person(area=cast.grid_a)  # no household: inside an area zone, not a building zone
    merged = make_person(household=cast.household_a)
    merged.merged_into = make_person(household=cast.household_b)
    merged.save()
    zones = [
        draw(cast, cast.community),
        draw(cast, cast.grid_a),
        draw(cast, cast.grid_b),
        draw(cast, building=cast.building_a),
        draw(cast, building=cast.building_a, unit="1"),
        draw(cast, building=other, unit="1"),
    ]
    attach_counts(zones)
    for zone in zones:
        assert zone.household_count == services.zone_households(zone).count(), zone
        assert zone.person_count == services.zone_persons(zone).count(), zone
    assert [(z.household_count, z.person_count) for z in zones] == [
        (4, 5),
        (3, 3),
        (1, 2),
        (2, 2),
        (1, 2),
        (1, 0),
    ]


def test_it_lists_a_page_of_zones_in_a_constant_number_of_queries(cast):
    client = cast.client_for(cast.commander)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    draw(cast, cast.grid_a)
    draw(cast, building=cast.building_a)
    client.get(LIST)  # session, content types
    few = count()
    for n in range(6):
        draw(cast, cast.grid_b if n % 2 else cast.community)
        draw(cast, cast.grid_b, building=cast.building_b, unit=str(n))
    assert count() == few <= 12


def test_it_filters_zones_by_area_level_and_status(cast):
    draw(cast, cast.grid_a, building=cast.building_a)
    medium = draw(cast, cast.grid_b, level="medium", building=cast.building_b)
    client = cast.client_for(cast.commander)
    html = page(client, f"{LIST}?area={cast.grid_b.code}")
    assert "9号楼" in html and "1号楼" not in html
    html = page(client, f"{LIST}?level=high")
    assert "1号楼" in html and "9号楼" not in html
    services.apply_lifting(medium, cast.street_officer)
    html = page(client, f"{LIST}?status=applied")
    assert "9号楼" in html and "1号楼" not in html


def test_it_offers_zones_in_the_navigation(cast):
    assert 'href="/control/zones/"' in page(cast.client_for(cast.grid_worker), "/control/")
    assert 'href="/control/zones/"' not in page(cast.client_for(cast.lab), "/areas/")


def test_it_offers_the_add_button_only_to_who_may_draw(cast):
    assert f'href="{ADD}"' in page(cast.client_for(cast.street_officer), LIST)
    assert f'href="{ADD}"' not in page(cast.client_for(cast.grid_worker), LIST)


# Drawing


def draw_data(cast, **overrides):
    return {
        "area": cast.grid_a.pk,
        "building": cast.building_a.pk,
        "unit": "1",
        "level": "high",
        "started_on": TODAY.isoformat(),
        "last_case_on": days_ago(1).isoformat(),
        "rules_text": "足不出户，服务上门",
        **overrides,
    }


def test_it_draws_a_zone_for_the_street_officer(cast):
    response = cast.client_for(cast.street_officer).post(ADD, draw_data(cast))
    zone = Zone.objects.get()
    assert response.status_code == 302 and response["Location"] == url(zone)
    assert (zone.area, zone.building, zone.unit, zone.level, zone.protocol.code) == (
        cast.grid_a,
        cast.building_a,
        "1",
        "high",
        "v9",
    )
    assert (zone.started_on, zone.last_case_on, zone.status) == (TODAY, days_ago(1), "active")


def test_it_offers_the_active_protocols_levels_with_their_labels(cast):
    html = page(cast.client_for(cast.commander), ADD)
    assert '<option value="high">High-risk area</option>' in html
    assert '<option value="medium">Medium-risk area</option>' in html
    assert "Sealed area" not in html


def test_it_refuses_a_level_the_active_protocol_does_not_have(cast):
    response = cast.client_for(cast.street_officer).post(ADD, draw_data(cast, level="sealed"))
    assert response.status_code == 400
    assert "level" in response.context["form"].errors
    assert not Zone.objects.exists()


def test_it_refuses_a_building_outside_the_area_and_a_unit_without_building(cast):
    client = cast.client_for(cast.street_officer)
    response = client.post(ADD, draw_data(cast, area=cast.grid_b.pk))
    assert response.status_code == 400
    assert "The building is not inside the zone's area." in response.context["form"].errors["building"]
    response = client.post(ADD, draw_data(cast, building=""))
    assert "A unit needs its building." in response.context["form"].errors["unit"]
    assert not Zone.objects.exists()


def test_it_refuses_a_last_case_in_the_future(cast):
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    response = cast.client_for(cast.street_officer).post(ADD, draw_data(cast, last_case_on=tomorrow))
    assert response.status_code == 400
    assert response.context["form"].errors["last_case_on"] == ["This date is in the future."]


def test_it_refuses_an_area_outside_where_the_user_may_draw(cast):
    response = cast.client_for(cast.street_officer).post(ADD, draw_data(cast, area=cast.city.pk, building=""))
    assert response.status_code == 400
    assert "area" in response.context["form"].errors
    assert not Zone.objects.exists()


@pytest.mark.parametrize("user", ["grid_worker", "community_officer", "auditor", "nobody"])
def test_it_forbids_drawing_to_roles_without_add_zone(cast, user):
    client = cast.client_for(getattr(cast, user))
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, draw_data(cast)).status_code == 403
    assert not Zone.objects.exists()


# The zone page


def test_it_shows_the_households_and_persons_inside_masked(cast):
    inside = make_person(household=cast.household_a, name="楼内甲", phone="13812345678")
    make_person(household=cast.household_b, name="楼外乙")
    zone = draw(cast, building=cast.building_a, rules_text="足不出户")
    html = page(cast.client_for(cast.grid_worker), url(zone))
    assert "楼内甲" in html and "楼外乙" not in html
    assert inside.masked_doc_number in html and inside.doc_number not in html
    assert "138****5678" in html and "13812345678" not in html
    assert cast.household_a.address in html and cast.household_b.address not in html
    assert "足不出户" in html


def test_it_shows_the_zone_page_in_a_constant_number_of_queries(cast):
    zone = draw(cast, building=cast.building_a)
    client = cast.client_for(cast.street_officer)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(zone)).status_code == 200
        return len(queries)

    make_person(household=cast.household_a)
    client.get(url(zone))  # session, content types
    few = count()
    for n in range(5):
        household = Household.objects.create(building=cast.building_a, unit="1", room=f"5{n:02d}")
        make_person(household=household)
    services.record_case(zone, days_ago(1))
    assert count() == few <= 20


def test_it_pages_the_persons_inside(cast):
    for n in range(53):
        make_person(household=cast.household_a, name=f"居民{n:02d}")
    zone = draw(cast, building=cast.building_a)
    client = cast.client_for(cast.grid_worker)
    first = client.get(url(zone))
    assert len(first.context["persons"]) == 50 and first.context["persons"].paginator.count == 53
    assert 'data-testid="persons-next"' in first.content.decode()
    second = client.get(url(zone), {"persons_page": 2})
    assert [p.name for p in second.context["persons"]] == ["居民50", "居民51", "居民52"]


def test_it_edits_the_rules_text_only(cast):
    zone = draw(cast, building=cast.building_a)
    client = cast.client_for(cast.street_officer)
    response = client.post(url(zone, "edit"), {"rules_text": "人不出区", "level": "low"})
    assert response.status_code == 302 and response["Location"] == url(zone)
    zone.refresh_from_db()
    assert (zone.rules_text, zone.level) == ("人不出区", "high")


def test_it_records_a_new_case_and_restarts_the_count(cast):
    zone = draw(cast, building=cast.building_a, last_case=8)
    client = cast.client_for(cast.street_officer)
    response = post(client, url(zone, "case"), {"day": days_ago(2).isoformat()})
    zone.refresh_from_db()
    assert zone.last_case_on == days_ago(2)
    assert f"New case on {days_ago(2):%Y-%m-%d} recorded" in messages_of(response)[0]
    assert response.context["case_free_days"] == 2
    response = post(client, url(zone, "case"), {"day": days_ago(5).isoformat()})
    zone.refresh_from_db()
    assert zone.last_case_on == days_ago(2)
    assert messages_of(response) == [f"The count already runs from a later case on {days_ago(2):%Y-%m-%d}."]


def test_it_refuses_a_new_case_in_the_future(cast):
    zone = draw(cast)
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    response = cast.client_for(cast.street_officer).post(url(zone, "case"), {"day": tomorrow})
    assert response.status_code == 400
    assert response.context["case_form"].errors["day"] == ["This date is in the future."]


@pytest.mark.parametrize("user", ["auditor", "grid_worker", "community_officer"])
def test_it_forbids_a_new_case_to_roles_that_cannot_change_zones(cast, user):
    zone = draw(cast)
    client = cast.client_for(getattr(cast, user))
    assert 'data-testid="case-form"' not in page(client, url(zone))
    assert client.post(url(zone, "case"), {"day": TODAY.isoformat()}).status_code == 403


def test_it_hides_the_zone_and_its_actions_from_another_grid(cast):
    zone = draw(cast, cast.grid_a, building=cast.building_a)
    client = cast.client_for(cast.grid_worker_b)
    for action in ("", "case", "apply", "evaluate", "approve"):
        response = client.get(url(zone, action)) if not action else client.post(url(zone, action), {})
        assert response.status_code == 404, action


# The lifting workflow through the pages


def forms_shown(client, zone):
    html = page(client, url(zone))
    return {step for step in ("apply", "evaluate", "approve") if f'data-testid="{step}-form"' in html}


def test_it_downgrades_a_high_zone_through_street_district_and_city(cast, city_commander):
    zone = draw(cast, building=cast.building_a, last_case=8)
    street = cast.client_for(cast.street_officer)
    district = cast.client_for(cast.commander)  # holds a district and (fixture) a city grant
    assert forms_shown(street, zone) == {"apply"}
    response = post(street, url(zone, "apply"), {"note": "连续7天无新增"})
    assert messages_of(response) == ["Applied for lifting; the district evaluates next."]
    assert forms_shown(street, zone) == set()
    assert forms_shown(district, zone) == {"evaluate"}
    response = post(district, url(zone, "evaluate"), {"decision": "approve", "note": "评估通过"})
    assert messages_of(response) == ["Evaluated; the city approves next."]
    assert forms_shown(district, zone) == {"approve"}
    response = post(district, url(zone, "approve"), {"decision": "approve"})
    assert messages_of(response) == ["The zone is now a Medium-risk area."]
    zone.refresh_from_db()
    assert (zone.level, zone.status, zone.started_on) == ("medium", "active", TODAY)
    html = response.content.decode()
    assert "连续7天无新增" in html and "评估通过" in html
    assert [(h.source, h.target) for h in history(zone)] == [
        ("active", "applied"),
        ("applied", "evaluated"),
        ("evaluated", "active"),
    ]


def test_it_lifts_a_medium_zone_through_the_pages(cast, city_commander):
    zone = draw(cast, level="medium", last_case=4)
    post(cast.client_for(cast.street_officer), url(zone, "apply"))
    district = cast.client_for(cast.commander)
    post(district, url(zone, "evaluate"), {"decision": "approve"})
    response = post(district, url(zone, "approve"), {"decision": "approve"})
    assert messages_of(response) == ["The zone is lifted."]
    zone.refresh_from_db()
    assert zone.status == "lifted"
    html = response.content.decode()
    assert 'data-testid="case-form"' not in html and 'data-testid="downgrade"' not in html


def test_it_refuses_an_early_application_with_a_message(cast):
    zone = draw(cast, last_case=3)
    client = cast.client_for(cast.street_officer)
    may_from = days_ago(3) + datetime.timedelta(days=8)
    assert f"Not before {may_from:%Y-%m-%d}." in page(client, url(zone))
    response = post(client, url(zone, "apply"))
    assert messages_of(response) == [
        f"3 case-free days so far; this zone may be downgraded from {may_from:%Y-%m-%d}."
    ]
    zone.refresh_from_db()
    assert zone.status == "active"


def test_it_refuses_an_application_from_a_street_officer_granted_below_the_street(cast):
    officer = User.objects.create_user("community_street_role", password=PASSWORD)
    Grant.objects.create(user=officer, role="street_officer", area=cast.community)
    zone = draw(cast)
    client = cast.client_for(officer)
    assert forms_shown(client, zone) == set()
    response = post(client, url(zone, "apply"))
    assert messages_of(response) == ["Only the street (or above) applies for lifting a zone."]
    zone.refresh_from_db()
    assert zone.status == "active"


def test_it_refuses_an_approval_from_the_district_with_a_message(cast):
    zone = draw(cast)
    services.apply_lifting(zone, cast.street_officer)
    services.evaluate_lifting(zone, cast.commander, approve=True)
    client = cast.client_for(cast.commander)  # a district grant only
    assert forms_shown(client, zone) == set()
    response = post(client, url(zone, "approve"), {"decision": "approve"})
    assert messages_of(response) == ["Only the city approves lifting a zone."]
    zone.refresh_from_db()
    assert zone.status == "evaluated"


def test_it_refuses_a_step_out_of_turn_with_a_message(cast, city_commander):
    zone = draw(cast)
    response = post(cast.client_for(cast.commander), url(zone, "approve"), {"decision": "approve"})
    assert messages_of(response) == ["This step does not apply now: the zone is “In force”."]
    zone.refresh_from_db()
    assert zone.status == "active"


def test_it_needs_a_reason_to_return_an_application(cast):
    zone = draw(cast)
    services.apply_lifting(zone, cast.street_officer)
    client = cast.client_for(cast.commander)
    response = client.post(url(zone, "evaluate"), {"decision": "refuse"})
    assert response.status_code == 400
    assert response.context["evaluate_form"].errors["note"] == ["Give the reason for the refusal."]
    response = post(client, url(zone, "evaluate"), {"decision": "refuse", "note": "仍有风险"})
    assert messages_of(response) == ["The application was returned; the zone stays in force."]
    zone.refresh_from_db()
    assert zone.status == "active"
    assert "仍有风险" in response.content.decode()


def test_it_returns_to_force_when_the_city_refuses(cast, city_commander):
    zone = draw(cast)
    services.apply_lifting(zone, cast.street_officer)
    services.evaluate_lifting(zone, cast.commander, approve=True)
    response = post(
        cast.client_for(cast.commander), url(zone, "approve"), {"decision": "refuse", "note": "再观察"}
    )
    assert messages_of(response) == ["The application was refused; the zone stays in force."]
    zone.refresh_from_db()
    assert (zone.status, zone.level) == ("active", "high")


@pytest.mark.parametrize(
    ("user", "step"),
    [
        ("auditor", "apply"),
        ("community_officer", "apply"),
        ("grid_worker", "apply"),
        ("street_officer", "evaluate"),
        ("street_officer", "approve"),
        ("admin", "apply"),
        ("auditor", "approve"),
    ],
)
def test_it_forbids_a_step_to_roles_without_its_permission(cast, user, step):
    zone = draw(cast)
    client = cast.client_for(getattr(cast, user))
    assert client.get(url(zone)).status_code == 200
    assert client.post(url(zone, step), {"decision": "approve"}).status_code == 403
    zone.refresh_from_db()
    assert zone.status == "active"
