"""Tests taken and hospital transfers, recorded from the entry page."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from epigrid.audit.services import history
from epigrid.control import services
from epigrid.control.models import TestRecord as Record
from tests.scoping import ScopedAPITests, make_person

TODAY = timezone.localdate()


@pytest.fixture
def entry(cast):
    person = make_person(household=cast.household_a, name="检测人")
    entry, _ = services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=TODAY - datetime.timedelta(days=2)
    )
    return entry


def test_it_records_a_test_from_the_entry_page(cast, entry):
    step = entry.measures.get(sequence=1)
    client = cast.client_for(cast.grid_worker)
    response = client.post(
        f"/control/{entry.pk}/steps/{step.pk}/test/", {"day": TODAY.isoformat(), "result": "negative"}
    )
    assert response.status_code == 302
    assert Record.objects.get(measure=step, day=TODAY).result == "negative"


def test_it_updates_the_same_days_test_instead_of_adding_one(cast, entry):
    step = entry.measures.get(sequence=1)
    services.record_test(step, TODAY, "pending")
    services.record_test(step, TODAY, "negative")
    assert Record.objects.filter(measure=step).count() == 1


def test_it_refuses_a_test_for_a_day_to_come(cast, entry):
    with pytest.raises(ValidationError):
        services.record_test(entry.measures.get(sequence=1), TODAY + datetime.timedelta(days=1), "negative")


def test_it_notes_a_positive_test_in_the_history(cast, entry):
    step = entry.measures.get(sequence=1)
    services.record_test(step, TODAY, "positive")
    assert "Positive" in history(step).get().note or "阳性" in history(step).get().note


def test_it_transfers_to_hospital_and_back_from_the_page(cast, entry):
    step = entry.measures.get(sequence=1)
    client = cast.client_for(cast.grid_worker)
    client.post(f"/control/{entry.pk}/steps/{step.pk}/hospital/", {"reason": "发热，送市一院"})
    step.refresh_from_db()
    assert step.status == "hospitalized"
    client.post(f"/control/{entry.pk}/steps/{step.pk}/hospital/", {"reason": "排除，返回"})
    step.refresh_from_db()
    assert step.status == "active"
    assert [(h.source, h.target) for h in history(step)] == [
        ("active", "hospitalized"),
        ("hospitalized", "active"),
    ]


def test_it_refuses_a_hospital_transfer_without_a_note(cast, entry):
    with pytest.raises(ValidationError):
        services.to_hospital(entry.measures.get(sequence=1), " ")


def test_it_refuses_test_records_from_another_grid(cast, entry):
    step = entry.measures.get(sequence=1)
    response = cast.client_for(cast.grid_worker_b).post(
        f"/control/{entry.pk}/steps/{step.pk}/test/", {"day": TODAY.isoformat(), "result": "negative"}
    )
    assert response.status_code == 404 and not Record.objects.exists()


class TestTestRecordAPI(ScopedAPITests):
    model = Record
    api_list_url = "/api/v1/tests/"

    def make_object(self, cast, grid):
        person = make_person(
            household=cast.household_a if grid == cast.grid_a else cast.household_b, name="接口检测"
        )
        entry, _ = services.register_key_person(
            person, "close_contact", grid, last_exposure=TODAY - datetime.timedelta(days=2)
        )
        return services.record_test(entry.measures.get(sequence=1), TODAY, "pending")

    def write_data(self, cast, obj):
        return {"result": "negative"}


def test_it_updates_a_retried_api_test_record_instead_of_duplicating(cast, entry):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(cast.grid_worker)
    step = entry.measures.get(sequence=1)
    body = {"measure": step.pk, "day": TODAY.isoformat(), "result": "pending"}
    first = client.post("/api/v1/tests/", body, format="json")
    again = client.post("/api/v1/tests/", {**body, "result": "negative"}, format="json")
    assert (first.status_code, again.status_code) == (201, 201)
    assert list(Record.objects.values_list("result", flat=True)) == ["negative"]


def test_it_refuses_an_api_test_for_a_day_to_come(cast, entry):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(cast.grid_worker)
    step = entry.measures.get(sequence=1)
    response = client.post(
        "/api/v1/tests/",
        {"measure": step.pk, "day": (TODAY + datetime.timedelta(days=1)).isoformat(), "result": "negative"},
        format="json",
    )
    assert response.status_code == 400 and "day" in response.json()
