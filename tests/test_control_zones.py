"""Risk zones: downgrade dates, the lifting workflow by level, persons and households inside."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from epigrid.accounts.models import Grant
from epigrid.audit.services import history
from epigrid.control import services
from epigrid.control.models import Protocol
from tests.scoping import make_person

D = datetime.date(2022, 7, 1)


@pytest.fixture
def zone(cast):
    return services.draw_zone(
        cast.grid_a, "high", started_on=D, last_case_on=D, rules_text="足不出户，服务上门"
    )


@pytest.fixture
def city_commander(cast):
    Grant.objects.create(user=cast.commander, role="district_commander", area=cast.city)
    return cast.commander


def test_it_counts_case_free_days_and_the_downgrade_date(zone):
    assert zone.case_free_days(D + datetime.timedelta(days=5)) == 5
    assert zone.downgrade() == ("medium", D + datetime.timedelta(days=8))


def test_it_restarts_the_count_on_a_new_case(zone):
    services.record_case(zone, D + datetime.timedelta(days=3))
    assert zone.downgrade() == ("medium", D + datetime.timedelta(days=11))


def test_it_refuses_a_level_the_protocol_does_not_know(cast):
    with pytest.raises(ValidationError):
        services.draw_zone(cast.grid_a, "sealed", started_on=D)


def test_it_refuses_an_application_before_enough_case_free_days(cast, zone):
    with pytest.raises(ValidationError):
        services.apply_lifting(zone, cast.street_officer, today=D + datetime.timedelta(days=7))


def test_it_refuses_an_application_from_a_community(cast, zone):
    with pytest.raises(PermissionDenied):
        services.apply_lifting(zone, cast.community_officer, today=D + datetime.timedelta(days=8))


def test_it_downgrades_high_to_medium_through_street_district_and_city(cast, zone, city_commander):
    day = D + datetime.timedelta(days=8)
    services.apply_lifting(zone, cast.street_officer, "连续7天无新增", today=day)
    services.evaluate_lifting(zone, cast.commander, approve=True, note="评估通过")
    services.approve_lifting(zone, city_commander, approve=True, today=day)
    zone.refresh_from_db()
    assert (zone.level, zone.status, zone.started_on) == ("medium", "active", day)
    assert [(h.source, h.target) for h in history(zone)] == [
        ("active", "applied"),
        ("applied", "evaluated"),
        ("evaluated", "active"),
    ]


def test_it_lifts_a_medium_zone_when_it_reaches_low(cast, city_commander):
    zone = services.draw_zone(cast.grid_a, "medium", started_on=D)
    day = D + datetime.timedelta(days=4)
    services.apply_lifting(zone, cast.street_officer, today=day)
    services.evaluate_lifting(zone, cast.commander, approve=True)
    services.approve_lifting(zone, city_commander, approve=True, today=day)
    zone.refresh_from_db()
    assert zone.status == "lifted"


def test_it_needs_the_city_to_approve(cast, zone):
    services.apply_lifting(zone, cast.street_officer, today=D + datetime.timedelta(days=8))
    services.evaluate_lifting(zone, cast.commander, approve=True)
    with pytest.raises(PermissionDenied):
        services.approve_lifting(zone, cast.commander, approve=True)  # a district grant is not the city


def test_it_returns_a_rejected_application_to_force(cast, zone):
    services.apply_lifting(zone, cast.street_officer, today=D + datetime.timedelta(days=8))
    services.evaluate_lifting(zone, cast.commander, approve=False, note="仍有风险")
    zone.refresh_from_db()
    assert zone.status == "active"


def test_it_lists_persons_and_households_inside_a_building_zone(cast):
    inside = make_person(household=cast.household_a)
    make_person(household=cast.household_b)
    zone = services.draw_zone(cast.grid_a, "high", started_on=D, building=cast.building_a)
    assert list(services.zone_persons(zone)) == [inside]
    assert list(services.zone_households(zone)) == [cast.household_a]


def test_it_lifts_a_twenty_measures_high_zone_after_5_case_free_days(cast, city_commander):
    services.activate(Protocol.objects.get(code="twenty"))
    zone = services.draw_zone(cast.grid_a, "high", started_on=D, building=cast.building_a, unit="1")
    assert zone.downgrade() == ("low", D + datetime.timedelta(days=6))
    day = D + datetime.timedelta(days=6)
    services.apply_lifting(zone, cast.street_officer, today=day)
    services.evaluate_lifting(zone, cast.commander, approve=True)
    services.approve_lifting(zone, city_commander, approve=True, today=day)
    zone.refresh_from_db()
    assert zone.status == "lifted"


def test_it_audits_zone_changes(cast, zone):
    from epigrid.audit.models import ObjectChange

    services.record_case(zone, D + datetime.timedelta(days=2))
    change = ObjectChange.objects.filter(
        content_type__model="zone", object_id=zone.pk, action="update"
    ).latest("id")
    assert change.postchange_data == {"last_case_on": "2022-07-03"}
