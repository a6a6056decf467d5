"""Temperatures at the isolation sites (decision 0024, addendum): twice-a-day checks per stay,
idempotent per stay/day/slot, range errors said plainly, the fever flag on the site page and the
list, the staff's phone page of today's checks (one save per floor), and scoping of pages and API."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.control import serializers as control_serializers
from epigrid.control.models import FEVER_FROM
from epigrid.isolation import models as isolation_models
from epigrid.isolation import services
from epigrid.isolation.models import Reading
from tests.isolation_cast import isolation
from tests.scoping import ScopedAPITests

MORNING = Reading.Slot.MORNING
AFTERNOON = Reading.Slot.AFTERNOON


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def iso(cast):
    return isolation(cast)


def checked_in(cast, grid=None, number="101", name="隔离人"):
    iso = isolation(cast)
    stay = services.allocate(cast.admin, iso.person(grid, name=name), iso.room(grid, number))
    return services.check_in(cast.admin, stay, now=timezone.now() - datetime.timedelta(days=1))


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def checks_url(site):
    return reverse("isolation:checks", args=[site.pk])


def test_the_range_is_controls():
    assert (isolation_models.TEMPERATURE_MIN, isolation_models.TEMPERATURE_MAX) == (
        control_serializers.TEMPERATURE_MIN,
        control_serializers.TEMPERATURE_MAX,
    )


def test_the_slot_follows_the_hour():
    noon = timezone.make_aware(datetime.datetime(2026, 12, 6, 12, 0))
    assert services.slot_at(noon - datetime.timedelta(minutes=1)) == MORNING
    assert services.slot_at(noon) == AFTERNOON


# Recording


def test_staff_record_a_check(cast, iso):
    stay = checked_in(cast)
    reading, created = services.record_reading(cast.staff_a, stay, "36.6", slot=MORNING)
    assert created and reading.temperature == Decimal("36.6") and reading.recorded_by == cast.staff_a
    assert (reading.day, reading.slot, reading.is_fever) == (timezone.localdate(), MORNING, False)


def test_a_retried_submit_does_not_duplicate(cast, iso):
    stay = checked_in(cast)
    first, created = services.record_reading(cast.staff_a, stay, "36.6", slot=MORNING)
    again, created_again = services.record_reading(cast.staff_a, stay, "36.6", slot=MORNING)
    assert created and not created_again and again.pk == first.pk
    # Re-measured: the same check takes the new value, still one row.
    remeasured, _created = services.record_reading(cast.staff_a, stay, "37.5", slot=MORNING)
    assert remeasured.pk == first.pk and remeasured.temperature == Decimal("37.5")
    services.record_reading(cast.staff_a, stay, "36.4", slot=AFTERNOON)
    assert Reading.objects.filter(stay=stay).count() == 2


@pytest.mark.parametrize("typed", ["366", "33.9", "43.1", "abc", "nan"])
def test_it_refuses_what_is_no_body_temperature(cast, iso, typed):
    stay = checked_in(cast)
    with pytest.raises(ValidationError) as exc:
        services.record_reading(cast.staff_a, stay, typed)
    assert "34.0 and 43.0" in str(exc.value) or "number" in str(exc.value)
    assert not Reading.objects.exists()


def test_only_a_checked_in_person_has_checks(cast, iso):
    stay = services.allocate(cast.admin, iso.person(), iso.room())
    with pytest.raises(ValidationError):
        services.record_reading(cast.staff_a, stay, "36.5")


def test_another_sites_staff_may_not_record(cast, iso):
    stay = checked_in(cast)
    for user in (cast.staff_b, cast.official_a):
        with pytest.raises(PermissionDenied):
            services.record_reading(user, stay, "36.5")


# The fever flag


def test_a_fever_flags_the_room_on_the_site_page_and_the_list(cast, iso):
    stay = checked_in(cast)
    checked_in(cast, number="102", name="正常人")
    reading, _created = services.record_reading(cast.staff_a, stay, str(FEVER_FROM))
    assert reading.is_fever
    client = cast.client_for(cast.staff_a)
    page = client.get(stay.site.get_absolute_url()).content.decode()
    assert page.count('data-testid="room-fever"') == 1 and 'data-testid="stay-fever"' in page
    listing = client.get("/isolation/").content.decode()
    assert 'data-testid="site-fevers">1<' in listing


def test_a_reading_under_the_threshold_flags_nothing(cast, iso):
    stay = checked_in(cast)
    services.record_reading(cast.staff_a, stay, "37.2")
    page = cast.client_for(cast.staff_a).get(stay.site.get_absolute_url()).content.decode()
    assert 'data-testid="room-fever"' not in page


# Today's checks (the phone page)


def test_the_page_shows_each_floors_persons_with_counts(cast, iso):
    a = checked_in(cast, number="101", name="一楼甲")
    checked_in(cast, number="102", name="一楼乙")
    checked_in(cast, number="201", name="二楼丙")
    services.record_reading(cast.staff_a, a, "36.5", slot=MORNING)
    response = cast.client_for(cast.staff_a).get(checks_url(a.site) + "?slot=morning")
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("一楼甲", "一楼乙", "二楼丙"):
        assert name in body
    assert body.count('data-testid="checks-floor"') == 2
    assert "1/2 done" in body and "0/1 done" in body
    assert body.count('data-testid="check-room-done"') == 1  # room 101 greyed


def test_one_save_records_the_floor(cast, iso):
    a = checked_in(cast, number="101", name="一楼甲")
    b = checked_in(cast, number="102", name="一楼乙")
    response = cast.client_for(cast.staff_a).post(
        checks_url(a.site),
        {"floor": 1, "slot": "afternoon", f"t-{a.pk}": "36.5", f"t-{b.pk}": "38,1", f"s-{b.pk}": "咳嗽"},
    )
    assert response.status_code == 302 and "slot=afternoon" in response["Location"]
    readings = {r.stay_id: r for r in Reading.objects.filter(slot=AFTERNOON)}
    assert readings[a.pk].temperature == Decimal("36.5")
    assert (readings[b.pk].temperature, readings[b.pk].symptoms) == (Decimal("38.1"), "咳嗽")
    # The same form sent again (a retry after a lost answer) adds nothing.
    cast.client_for(cast.staff_a).post(
        checks_url(a.site), {"floor": 1, "slot": "afternoon", f"t-{a.pk}": "36.5", f"t-{b.pk}": "38.1"}
    )
    assert Reading.objects.count() == 2


def test_an_out_of_range_value_saves_nothing_and_says_why(cast, iso):
    a = checked_in(cast, number="101", name="一楼甲")
    b = checked_in(cast, number="102", name="一楼乙")
    response = cast.client_for(cast.staff_a).post(
        checks_url(a.site), {"floor": 1, "slot": "morning", f"t-{a.pk}": "36.5", f"t-{b.pk}": "365"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "A body temperature lies between 34.0 and 43.0 °C." in body
    assert 'data-testid="temperature-error"' in body and 'value="365"' in body and 'value="36.5"' in body
    assert "Nothing was saved" in body
    assert not Reading.objects.exists()


def test_the_page_is_the_sites_staffs_only(cast, iso):
    stay = checked_in(cast)
    url = checks_url(stay.site)
    assert cast.client_for(cast.staff_b).get(url).status_code == 404
    assert cast.client_for(cast.staff_b).post(url, {"floor": 1, f"t-{stay.pk}": "36.5"}).status_code == 404
    assert cast.client_for(cast.grid_worker).get(url).status_code == 404
    # An official of the area sees the page but has no inputs and may not save.
    official = cast.client_for(cast.official_a)
    body = official.get(url).content.decode()
    assert "隔离人" in body and 'data-testid="temperature-input"' not in body
    assert official.post(url, {"floor": 1, f"t-{stay.pk}": "36.5"}).status_code == 403
    assert not Reading.objects.exists()


def test_a_floor_of_another_site_is_not_found(cast, iso):
    stay = checked_in(cast)
    other = checked_in(cast, grid=cast.grid_b)
    response = cast.client_for(cast.staff_a).post(
        checks_url(stay.site), {"floor": 5, f"t-{other.pk}": "36.5"}
    )
    assert response.status_code == 404
    assert not Reading.objects.exists()


# API


class TestReadingAPI(ScopedAPITests):
    model = Reading
    api_list_url = "/api/v1/isolation-readings/"
    viewer = "staff_a"
    outsider = "staff_b"
    unrevealing = "staff_a"
    read_only = True

    def make_object(self, cast, grid):
        stay = checked_in(cast, grid)
        return services.record_reading(cast.admin, stay, "36.5")[0]

    def write_data(self, cast, obj):
        return {"temperature": "36.6"}


class TestReadingAPIForOfficials(TestReadingAPI):
    viewer = "official_a"
    outsider = "official_b"
    unrevealing = "official_a"


def test_the_api_records_idempotently(cast, iso):
    stay = checked_in(cast)
    client = api(cast.staff_a)
    data = {"stay": stay.pk, "temperature": "37.8", "slot": "morning"}
    first = client.post("/api/v1/isolation-readings/", data, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["is_fever"] is True
    again = client.post("/api/v1/isolation-readings/", data, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Reading.objects.count() == 1


def test_the_api_refuses_out_of_range_and_other_sites(cast, iso):
    stay = checked_in(cast)
    answer = api(cast.staff_a).post(
        "/api/v1/isolation-readings/", {"stay": stay.pk, "temperature": "366"}, format="json"
    )
    assert answer.status_code == 400 and "34.0 and 43.0" in str(answer.json())
    outsider = api(cast.staff_b).post(
        "/api/v1/isolation-readings/", {"stay": stay.pk, "temperature": "36.5"}, format="json"
    )
    assert outsider.status_code in (400, 403)
    assert "stay" in outsider.json() or outsider.status_code == 403
    official = api(cast.official_a).post(
        "/api/v1/isolation-readings/", {"stay": stay.pk, "temperature": "36.5"}, format="json"
    )
    assert official.status_code == 403
    assert not Reading.objects.exists()
