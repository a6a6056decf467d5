"""Risk zones over the API: the generic scope tests, drawing where one may draw, the fixed
fields, a new case, and the lifting steps street → district → city with their refusals."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.accounts.models import Grant
from epigrid.control import services
from epigrid.control.models import Zone
from tests.scoping import ScopedAPITests, make_person

TODAY = timezone.localdate()
API = "/api/v1/zones/"


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def draw(cast, grid=None, level="high", last_case=8, **fields):
    """A zone whose last case was `last_case` days ago (high, 第九版: may go to medium from day 8)."""
    return services.draw_zone(
        grid or cast.grid_a, level, started_on=days_ago(last_case), last_case_on=days_ago(last_case), **fields
    )


def act(client, zone, step, **data):
    return client.post(f"{API}{zone.pk}/{step}/", data, format="json")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def city_commander(cast):
    Grant.objects.create(user=cast.commander, role="district_commander", area=cast.city)
    return cast.commander


class TestZoneAPI(ScopedAPITests):
    model = Zone
    api_list_url = API

    def make_object(self, cast, grid):
        building = cast.building_a if grid == cast.grid_a else cast.building_b
        make_person(household=cast.household_a if grid == cast.grid_a else cast.household_b)
        return draw(cast, grid, building=building)

    def write_data(self, cast, obj):
        return {"rules_text": "足不出户，服务上门"}


class TestZoneCaseAPI(TestZoneAPI):
    """The same scope rules for the action-based writes."""

    write_action = "case"

    def write_data(self, cast, obj):
        return {"day": str(TODAY)}


# -- reading ------------------------------------------------------------------------------------


def test_it_shows_the_grid_with_its_community_and_the_count(cast):
    zone = draw(cast, building=cast.building_a, unit="1", last_case=3)
    body = _api(cast.grid_worker).get(f"{API}{zone.pk}/").json()
    assert (body["area"], body["area_name"], body["building_name"], body["unit"]) == (
        cast.grid_a.code,
        "九州社区·第一网格",
        "1号楼",
        "1",
    )
    assert (body["level"], body["status"], body["protocol"], body["case_free_days"]) == (
        "high",
        "active",
        "v9",
        3,
    )
    assert (body["next_level"], body["downgrade_from"]) == (
        "medium",
        str(days_ago(3) + datetime.timedelta(days=8)),
    )


def test_it_filters_zones_by_area_level_and_status(cast):
    high = draw(cast, cast.grid_a)
    medium = draw(cast, cast.grid_b, level="medium")
    client = _api(cast.commander)

    def ids(query):
        return [row["id"] for row in client.get(f"{API}?{query}").json()["results"]]

    assert ids(f"area={cast.grid_b.code}") == [medium.pk]
    assert ids("level=high") == [high.pk]
    services.apply_lifting(medium, cast.street_officer)
    assert ids("status=applied") == [medium.pk]


def test_it_lists_zones_in_a_constant_number_of_queries(cast):
    client = _api(cast.commander)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(API).status_code == 200
        return len(queries)

    draw(cast, cast.grid_a, building=cast.building_a)
    count()  # grants, content types
    few = count()
    for n in range(5):
        draw(cast, cast.grid_b, building=cast.building_b, unit=str(n))
        draw(cast, cast.community)
    assert count() == few


# -- drawing ------------------------------------------------------------------------------------


def draw_body(cast, **overrides):
    return {
        "area": cast.grid_a.code,
        "building": cast.building_a.pk,
        "unit": "1",
        "level": "high",
        "started_on": str(TODAY),
        "last_case_on": str(days_ago(1)),
        "rules_text": "足不出户",
        **overrides,
    }


def test_it_draws_a_zone_under_the_active_protocol(cast):
    response = _api(cast.street_officer).post(API, draw_body(cast), format="json")
    assert response.status_code == 201, response.json()
    zone = Zone.objects.get(pk=response.json()["id"])
    assert (zone.building, zone.unit, zone.protocol.code, zone.last_case_on) == (
        cast.building_a,
        "1",
        "v9",
        days_ago(1),
    )


def test_it_refuses_drawing_to_roles_that_may_not(cast):
    assert _api(cast.grid_worker).post(API, draw_body(cast), format="json").status_code == 403
    assert _api(cast.auditor).post(API, draw_body(cast), format="json").status_code == 403


def test_it_refuses_an_area_where_the_user_may_not_draw(cast):
    response = _api(cast.street_officer).post(
        API, draw_body(cast, area=cast.city.code, building=None), format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["area"]


def test_it_refuses_a_level_the_protocol_lacks_a_building_elsewhere_and_a_future_case(cast):
    client = _api(cast.street_officer)
    for overrides, field in (
        ({"level": "sealed"}, "level"),
        ({"building": cast.building_b.pk}, "building"),
        ({"unit": "1", "building": None}, "unit"),
        ({"last_case_on": str(TODAY + datetime.timedelta(days=1))}, "last_case_on"),
    ):
        response = client.post(API, draw_body(cast, **overrides), format="json")
        assert response.status_code == 400 and field in response.json(), (overrides, response.json())
    assert not Zone.objects.exists()


def test_it_changes_the_rules_text_and_refuses_fixed_fields(cast):
    zone = draw(cast)
    client, url = _api(cast.street_officer), f"{API}{zone.pk}/"
    response = client.patch(url, {"rules_text": "只进不出"}, format="json")
    assert response.status_code == 200 and response.json()["rules_text"] == "只进不出"
    for change in ({"level": "medium"}, {"last_case_on": str(TODAY)}, {"area": cast.grid_b.code}):
        response = client.patch(url, change, format="json")
        assert response.status_code == 400 and list(response.json()) == list(change), response.json()
    zone.refresh_from_db()
    assert (zone.level, zone.last_case_on) == ("high", days_ago(8))


# -- a new case ---------------------------------------------------------------------------------


def test_it_records_a_case_and_restarts_the_count(cast):
    zone = draw(cast)
    response = act(_api(cast.street_officer), zone, "case", day=str(days_ago(1)))
    assert response.status_code == 200, response.json()
    assert (response.json()["last_case_on"], response.json()["case_free_days"]) == (str(days_ago(1)), 1)


def test_it_refuses_a_future_case_and_a_case_in_a_lifted_zone(cast, city_commander):
    zone = draw(cast, level="medium")
    client = _api(cast.street_officer)
    response = act(client, zone, "case", day=str(TODAY + datetime.timedelta(days=1)))
    assert response.status_code == 400 and list(response.json()) == ["day"]
    Zone.objects.filter(pk=zone.pk).update(status=Zone.Status.LIFTED)
    response = act(client, zone, "case", day=str(TODAY))
    assert response.status_code == 400 and response.json()["non_field_errors"]


# -- lifting ------------------------------------------------------------------------------------


def test_it_lifts_through_street_district_and_city(cast, city_commander):
    zone = draw(cast)
    response = act(_api(cast.street_officer), zone, "apply", note="8天无新增")
    assert response.status_code == 200 and response.json()["status"] == "applied"
    response = act(_api(cast.commander), zone, "evaluate", decision="approve")
    assert response.status_code == 200 and response.json()["status"] == "evaluated"
    response = act(_api(cast.commander), zone, "approve", decision="approve")
    body = response.json()
    assert response.status_code == 200 and (body["status"], body["level"]) == ("active", "medium")
    assert body["started_on"] == str(TODAY)


def test_it_refuses_a_step_out_of_turn_and_too_early(cast, city_commander):
    client = _api(cast.street_officer)
    early = draw(cast, last_case=2)
    response = act(client, early, "apply")
    assert response.status_code == 400 and response.json()["non_field_errors"]
    zone = draw(cast)
    response = act(_api(cast.commander), zone, "approve", decision="approve")
    assert response.status_code == 400 and response.json()["non_field_errors"]
    assert act(client, zone, "apply").status_code == 200
    again = act(client, zone, "apply")
    assert again.status_code == 400 and again.json()["non_field_errors"]


def test_it_needs_a_reason_to_refuse_and_puts_the_zone_back_in_force(cast):
    zone = draw(cast)
    act(_api(cast.street_officer), zone, "apply")
    client = _api(cast.commander)
    response = act(client, zone, "evaluate", decision="refuse")
    assert response.status_code == 400 and list(response.json()) == ["note"]
    response = act(client, zone, "evaluate", decision="refuse", note="仍有风险")
    assert response.status_code == 200 and response.json()["status"] == "active"


def test_it_answers_403_to_roles_without_the_step(cast):
    zone = draw(cast)
    assert act(_api(cast.grid_worker), zone, "apply").status_code == 403
    assert act(_api(cast.street_officer), zone, "evaluate", decision="approve").status_code == 403
    act(_api(cast.street_officer), zone, "apply")
    act(_api(cast.commander), zone, "evaluate", decision="approve")
    # The district commander evaluates but approves only with a grant on the city.
    response = act(_api(cast.commander), zone, "approve", decision="approve")
    assert response.status_code == 403
    zone.refresh_from_db()
    assert zone.status == Zone.Status.EVALUATED


def test_it_hides_the_steps_of_another_grids_zone(cast):
    zone = draw(cast, cast.grid_a)
    assert act(_api(cast.grid_worker_b), zone, "case", day=str(TODAY)).status_code == 404
