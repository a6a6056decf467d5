"""Release from a site (decision 0024, addendum: release): the check-out ends the centralized step
through control, the plan's next step starts, the release notice prints, and the person's grid and
community see "returned home, to receive" on today's work until they confirm the arrival."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from epigrid.audit.models import ObjectChange
from epigrid.control import services as control_services
from epigrid.control.models import ControlMeasure, KeyPerson
from epigrid.isolation import services
from epigrid.isolation.models import Room, Stay
from tests.isolation_cast import isolation
from tests.test_control_pdf import text_of

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def iso(cast):
    return isolation(cast)


def checked_in(iso, cast, exposure_days_ago, name="隔离人", category="close_contact"):
    """A close contact of grid A (第九版: 7 days centralized from the day after exposure, then 3 of
    home monitoring) checked in at the site of grid A."""
    person = iso.person(name=name)
    anchor = {"arrival": TODAY - exposure_days_ago * DAY} if category.endswith("arrival") else {}
    entry, _created = control_services.register_key_person(
        person, category, cast.grid_a, last_exposure=TODAY - exposure_days_ago * DAY, **anchor
    )
    stay = services.allocate(iso.staff_a, person, iso.room(), entry=entry)
    return services.check_in(iso.staff_a, stay, now=timezone.now() - datetime.timedelta(hours=1))


def steps(stay):
    return list(stay.measure.key_person.measures.order_by("sequence"))


def test_check_out_at_the_planned_end_completes_the_step_and_starts_home_monitoring(cast, iso):
    stay = checked_in(iso, cast, exposure_days_ago=7)  # day 7 of 7 today
    stay = services.check_out(iso.staff_a, stay, note="期满解除")
    centralized, home = steps(stay)
    assert (centralized.status, centralized.ended_on) == ("completed", TODAY)
    # Home monitoring starts tomorrow as planned (control's daily advance starts it).
    assert (home.kind, home.status, home.start) == ("home_monitoring", "planned", TODAY + DAY)
    assert stay.home_step == home and stay.home_received_at is None
    assert Room.objects.get(pk=stay.room_id).status == "cleaning"


def test_check_out_before_the_planned_end_without_a_reason_is_refused(cast, iso):
    stay = checked_in(iso, cast, exposure_days_ago=3)
    with pytest.raises(Exception) as refused, translation.override("en"):
        services.check_out(iso.staff_a, stay, note="走了")
    assert refused.value.code == "early"
    assert "early release" in " ".join(refused.value.messages)
    stay.refresh_from_db()
    assert stay.status == "checked_in" and stay.measure.status == "active"
    assert Room.objects.get(pk=stay.room_id).status == "occupied"


def test_an_early_release_starts_home_monitoring_today_keeping_its_length(cast, iso):
    stay = checked_in(iso, cast, exposure_days_ago=3)  # day 3 of 7
    home_before = steps(stay)[1]
    length = home_before.planned_end - home_before.start
    stay = services.check_out(iso.staff_a, stay, early_reason="复核排除，转居家")
    centralized, home = steps(stay)
    assert (centralized.status, centralized.ended_on) == ("released_early", TODAY)
    assert home.status == "active" and home.start == TODAY  # home from today
    assert home.planned_end - home.start == length
    assert home.test_dates == [(home.planned_end).isoformat()]  # home day 3, moved along
    assert stay.note == "复核排除，转居家"


def test_a_plan_without_a_further_step_releases_the_entry(cast, iso):
    stay = checked_in(iso, cast, exposure_days_ago=7, category="high_risk_arrival")
    assert len(steps(stay)) == 1
    stay = services.check_out(iso.staff_a, stay)
    assert stay.home_step is None
    assert KeyPerson.objects.get(pk=stay.measure.key_person_id).status == "released"


def test_a_companion_and_a_cancelled_allocation_leave_control_alone(cast, iso):
    child = iso.person(name="孩子", birth=TODAY.replace(year=TODAY.year - 6))
    entry, _created = control_services.register_key_person(
        child, "close_contact", cast.grid_a, last_exposure=TODAY - 3 * DAY
    )
    room = iso.room(number="201")
    stay = services.check_in(iso.staff_a, services.allocate(iso.staff_a, child, room, entry=entry))
    mother = services.check_in(
        iso.staff_a, services.allocate(iso.staff_a, iso.person(name="母亲"), room, companion_of=stay)
    )
    mother = services.check_out(iso.staff_a, mother, note="陪护结束")
    assert mother.status == "checked_out" and mother.home_step is None
    # Never came: the allocation is cancelled, the step runs on (another room will come).
    other = iso.person(name="未到")
    entry2, _created = control_services.register_key_person(
        other, "close_contact", cast.grid_a, last_exposure=TODAY - 3 * DAY
    )
    cancelled = services.check_out(
        iso.staff_a, services.allocate(iso.staff_a, other, iso.room(), entry=entry2)
    )
    assert cancelled.home_step is None
    assert ControlMeasure.objects.get(pk=cancelled.measure_id).status == "active"


def test_the_stay_page_checks_out_with_an_early_release_reason(cast, iso):
    stay = checked_in(iso, cast, exposure_days_ago=3)
    client = cast.client_for(iso.staff_a)
    page = client.get(stay.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="early-reason"' in page
    url = reverse("isolation:stay_move", args=[stay.pk, "check-out"])
    response = client.post(url, {"note": ""}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "give the reason for the early release" in response.content.decode()
    assert Stay.objects.get(pk=stay.pk).status == "checked_in"
    client.post(url, {"early_reason": "核酸复核阴性，提前解除"})
    assert Stay.objects.get(pk=stay.pk).status == "checked_out"


def test_the_grid_sees_the_person_to_receive_and_confirms_with_one_tap(cast, iso):
    stay = services.check_out(iso.staff_a, checked_in(iso, cast, exposure_days_ago=7, name="归家人"))
    client = cast.client_for(cast.grid_worker)
    page = client.get("/control/today/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="home-arrival-row"' in page and "归家人" in page
    url = reverse("isolation:receive_home", args=[stay.pk])
    assert client.post(url, {"next": "/control/today/"}).status_code == 302
    first = Stay.objects.get(pk=stay.pk)
    assert first.home_received_by == cast.grid_worker and first.home_received_at is not None
    client.post(url)  # a second tap keeps the first receipt
    assert Stay.objects.get(pk=stay.pk).home_received_at == first.home_received_at
    assert 'data-testid="home-arrival-row"' not in client.get("/control/today/").content.decode()


def test_the_community_sees_a_count_and_another_grid_sees_nothing(cast, iso):
    stay = services.check_out(iso.staff_a, checked_in(iso, cast, exposure_days_ago=7, name="归家人"))
    page = cast.client_for(cast.community_officer).get("/control/today/").content.decode()
    assert 'data-testid="home-arrival-count-row"' in page and "第一网格" in page
    outsider = cast.client_for(cast.grid_worker_b)
    assert 'data-testid="home-arrival' not in outsider.get("/control/today/").content.decode()
    assert outsider.post(reverse("isolation:receive_home", args=[stay.pk])).status_code == 404
    # The site's staff run the site, not the person's community: they do not receive either.
    assert (
        cast.client_for(cast.auditor).post(reverse("isolation:receive_home", args=[stay.pk])).status_code
        == 404
    )
    assert Stay.objects.get(pk=stay.pk).home_received_at is None


def test_the_release_notice_prints_masked_in_chinese_and_is_audited(cast, iso):
    stay = services.check_out(iso.staff_a, checked_in(iso, cast, exposure_days_ago=7, name="欧阳建国"))
    client = cast.client_for(iso.staff_a)
    assert (
        reverse("isolation:stay_notice", args=[stay.pk])
        in client.get(stay.get_absolute_url()).content.decode()
    )
    response = client.get(reverse("isolation:stay_notice", args=[stay.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    import io

    from pypdf import PdfReader

    text = text_of(PdfReader(io.BytesIO(response.content)))
    home = Stay.objects.get(pk=stay.pk).home_step
    for expected in (
        "欧阳建国",
        stay.person.masked_doc_number,
        stay.site.name,
        f"{home.planned_end:%Y-%m-%d}",
    ):
        assert expected in text, expected
    assert stay.person.doc_number not in text
    audit = ObjectChange.objects.filter(action="export", object_id=stay.pk).get()
    assert audit.user == iso.staff_a and audit.postchange_data == {"document": "release_notice"}
    # Another site's staff do not see the stay at all.
    assert (
        cast.client_for(iso.staff_b).get(reverse("isolation:stay_notice", args=[stay.pk])).status_code == 404
    )


def test_the_notice_waits_for_the_check_out(cast, iso):
    stay = checked_in(iso, cast, exposure_days_ago=3)
    response = cast.client_for(iso.staff_a).get(reverse("isolation:stay_notice", args=[stay.pk]))
    assert response.status_code == 302 and response.url == stay.get_absolute_url()
    assert not ObjectChange.objects.filter(action="export").exists()
