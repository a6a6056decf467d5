"""Mass testing: scans to samples (testing.services.ingest and POST /api/v1/samples/batch/)."""

import datetime
import uuid

import pytest
from django.db import connection
from django.utils import timezone, translation
from rest_framework.test import APIClient

from epigrid.core.identity import make_resident_id
from epigrid.testing import services
from epigrid.testing.models import Exemption, Find, Sample, SampledPerson, Tube
from tests.scoping import make_person
from tests.testing_cast import Round, new_tube

BATCH_URL = "/api/v1/samples/batch/"


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in their English source; the UI's Chinese is tested in the pages.
    with translation.override("en"):
        yield


@pytest.fixture
def rnd(cast):
    return Round(cast)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def people(cast, n, household=None):
    return [make_person(household=household or cast.household_a, name=f"居民{i}") for i in range(n)]


def test_it_pools_ten_persons_and_tells_the_desk_to_change_the_tube(cast, rnd):
    persons = people(cast, 11)
    tube = new_tube()
    outcomes = services.ingest(rnd.sampler, [rnd.scan(p, tube) for p in persons])
    assert [o["status"] for o in outcomes[:10]] == ["accepted"] * 10
    assert [o["position"] for o in outcomes[:10]] == list(range(1, 11))
    assert outcomes[9]["tube_full"] is True and "换管" in outcomes[9]["reason"]
    assert outcomes[10]["status"] == "refused" and "换管" in outcomes[10]["reason"]
    stored = Tube.objects.get(barcode=tube)
    assert (stored.count, stored.status) == (10, Tube.Status.CLOSED)
    assert Sample.objects.filter(tube=stored).count() == 10
    # The desk confirms the person by a masked name and the birth year only.
    assert outcomes[0]["person"] == {"name": "居*0", "birth_year": 1980, "sex": persons[0].sex}


def test_it_answers_a_resent_client_id_as_a_duplicate_and_changes_nothing(cast, rnd):
    person = people(cast, 1)[0]
    scan = rnd.scan(person, new_tube())
    first = api(rnd.sampler).post(BATCH_URL, {"scans": [scan]}, format="json").json()["outcomes"]
    again = api(rnd.sampler).post(BATCH_URL, {"scans": [scan, scan]}, format="json").json()["outcomes"]
    assert first[0]["status"] == "accepted"
    assert [o["status"] for o in again] == ["duplicate", "duplicate"]
    assert Sample.objects.count() == 1 and Tube.objects.get().count == 1


def test_it_refuses_a_tube_from_another_desk_or_round(cast, rnd):
    a, b = people(cast, 2)
    tube = new_tube()
    services.ingest(rnd.sampler, [rnd.scan(a, tube, desk=rnd.desk_a1)])
    out = services.ingest(rnd.sampler, [rnd.scan(b, tube, desk=rnd.desk_a2)])
    assert out[0]["status"] == "refused" and "another desk" in out[0]["reason"]
    other = Round.__new__(Round)
    other_round = services.create_campaign(
        rnd.sampler,
        name="第二轮",
        area=cast.district,
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        ends_at=timezone.now() + datetime.timedelta(hours=5),
        copy_from=rnd.campaign,
    )
    other_round.status = "running"
    other_round.save()
    del other
    desk = other_round.points.get(name=rnd.point_a.name).desks.get(name="1号台")
    desk.point.staff.add(rnd.sampler)
    out = services.ingest(rnd.sampler, [rnd.scan(b, tube, desk=desk)])
    assert out[0]["status"] == "refused" and "another round" in out[0]["reason"]


def test_it_refuses_barcodes_that_break_the_rule(cast):
    rnd = Round(cast, tube_prefix="LZ", tube_length=10, tube_check="luhn")
    person = people(cast, 1)[0]
    good = "LZ" + "79927398713"[-8:]  # not luhn-checkable with letters: the rule refuses letters
    out = services.ingest(
        rnd.sampler, [rnd.scan(person, good), rnd.scan(person, "XX12345678"), rnd.scan(person, "LZ123")]
    )
    assert [o["status"] for o in out] == ["refused"] * 3
    assert "check digit" in out[0]["reason"]
    assert "does not start with LZ" in out[1]["reason"]
    assert "has 5 characters" in out[2]["reason"]


def test_it_takes_a_luhn_checked_tube_and_refuses_a_misread_one(cast):
    rnd = Round(cast, tube_length=11, tube_check="luhn")
    person = people(cast, 1)[0]
    out = services.ingest(rnd.sampler, [rnd.scan(person, "79927398713"), rnd.scan(person, "79927398710")])
    assert out[0]["status"] == "accepted"
    assert out[1]["status"] == "refused" and "misread" in out[1]["reason"]


def test_it_warns_about_a_second_sample_of_the_same_person_and_keeps_both(cast, rnd):
    person = people(cast, 1)[0]
    out = services.ingest(rnd.sampler, [rnd.scan(person, new_tube()), rnd.scan(person, new_tube())])
    assert [o["status"] for o in out] == ["accepted", "accepted"]
    assert out[0]["reason"] == "" and "Already sampled" in out[1]["reason"]
    assert Sample.objects.filter(person=person).count() == 2
    assert SampledPerson.objects.filter(person=person).count() == 1
    assert Sample.objects.filter(person=person, repeat=True).count() == 1


def test_it_refuses_an_invalid_document_without_repeating_it(cast, rnd):
    out = services.ingest(rnd.sampler, [rnd.scan(number="360426199101010072", tube=new_tube())])
    assert out[0]["status"] == "refused" and "check digit" in out[0]["reason"]
    assert "360426199101010072" not in str(out)
    assert not Sample.objects.exists()


def test_it_keeps_the_sample_of_someone_not_in_the_registry_and_files_a_find(cast, rnd):
    number = make_resident_id("620102", datetime.date(1990, 3, 4), 77)
    out = services.ingest(rnd.sampler, [rnd.scan(number=number, tube=new_tube(), name="王小明")])
    assert out[0]["status"] == "accepted" and out[0]["unregistered"] is True
    find = Find.objects.get()
    assert (find.doc_number, find.name, find.area) == (number, "王小明", cast.grid_a)
    assert Sample.objects.get().find == find
    # Registered by the grid: the sample follows the person into coverage.
    person = make_person(household=cast.household_a, doc_number=number, name="王小明")
    services.register_find(cast.grid_worker, find, person)
    assert Sample.objects.get().person == person
    assert SampledPerson.objects.filter(person=person, campaign=rnd.campaign).exists()


def test_it_lets_a_sampler_scan_only_at_their_own_point(cast, rnd):
    person = people(cast, 1)[0]
    out = services.ingest(rnd.sampler_b, [rnd.scan(person, new_tube(), desk=rnd.desk_a1)])
    assert out[0]["status"] == "refused" and "not posted" in out[0]["reason"]
    out = services.ingest(cast.grid_worker, [rnd.scan(person, new_tube(), desk=rnd.desk_a1)])
    assert out[0]["status"] == "refused"
    assert not Sample.objects.exists()


def test_it_keeps_one_household_per_tube_in_a_household_round(cast):
    from epigrid.testing.models import POOLING_HOUSEHOLD

    rnd = Round(cast, pooling=POOLING_HOUSEHOLD)
    home_a = people(cast, 2)
    other = make_person(household=cast.household_b, name="邻居")
    tube = new_tube()
    out = services.ingest(rnd.sampler, [rnd.scan(p, tube) for p in home_a] + [rnd.scan(other, tube)])
    assert [o["status"] for o in out] == ["accepted", "accepted", "refused"]
    assert "another household" in out[2]["reason"]


def test_it_closes_and_seals_by_hand_and_refuses_scans_into_a_sealed_tube(cast, rnd):
    a, b = people(cast, 2)
    tube = new_tube()
    services.ingest(rnd.sampler, [rnd.scan(a, tube)])
    close = rnd.scan(None, tube, number=a.doc_number, action="seal")
    out = services.ingest(rnd.sampler, [close, rnd.scan(b, tube)])
    assert out[0]["status"] == "accepted" and out[0]["tube_status"] == "sealed"
    assert out[1]["status"] == "refused" and "sealed" in out[1]["reason"]


def test_it_refuses_bad_fields_scan_by_scan(cast, rnd):
    person = people(cast, 1)[0]
    good = rnd.scan(person, new_tube())
    future = rnd.scan(
        person, new_tube(), scanned_at=(timezone.now() + datetime.timedelta(hours=1)).isoformat()
    )
    out = services.ingest(
        rnd.sampler,
        [{"client_id": "not-a-uuid"}, "nonsense", {**good, "desk": "x"}, future, {**good, "tube": ""}, good],
    )
    assert [o["status"] for o in out] == ["refused"] * 5 + ["accepted"]
    assert "UUID" in out[0]["reason"] and "future" in out[3]["reason"]


def test_it_answers_400_to_something_that_is_not_a_batch(cast, rnd):
    client = api(rnd.sampler)
    assert client.post(BATCH_URL, {"scans": "x"}, format="json").status_code == 400
    too_many = [rnd.scan(None, "T1", number="x") for _ in range(services.MAX_BATCH + 1)]
    assert client.post(BATCH_URL, {"scans": too_many}, format="json").status_code == 400


def test_it_moves_a_sample_to_another_tube_with_a_reason_in_the_audit_log(cast, rnd):
    from epigrid.audit.models import ObjectChange

    a, b = people(cast, 2)
    first, second = new_tube(), new_tube()
    services.ingest(rnd.sampler, [rnd.scan(a, first), rnd.scan(b, first), rnd.scan(b, second)])
    sample = Sample.objects.get(person=a)
    response = api(cast.community_officer).post(
        f"/api/v1/samples/{sample.pk}/move/", {"tube": second, "reason": "扫错试管"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["position"] == 2
    assert Tube.objects.get(barcode=first).count == 1 and Tube.objects.get(barcode=second).count == 2
    assert ObjectChange.objects.filter(reason="扫错试管").exists()
    assert (
        api(cast.community_officer)
        .post(f"/api/v1/samples/{sample.pk}/move/", {"tube": second, "reason": "again"}, format="json")
        .status_code
        == 400
    )


def test_it_keeps_every_client_id_once_when_two_desks_send_at_once(cast, rnd):
    """Same batch twice (a retry racing the original) on SQLite: one set of samples."""
    persons = people(cast, 5)
    tube = new_tube()
    scans = [rnd.scan(p, tube) for p in persons]
    services.ingest(rnd.sampler, scans)
    services.ingest(rnd.sampler, scans)
    assert Sample.objects.count() == 5
    assert len({s.client_id for s in Sample.objects.all()}) == 5
    assert sorted(Sample.objects.values_list("position", flat=True)) == [1, 2, 3, 4, 5]
    assert uuid.UUID(scans[0]["client_id"]) in set(Sample.objects.values_list("client_id", flat=True))


def test_merging_two_records_both_sampled_in_a_round_keeps_one_sampled_row(cast, rnd):
    from epigrid.people.services import merge

    survivor, duplicate = people(cast, 2)
    services.ingest(rnd.sampler, [rnd.scan(survivor, new_tube()), rnd.scan(duplicate, new_tube())])
    services.exempt(cast.community_officer, rnd.campaign, survivor, "away")
    services.exempt(cast.community_officer, rnd.campaign, duplicate, "other")
    merge(survivor, duplicate, reason="同一人")
    assert SampledPerson.objects.filter(person=survivor).count() == 1
    assert not SampledPerson.objects.filter(person=duplicate).exists()
    assert Sample.objects.filter(person=survivor).count() == 2
    assert Exemption.objects.get(person=survivor).reason == "away"


def test_a_personal_code_identifies_the_person_and_a_revoked_one_is_refused(cast, rnd):
    from epigrid.people import codes

    person = people(cast, 1)[0]
    code = codes.make_code(person)
    out = services.ingest(
        rnd.sampler, [{**rnd.scan(tube=new_tube(), number="x"), "document_number": None, "qr": code}]
    )
    assert out[0]["status"] == "accepted" and Sample.objects.get().person == person
    person.code_version += 1
    person.save()
    out = services.ingest(
        rnd.sampler, [{**rnd.scan(tube=new_tube(), number="x"), "document_number": None, "qr": code}]
    )
    assert out[0]["status"] == "refused" and "newer one" in out[0]["reason"]
    forged = code[:-3] + ("AAA" if not code.endswith("AAA") else "BBB")
    out = services.ingest(
        rnd.sampler, [{**rnd.scan(tube=new_tube(), number="x"), "document_number": None, "qr": forged}]
    )
    assert out[0]["status"] == "refused" and "forged" in out[0]["reason"]


def test_a_desk_names_an_unregistered_person_after_the_scan_once(cast, rnd):
    number = make_resident_id("620102", datetime.date(1988, 8, 8), 66)
    tube = new_tube()
    services.ingest(rnd.sampler, [rnd.scan(number=number, tube=tube)])
    naming = rnd.scan(number=number, tube=tube, action="name", name="赵六", phone="13912345678")
    out = services.ingest(rnd.sampler, [naming, {**naming, "client_id": str(uuid.uuid4()), "name": "别人"}])
    assert [o["status"] for o in out] == ["accepted", "duplicate"]
    find = Find.objects.get()
    assert (find.name, find.phone) == ("赵六", "+8613912345678")
    assert Sample.objects.count() == 1
    assert (
        services.ingest(rnd.sampler, [{**naming, "client_id": str(uuid.uuid4()), "name": ""}])[0]["status"]
        == "refused"
    )


def test_a_stranger_named_once_is_answered_with_that_name_at_the_next_scan(cast, rnd):
    number = make_resident_id("620102", datetime.date(1977, 7, 7), 55)
    services.ingest(rnd.sampler, [rnd.scan(number=number, tube=new_tube())])
    tube = new_tube()
    services.ingest(rnd.sampler, [rnd.scan(number=number, tube=tube, action="name", name="孙小美")])
    again = services.ingest(rnd.sampler, [rnd.scan(number=number, tube=tube)])[0]
    assert again["status"] == "accepted" and again["unregistered"] is True
    assert again["person"]["name"] == "孙*美"
    assert Find.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads writing at once need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_live_scan_is_not_held_up_by_a_sync_in_progress(cast):
    """A phone syncing its offline queue holds the process's bulk slot: a desk's single scan
    still goes through, a big batch waits for the slot."""
    import threading

    from epigrid.testing import api as testing_api

    rnd = Round(cast)
    persons = people(cast, 12)
    tube = new_tube()
    results = {}

    def send(name, scans):
        from django.db import connection as conn

        try:
            with translation.override("en"):
                results[name] = api(rnd.sampler).post(BATCH_URL, {"scans": scans}, format="json")
        finally:
            conn.close()

    for _slot in range(testing_api._BULK_SLOTS._initial_value):
        testing_api._BULK_SLOTS.acquire()
    try:
        live = threading.Thread(target=send, args=("live", [rnd.scan(persons[0], tube)]))
        bulk_scans = [rnd.scan(p, new_tube()) for p in persons[1 : testing_api.LIVE_SCANS + 2]]
        bulk = threading.Thread(target=send, args=("bulk", bulk_scans))
        live.start()
        bulk.start()
        live.join(timeout=30)
        assert not live.is_alive() and results["live"].json()["outcomes"][0]["status"] == "accepted"
        bulk.join(timeout=0.5)
        assert bulk.is_alive() and "bulk" not in results
    finally:
        for _slot in range(testing_api._BULK_SLOTS._initial_value):
            testing_api._BULK_SLOTS.release()
    bulk.join(timeout=30)
    assert [o["status"] for o in results["bulk"].json()["outcomes"]] == ["accepted"] * len(bulk_scans)


def test_persons_and_rounds_with_samples_cannot_be_deleted(cast, rnd):
    """The ingest's rows hold no database constraint to the round, point, desk and scanner
    (decision 0019): Django keeps their on_delete rules."""
    from django.db.models import ProtectedError

    person = people(cast, 1)[0]
    services.ingest(rnd.sampler, [rnd.scan(person, new_tube())])
    sample = Sample.objects.get(person=person)
    for obj in (person, sample.campaign, sample.desk, sample.point):
        with pytest.raises(ProtectedError):
            obj.delete()
    assert Sample.objects.filter(pk=sample.pk).exists()
