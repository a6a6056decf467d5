"""Assistance services: receiving a request with its deadline, rows going to the grid where the
registry has the person, answers (found → a key person with source assistance and the 协查 cleared;
not here; not managed under 二十条), idempotent answers, the request answered with its last row, and
two officers answering one row at once (PostgreSQL)."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from epigrid.assistance import services
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.control import services as control_services
from epigrid.control.models import KeyPerson, Protocol
from epigrid.people.models import Person
from tests.scoping import make_person
from tests.test_assistance_cast import assist, outsider_id, row_of


@pytest.fixture
def aid(cast):
    return assist(cast)


def refused(code, fn, *args, **kwargs):
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == code, exc.value
    return exc.value


def test_it_gives_24_hours_in_province_and_48_hours_from_outside(cast, aid):
    inside = aid.request(in_province=True)
    outside = aid.request(in_province=False)
    assert inside.due_at - inside.received_at == datetime.timedelta(hours=24)
    assert outside.due_at - outside.received_at == datetime.timedelta(hours=48)


def test_it_moves_the_deadline_when_the_origin_is_corrected(cast, aid):
    request = aid.request(in_province=True)
    services.update_request(cast.commander, request, in_province=False)
    request.refresh_from_db()
    assert request.due_at - request.received_at == datetime.timedelta(hours=48)


def test_it_refuses_the_same_letter_twice(cast, aid):
    aid.request(reference="天协〔2022〕9号")
    refused("duplicate", aid.request, reference="天协〔2022〕9号")


def test_it_refuses_a_receiving_area_outside_the_users_scope(cast, aid):
    with pytest.raises(PermissionDenied):
        aid.request(user=cast.street_officer, area=cast.district)


def test_a_row_goes_to_the_grid_where_the_registry_has_the_person(cast, aid):
    person = make_person(household=cast.household_b)
    request = aid.request(rows=[row_of(person), row_of(name="外地人")])
    registered, outsider = request.persons.order_by("number")
    assert (registered.area, outsider.area) == (cast.grid_b, cast.district)


def test_found_puts_the_person_under_the_protocols_measure_and_clears_the_request(cast, aid):
    person = make_person(household=cast.household_a)
    row = aid.row(person=person)
    row = services.answer_found(cast.grid_worker, row, note="已核实")
    entry = KeyPerson.objects.get(person=person, status="open")
    assert (row.status, row.person, row.key_person) == ("found", person, entry)
    assert (entry.source, entry.category, entry.area) == ("assistance", "close_contact", cast.grid_a)
    assert entry.assistance_received_at == row.request.received_at and entry.assistance_in_province
    assert entry.assistance_cleared_at is not None
    assert entry.last_exposure == row.exposure_on and entry.measures.exists()
    assert not entry.assistance_overdue(timezone.now() + datetime.timedelta(days=3))
    assert row.request.status == AssistRequest.Status.ANSWERED


def test_found_registers_a_person_new_to_the_registry_as_a_migrant(cast, aid):
    number = outsider_id()
    row = aid.row(name="马晓东", doc_number=number, phone="+8613812345678")
    services.answer_found(cast.grid_worker, row)
    person = Person.objects.get(doc_number=number)
    assert (person.name, person.area, person.residence_type, person.phone) == (
        "马晓东",
        cast.grid_a,
        "migrant",
        "+8613812345678",
    )
    assert KeyPerson.objects.filter(person=person, source="assistance").exists()


def test_found_links_an_entry_already_open_without_a_second_one(cast, aid):
    person = make_person(household=cast.household_a)
    entry, _ = control_services.register_key_person(person, "close_contact", cast.grid_a)
    row = services.answer_found(cast.grid_worker, aid.row(person=person))
    assert row.key_person == entry and KeyPerson.objects.filter(person=person).count() == 1


def test_a_row_waiting_at_the_street_must_be_assigned_before_found(cast, aid):
    request = aid.request(area=cast.street, rows=[row_of(name="外地人")])
    refused("area", services.answer_found, cast.street_officer, request.persons.get())
    row = services.answer_found(cast.street_officer, request.persons.get(), area=cast.grid_a)
    assert (row.status, row.area) == ("found", cast.grid_a)


def test_a_role_that_may_not_register_residents_leaves_a_new_person_to_the_grid(cast, aid):
    request = aid.request(rows=[row_of(name="外地人")])
    with pytest.raises(PermissionDenied):
        services.answer_found(cast.commander, request.persons.get(), area=cast.grid_a)
    row = request.persons.get()
    assert (row.status, row.area) == ("pending", cast.district)  # the assignment rolled back too


def test_under_twenty_measures_secondary_contacts_are_answered_not_managed(cast, aid):
    control_services.activate(Protocol.objects.get(code="twenty"))
    person = make_person(household=cast.household_a)
    row = services.answer_found(cast.grid_worker, aid.row(person=person, category="secondary_contact"))
    assert row.status == AssistPerson.Status.NOT_TRACED and row.person == person
    assert "二十条" in row.answer_note
    assert not KeyPerson.objects.filter(person=person).exists()
    assert row.request.status == AssistRequest.Status.ANSWERED


def test_not_here_needs_a_note_and_answers_the_row(cast, aid):
    row = aid.row()
    refused("note", services.answer_not_here, cast.grid_worker, row, "left", " ")
    refused("status", services.answer_not_here, cast.grid_worker, row, "found", "x")
    row = services.answer_not_here(cast.grid_worker, row, "left", "已返回天水")
    assert (row.status, row.answer_note, row.answered_by) == ("left", "已返回天水", cast.grid_worker)
    assert not Person.objects.filter(doc_number=row.doc_number).exists()


def test_an_answer_given_again_changes_nothing(cast, aid):
    person = make_person(household=cast.household_a)
    row = services.answer_found(cast.grid_worker, aid.row(person=person))
    again = services.answer_found(cast.grid_worker, AssistPerson.objects.get(pk=row.pk))
    assert (again.answered_at, again.key_person) == (row.answered_at, row.key_person)
    other = services.answer_not_here(cast.grid_worker, aid.row(), "no_such_person", "查无此人")
    assert services.answer_not_here(cast.grid_worker, other, "no_such_person", "查无此人").answered_at == (
        other.answered_at
    )


def test_a_different_answer_to_an_answered_row_is_refused(cast, aid):
    row = services.answer_not_here(cast.grid_worker, aid.row(), "no_such_person", "查无此人")
    refused("answered", services.answer_found, cast.grid_worker, row)
    refused("answered", services.answer_not_here, cast.grid_worker, row, "left", "走了")


def test_another_grids_worker_may_not_answer(cast, aid):
    with pytest.raises(PermissionDenied):
        services.answer_found(cast.grid_worker_b, aid.row())


def test_a_request_is_answered_with_its_last_row_and_reopened_by_a_new_one(cast, aid):
    request = aid.request(rows=[row_of(name="甲"), row_of(name="乙")])
    first, second = request.persons.order_by("number")
    services.answer_not_here(cast.commander, first, "no_such_person", "查无此人")
    request.refresh_from_db()
    assert request.status == "open" and services.progress(request)["percent"] == 50
    services.answer_not_here(cast.commander, second, "left", "已离开")
    request.refresh_from_db()
    assert request.status == "answered" and request.answered_at is not None
    services.add_persons(cast.commander, request, [row_of(name="丙")])
    request.refresh_from_db()
    assert request.status == "open" and services.progress(request)["pending"] == 1


def test_the_same_document_added_again_is_the_row_already_there(cast, aid):
    row = row_of(name="甲")
    request = aid.request(rows=[row])
    created, unchanged = services.add_persons(cast.commander, request, [row])
    assert created == [] and [r.doc_number for r in unchanged] == [row["doc_number"]]


def test_overdue_requests_and_pressing_rows(cast, aid):
    late = aid.request(rows=[row_of()], hours_ago=30)
    aid.request(rows=[row_of()], hours_ago=1)
    services.assign(None, late.persons.get(), cast.grid_a)
    assert list(services.overdue_requests(cast.commander)) == [late]
    assert [r.request for r in services.pressing_rows(cast.grid_worker)] == [late]
    assert list(services.pressing_rows(cast.grid_worker_b)) == []


def test_clean_row_checks_the_id_but_never_its_region(cast):
    # 620102 for someone born in 1950: stdnum's region check would refuse it; the registry must not.
    from epigrid.core.identity import make_resident_id

    old = make_resident_id("620102", datetime.date(1950, 1, 1), 7)
    assert services.clean_row(row_of(doc_number=old, phone="138 1234 5678"))["phone"] == "+8613812345678"
    with pytest.raises(ValidationError) as exc:
        services.clean_row(row_of(doc_number="360426199101010072", phone="12345", category="x"))
    assert set(exc.value.message_dict) == {"doc_number", "phone", "category"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_officers_answering_one_row_at_once_give_one_answer(cast):
    aid = assist(cast)
    person = make_person(household=cast.household_a)
    row = aid.row(person=person)
    barrier = threading.Barrier(2)
    outcomes = {}

    def answer(name, fn):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes[name] = fn(AssistPerson.objects.get(pk=row.pk))
        except ValidationError as exc:
            outcomes[name] = exc
        finally:
            conn.close()

    threads = [
        threading.Thread(target=answer, args=("found", lambda r: services.answer_found(cast.grid_worker, r))),
        threading.Thread(
            target=answer,
            args=("gone", lambda r: services.answer_not_here(cast.community_officer, r, "left", "已离开")),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    answers = [o for o in outcomes.values() if isinstance(o, AssistPerson)]
    refusals = [o for o in outcomes.values() if isinstance(o, ValidationError)]
    assert len(answers) == 1 and len(refusals) == 1, outcomes
    assert refusals[0].code == "answered"
    final = AssistPerson.objects.get(pk=row.pk)
    assert final.status == answers[0].status
    assert KeyPerson.objects.filter(person=person).count() == (1 if final.status == "found" else 0)
    assert AssistRequest.objects.get(pk=row.request_id).status == "answered"
