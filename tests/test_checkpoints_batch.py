"""The gate's queue as a batch (decision 0027, addendum): a batch is read and written set-based, yet
every scan is answered as if it had been sent alone — in order, each refusal with its own reason,
a retried batch creating nothing, lookups charged once, the scope of persons named by id kept, and
a scan that puts someone in the ledger seen by the later scans of the same person."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from epigrid.areas.models import Area, Level
from epigrid.audit.models import ObjectChange
from epigrid.checkpoints import services
from epigrid.checkpoints.models import Passage
from epigrid.control import services as control
from epigrid.control.models import KeyPerson, Protocol
from tests.checkpoint_cast import gates
from tests.scoping import make_person


@pytest.fixture
def g(cast):
    return gates(cast)


def _lookups(user):
    return ObjectChange.objects.filter(action="lookup", user=user).count()


def test_a_batch_answers_each_scan_in_order_and_a_retry_creates_nothing(cast, g):
    people = [g.person(name=f"居民{i}") for i in range(5)]
    scans = [g.scan(g.gate_a, p) for p in people]
    outcomes = g.record(g.staff_a, *scans)
    assert [o["client_id"] for o in outcomes] == [s["client_id"] for s in scans]
    assert {o["outcome"] for o in outcomes} == {"accepted"}
    stored = dict(Passage.objects.values_list("client_id", "person_id"))
    assert {str(k): v for k, v in stored.items()} == {s["client_id"]: p.pk for s, p in zip(scans, people, strict=True)}
    assert {o["passage"] for o in outcomes} == set(Passage.objects.values_list("pk", flat=True))
    assert _lookups(g.staff_a) == 5  # each ID number is a lookup, charged once
    # Each passage is in the change log, as one saved alone would be.
    assert ObjectChange.objects.filter(action="create", content_type__model="passage").count() == 5

    again = g.record(g.staff_a, *scans)
    assert {o["outcome"] for o in again} == {"duplicate"}
    assert Passage.objects.count() == 5 and _lookups(g.staff_a) == 5  # a retry is no new lookup


def test_the_same_person_twice_and_the_same_client_id_twice_in_one_batch(cast, g):
    person = g.person()
    first, second = g.scan(g.gate_a, person), g.scan(g.gate_a, person, direction="out")
    outcomes = g.record(g.staff_a, first, second, dict(first))
    assert [o["outcome"] for o in outcomes] == ["accepted", "accepted", "duplicate"]
    assert Passage.objects.filter(person=person).count() == 2
    assert sorted(Passage.objects.values_list("direction", flat=True)) == ["in", "out"]


def test_a_batch_mixing_persons_in_and_out_of_scope(cast, g):
    elsewhere = Area.objects.create(code="620103", name="七里河区", level=Level.DISTRICT, parent=cast.city)
    outsider = make_person(area=elsewhere, name="外区居民")
    resident = g.person()
    scans = [
        g.scan(g.gate_a, resident),
        g.scan(g.gate_a, person=None) | {"person": {"id": resident.pk}},
        g.scan(g.gate_a, person=None) | {"person": {"id": outsider.pk}},  # by id: only whom they see
        g.scan(g.gate_a, outsider),  # a traveller from elsewhere is found by the ID card
        g.scan(g.gate_b, resident),  # not their post
        g.scan(g.gate_a, person=None) | {"person": {"id": "x"}},
        g.scan(g.gate_a, person=None) | {"person": {"token": "forged"}},
    ]
    with translation.override("en"):
        outcomes = g.record(g.staff_a, *scans)
    assert [o["outcome"] for o in outcomes] == [
        "accepted",
        "accepted",
        "refused",
        "accepted",
        "refused",
        "refused",
        "refused",
    ]
    assert "No such person" in outcomes[2]["message"] and "not posted" in outcomes[4]["message"]
    assert "expired" in outcomes[6]["message"]
    assert Passage.objects.count() == 3
    assert not Passage.objects.filter(client_id=scans[2]["client_id"]).exists()


def test_each_person_of_a_batch_gets_their_own_findings(cast, g):
    isolated, zoned, plain = g.person(name="居家"), g.person("b", name="封控"), g.person(name="普通")
    control.register_key_person(
        isolated, "medium_risk_arrival", isolated.area, arrival=timezone.localdate() - datetime.timedelta(days=1)
    )
    control.draw_zone(cast.grid_b, "high", timezone.localdate())
    outcomes = g.record(
        g.staff_a,
        g.scan(g.gate_a, isolated, direction="out"),
        g.scan(g.gate_b, zoned, direction="out"),
        g.scan(g.gate_a, plain, direction="out"),
    )
    assert [o["outcome"] for o in outcomes] == ["accepted", "refused", "accepted"]  # gate_b: not their post
    [zoned_outcome] = g.record(g.staff_b, g.scan(g.gate_b, zoned, direction="out"))
    assert [o["suggested"] for o in (outcomes[0], zoned_outcome, outcomes[2])] == ["isolation", "refuse", "pass"]
    passage = Passage.objects.get(person=isolated)
    assert [f["code"] for f in passage.findings] == ["measure"]


def test_an_arrival_put_in_the_ledger_is_seen_by_the_later_scans_of_the_same_person(cast, g):
    person = g.person()
    arrival = g.scan(g.entry, person, origin="上海市", origin_risk="high", destination=cast.community.code)
    later = g.scan(g.entry, person)
    first, second = g.record(g.entry_staff, arrival, later)
    assert first["outcome"] == second["outcome"] == "accepted"
    entry = KeyPerson.objects.get(person=person)
    assert Passage.objects.get(client_id=arrival["client_id"]).key_person == entry
    # Sent one by one, the second scan would find the entry just made: so it does in a batch.
    findings = Passage.objects.get(client_id=later["client_id"]).findings
    assert "measure" in {f["code"] for f in findings}


def test_the_lookup_limit_in_a_batch_refuses_only_the_scans_past_it(cast, g, settings):
    settings.EPIGRID_GATE_LOOKUP_LIMITS = (2, 10)
    people = [g.person(name=f"居民{i}") for i in range(3)]
    outcomes = g.record(g.staff_a, *[g.scan(g.gate_a, p) for p in people])
    assert [o["outcome"] for o in outcomes] == ["accepted", "accepted", "refused"]
    assert _lookups(g.staff_a) == 2
    assert ObjectChange.objects.filter(action="lookup_limit", user=g.staff_a).exists()  # the auditors see it


def test_an_override_without_reason_is_refused_alone_and_its_lookup_stays_charged(cast, g):
    people = [g.person(name=f"居民{i}") for i in range(2)]
    outcomes = g.record(
        g.staff_a,
        g.scan(g.gate_a, people[0], health_code="yellow", decision="pass"),
        g.scan(g.gate_a, people[1]),
    )
    assert [o["outcome"] for o in outcomes] == ["refused", "accepted"]
    assert Passage.objects.get().person == people[1]
    assert _lookups(g.staff_a) == 2  # the number was looked up, whatever the decision


def test_a_batch_costs_the_same_statements_whatever_its_size(cast, g):
    def statements(n):
        scans = [g.scan(g.gate_a, g.person(name=f"居民{i}")) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            outcomes = g.record(g.staff_a, *scans)
        assert {o["outcome"] for o in outcomes} == {"accepted"}
        return len(ctx.captured_queries)

    statements(1)  # the per-process protocol and zones are read once
    # A single scan (a gate's usual batch) writes its passage and change-log row in one statement.
    assert statements(1) <= statements(2) == statements(20)


def test_a_protocol_or_zone_saved_reaches_the_next_scan(cast, g):
    person = g.person()
    assert g.record(g.staff_a, g.scan(g.gate_a, person, direction="out"))[0]["suggested"] == "pass"
    control.draw_zone(cast.grid_a, "high", timezone.localdate())
    assert g.record(g.staff_a, g.scan(g.gate_a, person, direction="out"))[0]["suggested"] == "refuse"
    assert services.gate_protocol().is_active
    twenty = Protocol.objects.get(code="twenty")
    control.activate(twenty)
    assert services.gate_protocol() == twenty


def test_an_arrival_by_car_is_seen_by_the_later_scans_of_the_same_person(cast, g):
    person = g.person()
    car = {"client_id": "00000000-0000-4000-8000-0000000000c1", "plate": "沪A12345"}
    arrival = g.scan(
        g.entry, person, origin="上海市", origin_risk="high", destination=cast.community.code, vehicle=car
    )
    later, other = g.scan(g.entry, person), g.scan(g.entry, g.person(name="另一人"))
    outcomes = g.record(g.entry_staff, arrival, later, other)
    assert [o["outcome"] for o in outcomes] == ["accepted"] * 3
    assert Passage.objects.get(client_id=arrival["client_id"]).vehicle.plate == "沪A12345"
    findings = Passage.objects.get(client_id=later["client_id"]).findings
    assert "measure" in {f["code"] for f in findings}
