"""Isolation services: one person a room (a companion of a minor, an elderly or a disabled person
aside), the room's states through check-in, check-out, cleaning and transfer, the link to the
centralized step of a key-person entry, availability numbers, and two officers racing for the last
free room (PostgreSQL)."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from epigrid.control import services as control_services
from epigrid.isolation import services
from epigrid.isolation.models import Room, Site, Stay
from epigrid.people.models import Tag
from tests.isolation_cast import isolation


@pytest.fixture
def iso(cast):
    return isolation(cast)


def refused(code, fn, *args, **kwargs):
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == code, exc.value
    return exc.value


def test_it_allocates_a_free_room_and_marks_it_occupied(cast, iso):
    room = iso.room()
    stay = services.allocate(iso.staff_a, iso.person(), room)
    room.refresh_from_db()
    assert (stay.status, stay.site, room.status) == ("allocated", room.site, "occupied")
    assert stay.allocated_by == iso.staff_a


def test_it_puts_one_person_in_a_room(cast, iso):
    room = iso.room()
    services.allocate(iso.staff_a, iso.person(), room)
    refused("room_taken", services.allocate, iso.staff_a, iso.person(), room)
    assert Stay.objects.filter(room=room).count() == 1


def test_it_refuses_a_second_room_for_the_same_person(cast, iso):
    person = iso.person()
    services.allocate(iso.staff_a, person, iso.room())
    refused("person", services.allocate, iso.staff_a, person, iso.room(number="102"))


def test_a_companion_shares_the_room_of_a_child(cast, iso):
    room = iso.room(number="201")  # two beds
    child = services.allocate(iso.staff_a, iso.person(birth=timezone.localdate().replace(year=2018)), room)
    mother = services.allocate(iso.staff_a, iso.person(name="母亲"), room, companion_of=child)
    assert mother.companion_of == child and mother.room == room
    # Two beds: nobody else, not even a second companion.
    refused("beds", services.allocate, iso.staff_a, iso.person(name="父亲"), room, companion_of=child)


def test_a_disabled_adult_may_have_a_companion(cast, iso):
    person = iso.person()
    person.tags.add(Tag.objects.get(code="disabled"))
    room = iso.room(number="201")
    stay = services.allocate(iso.staff_a, person, room)
    assert services.allocate(iso.staff_a, iso.person(name="陪护"), room, companion_of=stay).pk


def test_an_adult_of_working_age_gets_no_companion(cast, iso):
    room = iso.room(number="201")
    stay = services.allocate(iso.staff_a, iso.person(), room)  # born 1980
    refused("companion", services.allocate, iso.staff_a, iso.person(name="朋友"), room, companion_of=stay)


def test_a_companion_goes_into_the_room_of_the_one_accompanied(cast, iso):
    elder = services.allocate(
        iso.staff_a, iso.person(birth=datetime.date(1940, 3, 1)), iso.room(number="201")
    )
    refused(
        "companion", services.allocate, iso.staff_a, iso.person(name="女儿"), iso.room(), companion_of=elder
    )


def test_it_refuses_rooms_being_cleaned_out_of_service_or_at_a_closed_site(cast, iso):
    room = iso.room()
    stay = services.allocate(iso.staff_a, iso.person(), room)
    services.check_in(iso.staff_a, stay)
    services.check_out(iso.staff_a, stay)
    refused("room", services.allocate, iso.staff_a, iso.person(), Room.objects.get(pk=room.pk))
    other = iso.room(number="102")
    services.set_out_of_service(iso.staff_a, other, True, note="水管维修")
    refused("room", services.allocate, iso.staff_a, iso.person(), Room.objects.get(pk=other.pk))
    Site.objects.filter(pk=room.site_id).update(is_active=False)
    refused("site", services.allocate, iso.staff_a, iso.person(), iso.room(number="103"))


def test_the_room_goes_occupied_cleaning_free(cast, iso):
    room = iso.room()
    stay = services.allocate(iso.staff_a, iso.person(), room)
    services.check_in(iso.staff_a, stay)
    stay.refresh_from_db()
    assert stay.status == "checked_in" and stay.checked_in_at
    services.check_out(iso.staff_a, stay, note="解除隔离")
    room.refresh_from_db()
    stay.refresh_from_db()
    assert (stay.status, room.status) == ("checked_out", "cleaning") and stay.checked_out_at
    services.mark_clean(iso.staff_a, room)
    room.refresh_from_db()
    assert room.status == "free"


def test_a_cancelled_allocation_frees_the_room_without_cleaning(cast, iso):
    room = iso.room()
    stay = services.allocate(iso.staff_a, iso.person(), room)
    services.check_out(iso.staff_a, stay, note="未到达")
    room.refresh_from_db()
    assert room.status == "free"


def test_the_room_waits_for_its_last_person_before_cleaning(cast, iso):
    room = iso.room(number="201")
    child = services.allocate(iso.staff_a, iso.person(birth=datetime.date(2019, 1, 1)), room)
    mother = services.allocate(iso.staff_a, iso.person(name="母亲"), room, companion_of=child)
    for stay in (child, mother):
        services.check_in(iso.staff_a, stay)
    services.check_out(iso.staff_a, Stay.objects.get(pk=mother.pk))
    assert Room.objects.get(pk=room.pk).status == "occupied"
    services.check_out(iso.staff_a, Stay.objects.get(pk=child.pk))
    assert Room.objects.get(pk=room.pk).status == "cleaning"


def test_a_transfer_moves_the_person_and_companions_and_leaves_the_old_room_to_clean(cast, iso):
    old = iso.room(number="201")
    new = Room.objects.create(site=old.site, number="301", floor=3, kind=Room.Kind.MULTI, beds=3)
    child = services.allocate(iso.staff_a, iso.person(birth=datetime.date(2019, 1, 1)), old)
    mother = services.allocate(iso.staff_a, iso.person(name="母亲"), old, companion_of=child)
    for stay in (child, mother):
        services.check_in(iso.staff_a, stay)
    moved = services.transfer(iso.staff_a, Stay.objects.get(pk=child.pk), new, note="换多人间")
    assert (moved.room, moved.status) == (new, "checked_in")
    assert Stay.objects.get(pk=child.pk).status == "transferred"
    companion = Stay.objects.get(companion_of=moved)
    assert (companion.person_id, companion.room, companion.status) == (mother.person_id, new, "checked_in")
    assert Room.objects.get(pk=old.pk).status == "cleaning"
    assert Room.objects.get(pk=new.pk).status == "occupied"


def test_a_transfer_to_another_site_is_an_allocation_there(cast, iso):
    stay = services.allocate(cast.commander, iso.person(), iso.room(cast.grid_a))
    services.check_in(cast.commander, stay)
    moved = services.transfer(cast.commander, Stay.objects.get(pk=stay.pk), iso.room(cast.grid_b))
    assert (moved.site, moved.status, moved.checked_in_at) == (iso.site(cast.grid_b), "allocated", None)


def test_a_transfer_needs_a_free_room(cast, iso):
    first = services.allocate(iso.staff_a, iso.person(), iso.room())
    services.allocate(iso.staff_a, iso.person(), iso.room(number="102"))
    refused("room_taken", services.transfer, iso.staff_a, first, iso.room(number="102"))


def test_staff_move_only_the_rooms_of_their_own_site(cast, iso):
    with pytest.raises(PermissionDenied):
        services.allocate(iso.staff_b, iso.person(), iso.room(cast.grid_a))
    stay = services.allocate(iso.staff_a, iso.person(), iso.room(cast.grid_a))
    with pytest.raises(PermissionDenied):
        services.check_in(iso.staff_b, stay)
    with pytest.raises(PermissionDenied):
        services.allocate(cast.auditor, iso.person(), iso.room(cast.grid_a, "102"))


def test_it_links_the_stay_to_the_centralized_step_of_the_key_person(cast, iso):
    person = iso.person()
    entry, _created = control_services.register_key_person(person, "close_contact", cast.grid_a)
    stay = services.allocate(iso.staff_a, person, iso.room(), entry=entry)
    assert stay.measure.kind == "centralized" and stay.measure.key_person == entry
    refused("entry", services.allocate, iso.staff_a, iso.person(), iso.room(number="102"), entry=entry)


def test_an_entry_without_a_centralized_step_is_refused(cast, iso):
    person = iso.person()
    entry, _created = control_services.register_key_person(person, "secondary_contact", cast.grid_a)
    assert not entry.measures.filter(kind="centralized").exists()
    refused("entry", services.allocate, iso.staff_a, person, iso.room(), entry=entry)


def test_availability_is_capacity_minus_occupied_minus_allocated(cast, iso, django_assert_num_queries):
    site_a = iso.site(cast.grid_a, rooms=4, capacity=10)
    site_b = iso.site(cast.grid_b, rooms=2, capacity=6)
    in_a = services.allocate(cast.commander, iso.person(), iso.room(cast.grid_a, "101"))
    services.check_in(cast.commander, in_a)
    services.allocate(cast.commander, iso.person(), iso.room(cast.grid_a, "102"))
    gone = services.allocate(cast.commander, iso.person(), iso.room(cast.grid_a, "103"))
    services.check_in(cast.commander, gone)
    services.check_out(cast.commander, Stay.objects.get(pk=gone.pk))  # no longer counts
    services.allocate(cast.commander, iso.person(cast.grid_b), iso.room(cast.grid_b, "101"))
    with django_assert_num_queries(1):  # one grouped query (the user's grants are cached)
        figures = services.availability(cast.commander)
    rows = {row["site"].pk: row for row in figures["sites"]}
    assert {
        k: rows[site_a.pk][k] for k in ("capacity", "occupied", "allocated", "available", "free_rooms")
    } == {
        "capacity": 10,
        "occupied": 1,
        "allocated": 1,
        "available": 8,
        "free_rooms": 2,  # 104 and 201 (103 is being cleaned)
    }
    assert (rows[site_b.pk]["available"], rows[site_b.pk]["free_rooms"]) == (5, 2)
    assert figures["total"] == {
        "capacity": 16,
        "occupied": 1,
        "allocated": 2,
        "available": 13,
        "free_rooms": 4,
    }


def test_availability_counts_only_the_sites_a_user_sees(cast, iso):
    iso.site(cast.grid_a, capacity=10)
    iso.site(cast.grid_b, capacity=6)
    assert services.availability(iso.staff_b)["total"]["capacity"] == 6
    assert services.availability(iso.official_a)["total"]["capacity"] == 10
    assert services.availability(cast.grid_worker)["sites"] == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_officers_cannot_put_two_persons_in_the_last_free_room(cast):
    iso = isolation(cast)
    site = iso.site(rooms=1)
    Room.objects.filter(site=site).exclude(number="101").update(status=Room.Status.OUT_OF_SERVICE)
    room = iso.room()
    persons = [iso.person(name="甲"), iso.person(name="乙")]
    barrier = threading.Barrier(2)
    outcomes = {}

    def allocate(name, user, person):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes[name] = services.allocate(user, person, Room.objects.get(pk=room.pk))
        except ValidationError as exc:
            outcomes[name] = exc
        finally:
            conn.close()

    threads = [
        threading.Thread(target=allocate, args=("staff", iso.staff_a, persons[0])),
        threading.Thread(target=allocate, args=("commander", cast.commander, persons[1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    stays = [o for o in outcomes.values() if isinstance(o, Stay)]
    refusals = [o for o in outcomes.values() if isinstance(o, ValidationError)]
    assert len(stays) == 1 and len(refusals) == 1, outcomes
    assert refusals[0].code == "room_taken"
    assert Stay.objects.filter(room=room, status__in=Stay.ACTIVE).count() == 1
    assert services.availability(cast.commander)["total"]["free_rooms"] == 0


def test_a_room_left_by_a_person_is_freed_by_cleaning_not_by_a_service_switch(cast, iso):
    room = iso.room()
    stay = services.allocate(iso.staff_a, iso.person(), room)
    services.check_out(iso.staff_a, services.check_in(iso.staff_a, stay))
    refused("room", services.set_out_of_service, iso.staff_a, Room.objects.get(pk=room.pk), False)
    services.set_out_of_service(iso.staff_a, Room.objects.get(pk=room.pk), True, note="墙面返潮")
    services.set_out_of_service(iso.staff_a, Room.objects.get(pk=room.pk), False)
    assert Room.objects.get(pk=room.pk).status == "free"
