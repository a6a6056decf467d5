"""Contact tracing services (issue 11): look-back windows per protocol, contacts classified and
registered into the key-person ledger, the building rule, chains across a contact becoming a case,
and the deadlines' clocks."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from epigrid.control import plans
from epigrid.control.models import KeyPerson, Protocol
from epigrid.people.models import DocumentType
from epigrid.tracing import chains, rules, services
from epigrid.tracing.models import Case, Contact
from tests.tracing_cast import tracing

TODAY = timezone.localdate


@pytest.fixture
def tr(cast):
    return tracing(cast)


@pytest.fixture(autouse=True)
def english():
    """The messages asserted here are the English msgids (the UI speaks Chinese by default)."""
    with translation.override("en"):
        yield


def activate(code):
    Protocol.objects.update(is_active=False)
    Protocol.objects.filter(code=code).update(is_active=True)


def message(exc):
    return " ".join(exc.value.messages)


# Look-back windows


@pytest.mark.parametrize("code", ["v8", "v9", "twenty"])
def test_the_window_starts_four_days_before_onset_under_each_shipped_protocol(tr, code):
    activate(code)
    onset = TODAY() - datetime.timedelta(days=3)
    case = tr.case(onset=onset)
    assert case.protocol.code == code
    assert services.window(case)[0] == onset - datetime.timedelta(days=4)


def test_without_symptoms_the_window_counts_from_the_first_positive_sample(tr):
    case = tr.case(sampled_ago=2)
    assert case.onset_date is None
    assert services.window(case)[0] == TODAY() - datetime.timedelta(days=6)


def test_the_window_is_the_protocols_number_not_code(tr):
    v9 = Protocol.objects.get(code="v9")
    two_days = {**v9.rules, "tracing": {**v9.rules["tracing"], "lookback_days": 2}}
    Protocol.objects.update(is_active=False)
    Protocol.objects.create(
        code="v7", name="第七版", short_name="第七版", published=TODAY(), rules=two_days, is_active=True
    )
    case = tr.case(onset=TODAY() - datetime.timedelta(days=1))
    assert services.window(case)[0] == TODAY() - datetime.timedelta(days=3)
    # A contact three days before onset is outside that window.
    with pytest.raises(ValidationError) as exc:
        services.add_contact(None, case, tr.person(), last_contact=TODAY() - datetime.timedelta(days=4))
    assert "look-back window" in message(exc)


def test_a_protocol_with_a_bad_tracing_section_is_refused(db):
    rules_ = Protocol.objects.get(code="v9").rules
    with pytest.raises(ValidationError):
        plans.validate_rules({**rules_, "tracing": {"lookback_days": -1, "deadline_hours": {"reported": 0}}})
    with pytest.raises(ValidationError):
        plans.validate_rules({**rules_, "tracing": {"lookback_days": 4, "deadline_hours": {"lunch": 2}}})
    plans.validate_rules(rules_)  # the shipped section passes


def test_a_protocol_without_tracing_rules_cannot_open_cases(tr):
    v9 = Protocol.objects.get(code="v9")
    Protocol.objects.filter(pk=v9.pk).update(rules={k: v for k, v in v9.rules.items() if k != "tracing"})
    with pytest.raises(ValidationError) as exc:
        tr.case()
    assert "no tracing rules" in message(exc)


# Cases


def test_a_person_is_a_case_once(tr):
    case = tr.case()
    again, created = services.open_case(None, case.person, sampled_on=TODAY(), positive_at=timezone.now())
    assert (again, created) == (case, False)
    assert Case.objects.count() == 1


def test_a_case_with_dates_in_the_future_is_refused(tr):
    with pytest.raises(ValidationError):
        services.open_case(
            None, tr.person(), sampled_on=TODAY() + datetime.timedelta(days=1), positive_at=timezone.now()
        )


def test_a_case_outside_the_users_area_is_refused(cast, tr):
    person = tr.person("b")
    with pytest.raises(PermissionDenied):
        services.open_case(cast.grid_worker, person, sampled_on=TODAY(), positive_at=timezone.now())


def test_marking_a_step_again_keeps_the_first_time(tr):
    case = tr.case()
    first = services.mark(None, case, "trajectory").trajectory_done_at
    again = services.mark(None, case, "trajectory", at=timezone.now() + datetime.timedelta(hours=1))
    assert again.trajectory_done_at == first


# Contacts into the ledger


def test_confirming_a_close_contact_registers_them_with_the_last_contact_as_anchor(cast, tr):
    case = tr.case("a")
    person = tr.person("b", name="密接")
    last = TODAY() - datetime.timedelta(days=2)
    contact, created = services.add_contact(None, case, person, contact_class="close", last_contact=last)
    assert created and contact.status == "proposed" and not KeyPerson.objects.exists()
    services.confirm_contact(None, contact)
    entry = KeyPerson.objects.get(person=person)
    assert (entry.category, entry.last_exposure, entry.source, entry.area) == (
        "close_contact",
        last,
        "tracing",
        cast.grid_b,
    )
    assert entry.measures.exists()  # the protocol's plan
    contact.refresh_from_db()
    assert (contact.status, contact.key_person) == ("confirmed", entry)
    assert contact.controlled_at is not None
    # Again: nothing new.
    services.confirm_contact(None, contact)
    assert KeyPerson.objects.filter(person=person).count() == 1


def test_a_secondary_contact_is_registered_as_secondary_under_the_ninth_edition(tr):
    case = tr.case()
    close, _ = services.add_contact(None, case, tr.person(name="密接"), last_contact=TODAY())
    second, _ = services.add_contact(
        None, case, tr.person("b", name="次密接"), contact_class="secondary", via=close, last_contact=TODAY()
    )
    services.confirm_contact(None, second)
    assert KeyPerson.objects.get(person=second.person).category == "secondary_contact"


def test_under_the_twenty_measures_secondary_contacts_are_not_traced(tr):
    activate("twenty")
    case = tr.case()
    assert not services.traces(case, "secondary") and services.traces(case, "close")
    with pytest.raises(ValidationError) as exc:
        services.add_contact(None, case, tr.person(), contact_class="secondary", last_contact=TODAY())
    assert "no longer traced" in message(exc)


def test_a_general_contact_is_recorded_without_a_ledger_entry(tr):
    case = tr.case()
    contact, _ = services.add_contact(None, case, tr.person(), contact_class="general", last_contact=TODAY())
    services.confirm_contact(None, contact)
    contact.refresh_from_db()
    assert contact.status == "confirmed" and contact.key_person is None
    assert not KeyPerson.objects.exists()


def test_a_person_already_in_the_ledger_keeps_their_entry(tr):
    from epigrid.control import services as control

    person = tr.person()
    entry, _ = control.register_key_person(person, "high_risk_arrival", person.area, arrival=TODAY())
    case = tr.case(person=tr.person("b", name="病例"))
    contact, _ = services.add_contact(None, case, person, last_contact=TODAY())
    services.confirm_contact(None, contact)
    contact.refresh_from_db()
    assert contact.key_person == entry
    assert KeyPerson.objects.filter(person=person).count() == 1


def test_the_same_person_is_a_contact_of_a_case_once(tr):
    case = tr.case()
    person = tr.person()
    first, created = services.add_contact(None, case, person, last_contact=TODAY())
    again, created_again = services.add_contact(
        None, case, person, contact_class="general", last_contact=TODAY()
    )
    assert created and not created_again and again == first
    assert Contact.objects.count() == 1


def test_contacts_refused_for_the_case_itself_and_the_future(tr):
    case = tr.case()
    with pytest.raises(ValidationError):
        services.add_contact(None, case, case.person, last_contact=TODAY())
    with pytest.raises(ValidationError):
        services.add_contact(None, case, tr.person(), last_contact=TODAY() + datetime.timedelta(days=1))


def test_a_dismissed_contact_needs_a_reason_and_cannot_be_confirmed(tr):
    case = tr.case()
    contact, _ = services.add_contact(None, case, tr.person(), last_contact=TODAY())
    with pytest.raises(ValidationError):
        services.dismiss_contact(None, contact, "  ")
    services.dismiss_contact(None, contact, "当天不在场")
    with pytest.raises(ValidationError):
        services.confirm_contact(None, contact)
    assert not KeyPerson.objects.exists()


def test_a_tracer_cannot_change_another_teams_case(tr):
    case = tr.case("a")
    with pytest.raises(PermissionDenied):
        services.add_contact(tr.tracer_b, case, tr.person(), last_contact=TODAY())
    contact, _ = services.add_contact(tr.tracer_a, case, tr.person(), last_contact=TODAY())
    assert contact.pk


# Outsiders


def test_a_person_from_elsewhere_is_registered_once_with_a_valid_number(cast, tr):
    from epigrid.core.identity import make_resident_id

    case = tr.case()
    with pytest.raises(ValidationError):
        services.find_or_register(
            tr.tracer_a,
            case,
            name="外地人",
            doc_type=DocumentType.RESIDENT_ID,
            doc_number="110101199001011230",
        )
    number = make_resident_id("110101", datetime.date(1990, 1, 1), 77)
    person, created = services.find_or_register(
        tr.tracer_a, case, name="外地人", doc_type=DocumentType.RESIDENT_ID, doc_number=number
    )
    assert created and person.residence_type == "migrant" and person.area == case.area
    again, created_again = services.find_or_register(
        tr.tracer_a, case, name="外地人", doc_type=DocumentType.RESIDENT_ID, doc_number=number
    )
    assert again == person and not created_again


# The building rule


def _building(tr):
    """Grid A's building 1: unit 1 rooms 101 (the case's household), 201, 301, 401 and unit 2 room 201."""
    case_person = tr.person(room="201", name="病例")
    housemate = tr.person(room="201", name="同住")
    below = tr.person(room="101", name="楼下")
    above = tr.person(room="301", name="楼上")
    far = tr.person(room="401", name="四楼")
    other_unit = tr.person(room="201", unit="2", name="二单元")
    return case_person, housemate, below, above, far, other_unit


def _proposed(case):
    return {c.person.name: c.contact_class for c in case.contacts.select_related("person")}


def test_the_building_rule_with_own_kitchen_and_bathroom(tr):
    case_person, *_ = _building(tr)
    case = tr.case(person=case_person)
    added = services.propose_building(None, case, own_facilities=True)
    assert _proposed(case) == {"同住": "close", "楼下": "secondary", "楼上": "secondary"}
    assert added == 3
    assert set(case.contacts.values_list("status", "proposed_by")) == {("proposed", "building_rule")}
    # Proposing again adds nobody.
    assert services.propose_building(None, case, own_facilities=True) == 0


def test_the_building_rule_with_shared_facilities(tr):
    case_person, *_ = _building(tr)
    case = tr.case(person=case_person)
    services.propose_building(None, case, own_facilities=False)
    assert _proposed(case) == {
        "同住": "close",
        "楼下": "secondary",
        "楼上": "secondary",
        "四楼": "secondary",
        "二单元": "secondary",
    }


def test_the_building_rule_proposes_no_secondary_contacts_under_the_twenty_measures(tr):
    activate("twenty")
    case_person, *_ = _building(tr)
    case = tr.case(person=case_person)
    services.propose_building(None, case, own_facilities=False)
    assert _proposed(case) == {"同住": "close"}


def test_floors_come_from_room_numbers():
    assert [services.floor_of(r) for r in ("502", "1203", "5", "B-302", "")] == [5, 12, None, 3, None]


# Chains


def test_a_contact_who_becomes_a_case_keeps_the_record_and_links_the_chain(tr):
    first = tr.case(hours_ago=30, sampled_ago=2)
    diner = tr.person("b", name="食客")
    contact, _ = services.add_contact(None, first, diner, last_contact=TODAY() - datetime.timedelta(days=1))
    services.confirm_contact(None, contact)
    second = tr.case(person=diner, grid="b")
    assert second.source_contact == contact
    assert second.key_person == KeyPerson.objects.get(person=diner)  # the open entry, linked
    tr.case(person=tr.person(name="另一病例"))
    contact.refresh_from_db()
    assert contact.status == "confirmed"  # the record stays
    assert chains.chain_of(first) == {first.pk, second.pk} == chains.chain_of(second)
    graph = chains.build(Case.objects.all(), Contact.objects.all())
    assert graph["counts"] == {"cases": 3, "contacts": 1, "chains": 2, "from_contacts": 1, "new_chains": 2}
    by_person = {n[0]: n for n in graph["nodes"]}
    assert by_person[diner.pk][2] == chains.CASE and by_person[diner.pk][5] == second.pk
    assert [first.person_id, diner.pk] in [list(link) for link in graph["links"]]
    assert len(by_person) == 3


def test_a_secondary_contact_hangs_from_the_close_contact(tr):
    case = tr.case()
    close, _ = services.add_contact(None, case, tr.person(name="密接"), last_contact=TODAY())
    second, _ = services.add_contact(
        None, case, tr.person(name="次密接"), contact_class="secondary", via=close, last_contact=TODAY()
    )
    graph = chains.build(Case.objects.all(), Contact.objects.all())
    links = {tuple(link) for link in graph["links"]}
    assert (close.person_id, second.person_id) in links and (case.person_id, second.person_id) not in links
    timeline = graph["timeline"]
    by_day = dict(
        zip(timeline["days"], zip(timeline["cases"], timeline["contacts"], strict=True), strict=True)
    )
    assert by_day == {case.sampled_on.isoformat(): (1, 0), TODAY().isoformat(): (0, 2)}


def test_dismissed_contacts_are_not_in_the_graph(tr):
    case = tr.case()
    contact, _ = services.add_contact(None, case, tr.person(), last_contact=TODAY())
    services.dismiss_contact(None, contact, "没见过")
    assert chains.build(Case.objects.all(), Contact.objects.all())["counts"]["contacts"] == 0


# Deadlines


def test_the_clocks_of_a_case(tr):
    case = tr.case(hours_ago=5)  # reported 2 h, trajectory 4 h, report 24 h after the positive
    states = {key: state for key, _due, _done, state in services.case_deadlines(case)}
    assert states == {"reported": "overdue", "trajectory": "overdue", "report": "open"}
    assert list(services.overdue_cases(Case.objects.all())) == [case]
    services.mark(None, case, "reported", at=case.positive_at + datetime.timedelta(hours=1))
    services.mark(None, case, "trajectory")  # now: 5 h after, late
    case.refresh_from_db()
    states = {key: state for key, _due, _done, state in services.case_deadlines(case)}
    assert states == {"reported": "done", "trajectory": "late", "report": "open"}
    assert not services.overdue_cases(Case.objects.all()).exists()


def test_close_contacts_are_overdue_after_8_hours_and_secondary_after_12(tr):
    case = tr.case(hours_ago=20)
    now = timezone.now()
    close, _ = services.add_contact(
        None, case, tr.person(name="甲"), last_contact=TODAY(), now=now - datetime.timedelta(hours=9)
    )
    second, _ = services.add_contact(
        None,
        case,
        tr.person(name="乙"),
        contact_class="secondary",
        last_contact=TODAY(),
        now=now - datetime.timedelta(hours=9),
    )
    assert list(services.overdue_contacts(Contact.objects.all())) == [close]
    assert services.overdue_contacts(Contact.objects.all(), now + datetime.timedelta(hours=4)).count() == 2
    services.confirm_contact(None, close)
    assert list(services.overdue_contacts(Contact.objects.all(), now + datetime.timedelta(hours=4))) == [
        second
    ]


def test_the_deadlines_are_the_protocols(tr):
    v9 = Protocol.objects.get(code="v9")
    hours = {**v9.rules["tracing"]["deadline_hours"], "reported": 6}
    Protocol.objects.filter(pk=v9.pk).update(
        rules={**v9.rules, "tracing": {**v9.rules["tracing"], "deadline_hours": hours}}
    )
    case = tr.case(hours_ago=5)
    assert rules.deadline_hours(case.protocol.rules)["reported"] == 6
    states = {key: state for key, _due, _done, state in services.case_deadlines(case)}
    assert states["reported"] == "open"
