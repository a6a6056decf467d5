"""Hospital and back from an isolation site (decision 0024, addendum: hospital): the stay gives up
its room (to cleaning), the centralized step goes hospitalized through control and back active on
the return, which is a new stay in a free room under allocate's rules; companions leave with the
person; refusals, repeats, the API actions, the pages, scoping and the availability numbers."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from epigrid.audit.models import Transition
from epigrid.control import services as control_services
from epigrid.control.models import ControlMeasure
from epigrid.isolation import services
from epigrid.isolation.exports import ledger_note, release_date
from epigrid.isolation.models import Room, Site, Stay
from tests.isolation_cast import isolation

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
NOTE = "兰州大学第一医院发热门诊：高热39.2℃"


@pytest.fixture
def iso(cast):
    return isolation(cast)


def refused(code, fn, *args, **kwargs):
    with pytest.raises(ValidationError) as exc, translation.override("en"):
        fn(*args, **kwargs)
    assert exc.value.code == code, exc.value
    return " ".join(exc.value.messages)


def checked_in(iso, cast, name="隔离人", room="101", **person):
    """A close contact of grid A exposed three days ago (centralized step running) in a room."""
    entry, _created = control_services.register_key_person(
        iso.person(name=name, **person), "close_contact", cast.grid_a, last_exposure=TODAY - 3 * DAY
    )
    stay = services.allocate(iso.staff_a, entry.person, iso.room(number=room), entry=entry)
    return services.check_in(iso.staff_a, stay, now=timezone.now() - datetime.timedelta(hours=5))


def room_status(stay_or_room):
    pk = stay_or_room.room_id if isinstance(stay_or_room, Stay) else stay_or_room.pk
    return Room.objects.get(pk=pk).status


def measure_of(stay):
    return ControlMeasure.objects.get(pk=stay.measure_id)


def moves(obj):
    return list(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
        ).values_list("source", "target")
    )


def figures(site):
    site = services.with_availability(Site.objects.filter(pk=site.pk)).get()
    return site.occupied, site.allocated, services.available(site)


# The moves


def test_to_hospital_gives_up_the_room_and_marks_the_step_hospitalized_through_control(cast, iso):
    stay = checked_in(iso, cast)
    assert measure_of(stay).status == "active"
    stay = services.to_hospital(iso.staff_a, stay, NOTE)
    stay.refresh_from_db()
    assert (stay.status, stay.note) == ("hospital", NOTE) and stay.checked_out_at is not None
    assert room_status(stay) == "cleaning"  # the bed is not held: cleaned for the next person
    measure = measure_of(stay)
    assert measure.status == "hospitalized"
    assert ("active", "hospitalized") in moves(measure)
    assert ("checked_in", "hospital") in moves(stay)
    assert not Stay.objects.filter(person=stay.person, status__in=Stay.ACTIVE).exists()


def test_to_hospital_again_changes_nothing(cast, iso):
    stay = services.to_hospital(iso.staff_a, checked_in(iso, cast), NOTE)
    left = Stay.objects.get(pk=stay.pk).checked_out_at
    history = len(moves(stay)) + len(moves(measure_of(stay)))
    again = services.to_hospital(iso.staff_a, stay, "另一家医院", now=timezone.now() + DAY)
    again.refresh_from_db()
    assert (again.pk, again.status, again.note, again.checked_out_at) == (stay.pk, "hospital", NOTE, left)
    assert len(moves(stay)) + len(moves(measure_of(stay))) == history


def test_companions_leave_with_the_person(cast, iso):
    child = checked_in(iso, cast, name="小明", room="201", birth=TODAY.replace(year=TODAY.year - 8))
    mother = services.allocate(
        iso.staff_a, iso.person(name="母亲"), iso.room(number="201"), companion_of=child
    )
    services.check_in(iso.staff_a, mother)
    services.to_hospital(iso.staff_a, child, NOTE)
    mother.refresh_from_db()
    assert mother.status == "checked_out" and mother.checked_out_at is not None
    assert room_status(child) == "cleaning"


def test_a_step_control_marked_already_is_followed(cast, iso):
    stay = checked_in(iso, cast)
    control_services.to_hospital(measure_of(stay), "社区上报：送医")  # on the entry's page first
    stay = services.to_hospital(iso.staff_a, stay, NOTE)
    assert stay.status == "hospital" and measure_of(stay).status == "hospitalized"
    assert room_status(stay) == "cleaning"


def test_back_from_hospital_checks_in_to_a_new_room_on_the_same_step(cast, iso):
    gone = services.to_hospital(iso.staff_a, checked_in(iso, cast), NOTE)
    back = services.back_from_hospital(iso.staff_a, gone, iso.room(number="102"), note="出院，复查阴性")
    assert (back.status, back.room.number, back.measure_id) == ("checked_in", "102", gone.measure_id)
    assert back.from_hospital_id == gone.pk and back.checked_in_at is not None
    assert back.allocated_by == iso.staff_a
    assert ("allocated", "checked_in") in moves(back)
    measure = measure_of(back)
    assert measure.status == "active" and ("hospitalized", "active") in moves(measure)
    assert room_status(back) == "occupied" and room_status(gone) == "cleaning"
    # The hospital stay keeps its status and history; it is no longer "in hospital".
    assert Stay.objects.get(pk=gone.pk).status == "hospital"
    assert not services.in_hospital(Stay.objects.all()).exists()
    # The step runs again: check-out at the end works as for anyone.
    assert services.to_hospital(iso.staff_a, back, "再次发热").status == "hospital"


def test_back_from_hospital_by_person_and_again_answers_the_first_return(cast, iso):
    gone = services.to_hospital(iso.staff_a, checked_in(iso, cast), NOTE)
    room = iso.room(number="102")
    back = services.back_from_hospital(iso.staff_a, gone.person, room)
    again = services.back_from_hospital(iso.staff_a, gone.person, room)
    assert again.pk == back.pk and Stay.objects.filter(person=gone.person).count() == 2
    assert "back from hospital already" in refused(
        "back", services.back_from_hospital, iso.staff_a, gone, iso.room(number="103")
    )
    assert measure_of(back).status == "active"


# Refusals


def test_only_a_checked_in_person_with_a_measure_goes_to_hospital_and_with_a_note(cast, iso):
    entry, _created = control_services.register_key_person(
        iso.person(name="在途"), "close_contact", cast.grid_a, last_exposure=TODAY - 3 * DAY
    )
    on_the_way = services.allocate(iso.staff_a, entry.person, iso.room(), entry=entry)
    assert "checked in" in refused("status", services.to_hospital, iso.staff_a, on_the_way, NOTE)
    no_measure = services.check_in(
        iso.staff_a, services.allocate(iso.staff_a, iso.person(name="无措施"), iso.room(number="102"))
    )
    assert "check them out" in refused("measure", services.to_hospital, iso.staff_a, no_measure, NOTE)
    stay = checked_in(iso, cast, name="无说明", room="103")
    assert "which hospital" in refused("note", services.to_hospital, iso.staff_a, stay, "  ")
    assert Stay.objects.get(pk=stay.pk).status == "checked_in" and measure_of(stay).status == "active"
    assert room_status(stay) == "occupied"
    left = services.check_out(iso.staff_a, stay, early_reason="复核排除")
    refused("status", services.to_hospital, iso.staff_a, left, NOTE)


@pytest.mark.parametrize("ended", ["completed", "cancelled"])
def test_a_step_ended_meanwhile_has_no_way_back(cast, iso, ended):
    gone = services.to_hospital(iso.staff_a, checked_in(iso, cast), NOTE)
    measure_of(gone).transition(ended, ended_on=TODAY)  # ended in control while in hospital
    assert not services.in_hospital(Stay.objects.all()).exists()
    assert "nothing to come back to" in refused(
        "measure", services.back_from_hospital, iso.staff_a, gone, iso.room(number="102")
    )
    assert Stay.objects.filter(person=gone.person).count() == 1
    assert room_status(iso.room(number="102")) == "free"


def test_the_return_follows_the_room_rules(cast, iso):
    gone = services.to_hospital(iso.staff_a, checked_in(iso, cast), NOTE)
    refused("room", services.back_from_hospital, iso.staff_a, gone, iso.room())  # being cleaned
    services.allocate(iso.staff_a, iso.person(name="新来"), iso.room(number="102"))
    refused("room_taken", services.back_from_hospital, iso.staff_a, gone, iso.room(number="102"))
    services.allocate(iso.staff_a, gone.person, iso.room(number="103"))  # a room meanwhile
    refused("person", services.back_from_hospital, iso.staff_a, gone, iso.room(number="201"))
    assert measure_of(gone).status == "hospitalized"
    never = services.check_in(
        iso.staff_a, services.allocate(iso.staff_a, iso.person(name="未送医"), iso.room(number="201"))
    )
    refused("status", services.back_from_hospital, iso.staff_a, never.person, iso.room(number="101"))


# Scoping


def test_another_sites_staff_cannot_move_the_stay(cast, iso):
    iso.site(cast.grid_b)
    stay = checked_in(iso, cast)
    with pytest.raises(PermissionDenied):
        services.to_hospital(iso.staff_b, stay, NOTE)
    gone = services.to_hospital(iso.staff_a, stay, NOTE)
    with pytest.raises(PermissionDenied):
        services.back_from_hospital(iso.staff_b, gone, iso.room(cast.grid_b))
    with pytest.raises(PermissionDenied):  # staff of A, a room of B
        services.back_from_hospital(iso.staff_a, gone, iso.room(cast.grid_b))
    # The command centre takes the person back at another site of its area.
    back = services.back_from_hospital(cast.commander, gone, iso.room(cast.grid_b))
    assert back.site == iso.site(cast.grid_b) and back.status == "checked_in"


# Availability


def test_a_person_in_hospital_takes_no_place(cast, iso):
    site = iso.site(capacity=6)
    stay = checked_in(iso, cast)
    assert figures(site) == (1, 0, 5)
    services.to_hospital(iso.staff_a, stay, NOTE)
    assert figures(site) == (0, 0, 6)
    total = services.availability(cast.commander)["total"]
    assert (total["occupied"], total["allocated"], total["available"]) == (0, 0, 6)
    services.back_from_hospital(iso.staff_a, stay, iso.room(number="102"))
    assert figures(site) == (1, 0, 5)


# The ledger


def test_the_ledger_gives_no_release_date_to_a_person_in_hospital():
    left = timezone.make_aware(datetime.datetime(2026, 3, 5, 10, 0))
    assert release_date("hospital", left, TODAY) == ""
    assert ledger_note("hospital", left, "市一院") == "2026-03-05 转院就医；市一院"
    assert ledger_note("checked_out", left, "期满") == "期满"


# The API


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_takes_to_hospital_and_back_and_answers_a_repeat_as_the_first(cast, iso):
    stay = checked_in(iso, cast)
    client = api(iso.staff_a)
    url = f"/api/v1/isolation-stays/{stay.pk}/to-hospital/"
    answer = client.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and "which hospital" in str(answer.json())
    answer = client.post(url, {"note": NOTE}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "hospital"
    repeat = client.post(url, {"note": NOTE}, format="json")
    assert repeat.status_code == 200 and repeat.json() == answer.json()
    back_url = f"/api/v1/isolation-stays/{stay.pk}/back-from-hospital/"
    room = iso.room(number="102")
    answer = client.post(back_url, {"room": room.pk}, format="json")
    assert answer.status_code == 200, answer.json()
    back = answer.json()
    assert (back["status"], back["room_number"], back["from_hospital"]) == ("checked_in", "102", stay.pk)
    repeat = client.post(back_url, {"room": room.pk}, format="json")
    assert repeat.status_code == 200 and repeat.json()["id"] == back["id"]
    assert ControlMeasure.objects.get(pk=stay.measure_id).status == "active"


def test_the_api_actions_are_scoped_and_need_the_move_right(cast, iso):
    iso.site(cast.grid_b)
    stay = checked_in(iso, cast)
    url = f"/api/v1/isolation-stays/{stay.pk}/to-hospital/"
    assert api(iso.staff_b).post(url, {"note": NOTE}, format="json").status_code == 404
    assert api(cast.auditor).post(url, {"note": NOTE}, format="json").status_code == 403
    services.to_hospital(iso.staff_a, stay, NOTE)
    back = f"/api/v1/isolation-stays/{stay.pk}/back-from-hospital/"
    assert api(iso.staff_b).post(back, {"room": iso.room(cast.grid_b).pk}, format="json").status_code == 404
    # A room of another site the staff do not see is not a choice.
    answer = api(iso.staff_a).post(back, {"room": iso.room(cast.grid_b).pk}, format="json")
    assert answer.status_code in (400, 403)
    assert Stay.objects.filter(person=stay.person).count() == 1


# The pages


def test_the_pages_take_to_hospital_list_the_persons_there_and_take_them_back(cast, iso):
    site = iso.site()
    stay = checked_in(iso, cast, name="钱七")
    client = cast.client_for(iso.staff_a)
    body = client.get(site.get_absolute_url()).content.decode()
    assert 'data-testid="to-hospital"' in body and 'data-testid="in-hospital"' not in body
    assert 'data-testid="to-hospital"' in client.get(stay.get_absolute_url()).content.decode()
    # Without a note: refused with the service's message, nothing moves.
    response = client.post(
        reverse("isolation:stay_move", args=[stay.pk, "to-hospital"]),
        {"back": "site"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert any("which hospital" in str(m) for m in response.context["messages"])
    assert Stay.objects.get(pk=stay.pk).status == "checked_in"
    client.post(reverse("isolation:stay_move", args=[stay.pk, "to-hospital"]), {"note": NOTE, "back": "site"})
    assert Stay.objects.get(pk=stay.pk).status == "hospital"
    body = client.get(site.get_absolute_url()).content.decode()
    assert 'data-testid="hospital-row"' in body and "钱七" in body and NOTE in body
    assert 'data-testid="back-from-hospital"' in body
    assert 'data-testid="back-from-hospital"' in client.get(stay.get_absolute_url()).content.decode()
    room = iso.room(number="102")
    client.post(reverse("isolation:stay_move", args=[stay.pk, "back-from-hospital"]), {"room": room.pk})
    back = Stay.objects.get(person=stay.person, status="checked_in")
    assert back.room == room and back.from_hospital_id == stay.pk
    assert 'data-testid="hospital-row"' not in client.get(site.get_absolute_url()).content.decode()
    assert 'data-testid="from-hospital"' in client.get(back.get_absolute_url()).content.decode()
    assert 'data-testid="return-stay"' in client.get(stay.get_absolute_url()).content.decode()


def test_the_pages_hide_the_moves_from_who_may_not_make_them(cast, iso):
    iso.site(cast.grid_b)
    stay = services.to_hospital(iso.staff_a, checked_in(iso, cast), NOTE)
    auditor = cast.client_for(cast.auditor)
    body = auditor.get(iso.site().get_absolute_url()).content.decode()
    assert 'data-testid="hospital-row"' in body and 'data-testid="back-from-hospital"' not in body
    room = iso.room(number="102")
    url = reverse("isolation:stay_move", args=[stay.pk, "back-from-hospital"])
    assert auditor.post(url, {"room": room.pk}).status_code == 403
    assert cast.client_for(iso.staff_b).post(url, {"room": room.pk}).status_code == 404
    assert Stay.objects.filter(person=stay.person).count() == 1
