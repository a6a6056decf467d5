"""Resident services' rules: one open request per household and kind (a second is a warning, then
added to it; retries never duplicate, also under concurrent submits on PostgreSQL), deadlines by
urgency, the workflow to the requester's confirmation, the special-groups register on people's
tags, proactive checks only while sealed and once a day, and the daily report's figures."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from epigrid.homeservices import figures, services
from epigrid.homeservices.models import ProactiveCheck, RequestAddition, ServiceRequest, SpecialCare
from tests.homeservices_cast import homes
from tests.supervision_cast import png

S = ServiceRequest.Status


@pytest.fixture
def h(cast):
    return homes(cast)


def test_a_second_request_of_a_kind_is_a_warning_then_added_to_the_open_one(cast, h):
    first = h.submit(description="先买米")
    assert first.outcome == "created"
    warned = h.submit(details={"items": "酱油 1 瓶"})
    assert warned.outcome == "open_exists" and warned.request.pk == first.request.pk
    assert ServiceRequest.objects.count() == 1 and not RequestAddition.objects.exists()
    added = h.submit(details={"items": "酱油 1 瓶"}, add_to_open=True, urgency="urgent")
    assert added.outcome == "added" and added.request.pk == first.request.pk
    req = ServiceRequest.objects.get()
    assert "酱油 1 瓶" in req.details["items"] and "大米" in req.details["items"]
    assert req.additions == 1 and req.urgency == "urgent"
    assert req.due_at <= timezone.now() + datetime.timedelta(hours=2)


def test_another_kind_or_a_closed_request_does_not_block_a_new_one(cast, h):
    req = h.request()
    assert h.submit(kind="animals", details={"species": "羊", "count": 12}).outcome == "created"
    services.cancel(cast.community_officer, req, "居民已自行解决")
    assert h.submit().outcome == "created"


def test_the_same_client_id_twice_writes_once(cast, h):
    first = h.submit(client_id="phone-1-abc")
    again = h.submit(client_id="phone-1-abc", add_to_open=True)
    assert again.outcome == "repeat" and again.request.pk == first.request.pk
    added = h.submit(client_id="phone-1-def", add_to_open=True)
    assert added.outcome == "added"
    assert h.submit(client_id="phone-1-def", add_to_open=True).outcome == "repeat"
    assert ServiceRequest.objects.get().additions == 1


def test_type_specific_fields_are_checked(cast, h):
    with pytest.raises(ValidationError):
        h.submit(kind="farming", details={"crop": "小麦"})  # no mu
    with pytest.raises(ValidationError):
        h.submit(kind="farming", details={"crop": "小麦", "mu": "-3"})
    with pytest.raises(ValidationError):
        h.submit(kind="shopping", details={"items": "米", "colour": "红"})
    with pytest.raises(ValidationError):
        h.submit(kind="medicine", details={"medicines": "二甲双胍"})  # no prescription
    farming = h.request(kind="farming", details={"crop": "小麦", "mu": "12.5"})
    assert farming.details == {"crop": "小麦", "mu": "12.5"}
    hospital = h.request(
        kind="hospital",
        details={
            "destination": "兰大二院",
            "appointment_at": "2031-04-08T09:30",
            "car": "社区专车",
            "reentry": True,
        },
    )
    assert hospital.details["appointment_at"].startswith("2031-04-08T09:30")
    medicine = h.request(
        kind="medicine",
        details={"medicines": "二甲双胍", "prescription": "处方 3 个月"},
        prescription_photo=png(),
    )
    assert medicine.prescription_photo


def test_the_person_must_live_in_the_household(cast, h):
    with pytest.raises(ValidationError):
        services.submit(
            cast.grid_worker,
            household=cast.household_a,
            person=h.resident_b,
            kind="other",
            description="帮忙",
        )


def test_deadlines_follow_the_urgency(cast, h, settings):
    settings.EPIGRID_SERVICE_SLA_HOURS = {"urgent": 2, "high": 6, "normal": 24, "low": 72}
    now = timezone.now()
    for kind, urgency, hours in (("shopping", "urgent", 2), ("animals", "low", 72), ("other", "high", 6)):
        details = {"species": "鸡", "count": 20} if kind == "animals" else ({} if kind == "other" else None)
        req = h.request(kind=kind, urgency=urgency, details=details, description="其他需求", now=now)
        assert req.due_at == now + datetime.timedelta(hours=hours)
    overdue = h.request(
        kind="psychological",
        details={"concern": "失眠焦虑"},
        urgency="urgent",
        now=now - datetime.timedelta(hours=3),
    )
    assert list(ServiceRequest.objects.filter(services.overdue_q())) == [overdue]


def test_the_workflow_runs_to_the_requesters_confirmation(cast, h):
    req = h.request()
    assert req.status == S.NEW
    with pytest.raises(PermissionDenied):
        services.assign(cast.grid_worker, req, h.volunteer)  # grid workers take, communities assign
    req = services.assign(cast.community_officer, req, h.volunteer)
    with pytest.raises(PermissionDenied):
        services.start(h.volunteer_b, req)
    req = services.start(h.volunteer, req)
    assert req.status == S.IN_PROGRESS
    with pytest.raises(ValidationError):
        services.complete(h.volunteer, req, ".")
    req = services.complete(h.volunteer, req, "已送到门口，收据拍照", photo=png())
    assert req.status == S.DONE and req.done_photo
    with pytest.raises(PermissionDenied):
        services.confirm(h.volunteer, req, "phone")  # nobody confirms their own work by phone
    req = services.reopen(cast.grid_worker, req, "少了一袋米")
    req = services.complete(h.volunteer, req, "补送一袋米")
    req = services.confirm(cast.grid_worker, req, "phone", "回访满意")
    assert req.status == S.CONFIRMED and req.confirmed_by == cast.grid_worker and req.confirmed_how == "phone"
    assert req.closed_at is not None
    assert services.confirm(cast.grid_worker, req, "phone").status == S.CONFIRMED  # a retry


def test_the_volunteer_confirms_in_person_and_may_complete_from_assigned(cast, h):
    req = h.assigned()
    req = services.complete(h.volunteer, req, "已送达")
    req = services.confirm(h.volunteer, req, "in_person")
    assert req.status == S.CONFIRMED and req.confirmed_by == h.volunteer


def test_only_someone_who_works_there_is_assigned(cast, h):
    req = h.request()
    with pytest.raises(ValidationError):
        services.assign(cast.community_officer, req, cast.auditor)


def test_the_register_builds_on_the_vulnerable_tags(cast, h):
    from epigrid.people.models import Tag

    Tag.objects.get_or_create(code="chronic", defaults={"name": "慢性病"})
    care = services.register_care(
        cast.grid_worker, h.resident_a, "dialysis", treatment_days="1,3,5", hospital="市一院"
    )
    assert h.resident_a.tags.filter(code="chronic").exists()
    again = services.register_care(cast.grid_worker, h.resident_a, "dialysis", treatment_days="2,4,6")
    assert again.pk == care.pk and SpecialCare.objects.count() == 1
    with pytest.raises(ValidationError):
        services.register_care(cast.grid_worker, h.resident_a, "pregnant")  # no due date
    with pytest.raises(PermissionDenied):
        services.register_care(cast.grid_worker_b, h.resident_a, "elderly_alone")


def test_proactive_checks_come_only_while_sealed_and_once_a_day(cast, h):
    today = timezone.localdate()
    services.register_care(cast.grid_worker, h.resident_a, "elderly_alone")
    services.register_care(cast.grid_worker_b, h.resident_b, "disabled", visit_every_days=2)
    assert services.generate_checks(today) == {"calls": 0, "visits": 0, "hospital": 0}
    h.seal(cast.grid_a, level="medium")  # not a stay-home level
    assert services.generate_checks(today)["calls"] == 0
    h.seal(cast.grid_a)
    written = services.generate_checks(today)
    assert written == {"calls": 1, "visits": 1, "hospital": 0}
    assert services.generate_checks(today) == {"calls": 0, "visits": 0, "hospital": 0}
    assert set(ProactiveCheck.objects.values_list("care__person", flat=True)) == {h.resident_a.pk}


def test_a_dialysis_patient_in_a_sealed_home_gets_the_trip_of_the_next_treatment(cast, h):
    today = timezone.localdate()
    tomorrow = (today + datetime.timedelta(days=1)).isoweekday()
    care = services.register_care(
        cast.grid_worker,
        h.resident_a,
        "dialysis",
        treatment_days=str(tomorrow),
        hospital="市一院",
        treatment_time=datetime.time(7, 30),
    )
    h.seal(cast.grid_a)
    assert services.generate_checks(today)["hospital"] == 1
    assert services.generate_checks(today)["hospital"] == 0
    trip = ServiceRequest.objects.get(kind="hospital")
    assert trip.care == care and trip.source == "proactive" and trip.details["destination"] == "市一院"


def test_recording_a_check(cast, h):
    services.register_care(cast.grid_worker, h.resident_a, "elderly_alone")
    h.seal(cast.grid_a)
    services.generate_checks()
    check = ProactiveCheck.objects.filter(kind="call").get()
    services.record_check(cast.grid_worker, check, "well", "身体好")
    check.refresh_from_db()
    assert check.outcome == "well" and check.done_by == cast.grid_worker
    with pytest.raises(PermissionDenied):
        services.record_check(cast.grid_worker_b, check, "no_answer")


def test_figures_count_opened_and_closed_in_the_window(cast, h):
    now = timezone.now()
    start, end = now - datetime.timedelta(hours=24), now + datetime.timedelta(minutes=1)
    h.request()
    closed = h.assigned(kind="animals", details={"species": "牛", "count": 3})
    services.complete(h.volunteer, closed, "已喂")
    services.confirm(cast.grid_worker, closed, "phone")
    h.request(grid=cast.grid_b)
    counts = figures.requests_in_window(cast.grid_a, start, end)
    assert counts["opened"] == 2 and counts["closed"] == 1 and counts["open_now"] == 1
    assert figures.requests_in_window(cast.community, start, end)["opened"] == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_client_id", [True, False])
def test_concurrent_duplicate_submits_yield_one_request(cast, same_client_id):
    h = homes(cast)
    barrier = threading.Barrier(4)
    outcomes = []

    def submit(n):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            client_id = "tap-1" if same_client_id else f"tap-{n}"
            outcomes.append(h.submit(client_id=client_id).outcome)
        finally:
            conn.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 4
    assert ServiceRequest.objects.count() == 1
    assert outcomes.count("created") == 1
    assert set(outcomes) <= {"created", "repeat" if same_client_id else "open_exists"}
