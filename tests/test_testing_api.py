"""Mass testing through the API: scope (generic mixins), coverage against a brute-force count,
the OpenAPI schema, and two desks on one tube at once (threads, PostgreSQL)."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from epigrid.testing import services
from epigrid.testing.models import (
    Campaign,
    Exemption,
    ExemptionReason,
    Find,
    Sample,
    SampledPerson,
    SamplingPoint,
    Tube,
)
from tests.scoping import ScopedAPITests, make_person
from tests.testing_cast import Round, new_tube


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _round(cast):
    if not hasattr(cast, "rnd"):
        cast.rnd = Round(cast)
        cast.sampler, cast.sampler_b = cast.rnd.sampler, cast.rnd.sampler_b
    return cast.rnd


def _sample_in(cast, grid):
    rnd = _round(cast)
    household = cast.household_a if grid == cast.grid_a else cast.household_b
    desk = rnd.desk_a1 if grid == cast.grid_a else rnd.desk_b
    sampler = rnd.sampler if grid == cast.grid_a else rnd.sampler_b
    person = make_person(household=household, name="采样人")
    out = services.ingest(sampler, [rnd.scan(person, new_tube(), desk=desk)])
    assert out[0]["status"] == "accepted", out
    return Sample.objects.get(client_id=out[0]["client_id"])


class TestCampaignAPI(ScopedAPITests):
    """A round is seen by everyone under its organiser (scope_upward) and by nobody beside it."""

    model = Campaign
    api_list_url = "/api/v1/campaigns/"

    def make_object(self, cast, grid):
        rnd = _round(cast)
        rnd.campaign.area = grid
        rnd.campaign.save()
        return rnd.campaign

    def write_data(self, cast, obj):
        return {"name": "第一轮（改）"}


class TestSamplingPointAPI(ScopedAPITests):
    """Samplers see only the points they are posted at, even inside their grant's area."""

    model = SamplingPoint
    api_list_url = "/api/v1/sampling-points/"
    viewer = "sampler"
    outsider = "sampler_b"
    unrevealing = "sampler"
    read_only = True

    def make_object(self, cast, grid):
        rnd = _round(cast)
        return rnd.point_a if grid == cast.grid_a else rnd.point_b

    def write_data(self, cast, obj):
        return {}


class TestTubeAPI(ScopedAPITests):
    model = Tube
    api_list_url = "/api/v1/tubes/"
    viewer = "sampler"
    outsider = "sampler_b"
    unrevealing = "sampler"
    write_action = "close"
    readonly_user = "auditor"

    def make_object(self, cast, grid):
        return _sample_in(cast, grid).tube

    def detail(self, obj):
        return f"{self.api_list_url}{obj.barcode}/"

    def write_data(self, cast, obj):
        return {"note": "早关"}

    def test_it_lists_in_scope_objects_through_the_api(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        data = api(cast.sampler).get(self.api_list_url).json()
        assert obj.barcode in [row["barcode"] for row in data["results"]]


class TestSampleAPI(ScopedAPITests):
    model = Sample
    api_list_url = "/api/v1/samples/"
    viewer = "sampler"
    outsider = "sampler_b"
    unrevealing = "sampler"
    write_action = "move"

    def make_object(self, cast, grid):
        return _sample_in(cast, grid)

    def write_data(self, cast, obj):
        return {"tube": obj.tube.barcode, "reason": "扫错"}


class TestFindAPI(ScopedAPITests):
    model = Find
    api_list_url = "/api/v1/finds/"
    read_only = True

    def make_object(self, cast, grid):
        rnd = _round(cast)
        from epigrid.core.identity import make_resident_id

        number = make_resident_id("620102", datetime.date(1991, 1, 1), 500 + Find.objects.count())
        return Find.objects.create(campaign=rnd.campaign, area=grid, doc_number=number, name="未登记")

    def write_data(self, cast, obj):
        return {}


def test_a_sampler_sees_only_their_points_desks_and_tubes(cast):
    rnd = _round(cast)
    _sample_in(cast, cast.grid_a)
    _sample_in(cast, cast.grid_b)
    points = api(rnd.sampler).get("/api/v1/sampling-points/").json()["results"]
    assert [p["name"] for p in points] == [rnd.point_a.name]
    assert {d["name"] for d in points[0]["desks"]} == {"1号台", "2号台"}
    tubes = api(rnd.sampler).get("/api/v1/tubes/").json()["results"]
    assert len(tubes) == 1 and tubes[0]["point"] == rnd.point_a.name
    # The community officer sees both points: their grant is not bound to posts.
    assert len(api(cast.community_officer).get("/api/v1/sampling-points/").json()["results"]) == 2


# Coverage


def brute_force(campaign, area):
    """Expected, sampled, exempt, missed under `area`, counted person by person."""
    from epigrid.people.models import Person

    scope = [a.path for a in campaign.areas.all()]
    residents = [
        p
        for p in Person.objects.filter(merged_into__isnull=True).select_related("area")
        if p.area.path.startswith(area.path) and any(p.area.path.startswith(s) for s in scope)
    ]
    sampled_ids = {s.person_id for s in Sample.objects.filter(campaign=campaign) if s.person_id}
    exempt_ids = set(Exemption.objects.filter(campaign=campaign).values_list("person_id", flat=True))
    sampled = sum(1 for p in residents if p.pk in sampled_ids)
    exempt = sum(1 for p in residents if p.pk in exempt_ids and p.pk not in sampled_ids)
    expected = len(residents) - exempt
    return {"expected": expected, "sampled": sampled, "exempt": exempt, "missed": expected - sampled}


def test_the_coverage_api_matches_a_brute_force_count_at_every_level(cast):
    rnd = _round(cast)
    a = [make_person(household=cast.household_a, name=f"甲{i}") for i in range(12)]
    b = [make_person(household=cast.household_b, name=f"乙{i}") for i in range(7)]
    outsider = make_person(
        area=cast.district.children.create(code="620102002000", name="外街道", level=3), name="外"
    )
    tube1, tube2, tube3 = new_tube(), new_tube(), new_tube()
    scans = [rnd.scan(p, tube1) for p in a[:10]] + [rnd.scan(p, tube2) for p in a[:2]]  # two sampled twice
    scans += [rnd.scan(outsider, tube2)]  # from outside the round's scope: sampled, not expected
    services.ingest(rnd.sampler, scans)
    services.ingest(rnd.sampler_b, [rnd.scan(p, tube3, desk=rnd.desk_b) for p in b[:3]])
    services.exempt(cast.community_officer, rnd.campaign, a[11], ExemptionReason.AWAY)
    services.exempt(cast.community_officer, rnd.campaign, a[0], ExemptionReason.OTHER, "sampled anyway")
    services.exempt(cast.community_officer, rnd.campaign, b[6], ExemptionReason.HOSPITAL)
    for area in (cast.district, cast.street, cast.community, cast.grid_a, cast.grid_b):
        answer = api(cast.commander).get(f"/api/v1/campaigns/{rnd.campaign.pk}/coverage/?area={area.code}")
        assert answer.status_code == 200
        data = answer.json()
        expect = brute_force(rnd.campaign, area)
        assert {k: data[k] for k in expect} == expect, area.name
        assert data["code"] == area.code
        if expect["expected"]:
            assert data["coverage"] == round(100 * expect["sampled"] / expect["expected"], 1)
        for child in data["children"]:
            child_area = area.children.get(code=child["code"])
            assert {k: child[k] for k in expect} == brute_force(rnd.campaign, child_area)
    grid_a = (
        api(cast.commander)
        .get(f"/api/v1/campaigns/{rnd.campaign.pk}/coverage/?area={cast.grid_a.code}")
        .json()
    )
    assert (grid_a["expected"], grid_a["sampled"], grid_a["exempt"], grid_a["missed"]) == (11, 10, 1, 1)


def test_coverage_is_refused_outside_the_users_scope(cast):
    rnd = _round(cast)
    url = f"/api/v1/campaigns/{rnd.campaign.pk}/coverage/?area="
    assert api(cast.grid_worker_b).get(url + cast.grid_b.code).status_code == 200
    assert api(cast.grid_worker_b).get(url + cast.grid_a.code).status_code == 404
    assert api(cast.grid_worker_b).get(url + "nonsense").status_code == 404
    assert api(cast.sampler).get(url + cast.grid_a.code).status_code in (403, 404)


def test_the_schema_documents_the_batch_and_coverage(cast):
    schema = api(cast.admin).get("/api/schema/?format=json").json()
    assert "/api/v1/samples/batch/" in schema["paths"]
    assert "/api/v1/campaigns/{id}/coverage/" in schema["paths"]


def test_sampling_is_an_update_in_the_audit_log_only_when_moved(cast):
    """Sample creation is recorded in the sample row itself (who, desk, when, client id), not
    repeated in the change log; a move is a change log row with its reason."""
    from epigrid.audit.models import ObjectChange

    sample = _sample_in(cast, cast.grid_a)
    assert sample.scanned_by == cast.sampler and sample.desk == cast.rnd.desk_a1
    assert not ObjectChange.objects.filter(
        object_repr__contains=sample.tube.barcode, action="create"
    ).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_desks_on_one_tube_and_retries_at_once_lose_and_double_nothing(cast):
    """Threads: the same new tube scanned at two desks, and every batch sent twice at once."""
    rnd = _round(cast)
    persons = [make_person(household=cast.household_a, name=f"并发{i}") for i in range(40)]
    tube = new_tube()
    batches = {
        rnd.desk_a1.pk: [rnd.scan(p, tube, desk=rnd.desk_a1) for p in persons[:20]],
        rnd.desk_a2.pk: [rnd.scan(p, tube, desk=rnd.desk_a2) for p in persons[20:]],
    }
    results, errors = [], []
    barrier = threading.Barrier(4)

    def send(scans):
        from django.db import connection as conn

        try:
            barrier.wait()
            with translation.override("en"):
                results.append(services.ingest(rnd.sampler, scans))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(b,)) for b in batches.values() for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    accepted = {o["client_id"] for r in results for o in r if o["status"] == "accepted"}
    stored = {str(c) for c in Sample.objects.values_list("client_id", flat=True)}
    assert accepted == stored  # nothing lost, nothing extra
    assert len(stored) == 10  # one desk got the tube and filled it (10 in 1); the other was refused
    assert Tube.objects.get(barcode=tube).count == 10
    assert sorted(Sample.objects.values_list("position", flat=True)) == list(range(1, 11))
    refused = [o for r in results for o in r if o["status"] == "refused"]
    assert any("another desk" in o["reason"] for o in refused)
    assert SampledPerson.objects.count() == 10
    # A client id accepted in one thread is a duplicate in its twin, never accepted twice.
    statuses = [o["status"] for r in results for o in r if o["client_id"] in accepted]
    assert statuses.count("accepted") == 10 and statuses.count("duplicate") == 10


def test_a_desk_expands_a_pre_formed_group_into_member_codes_it_can_scan(cast):
    from epigrid.testing.models import Group

    rnd = _round(cast)
    members = [make_person(household=cast.household_a, name=f"组员{i}") for i in range(3)]
    group = Group.objects.create(campaign=rnd.campaign, code="G001", area=cast.grid_a)
    group.members.set(members)
    answer = api(rnd.sampler).get(f"/api/v1/campaigns/{rnd.campaign.pk}/groups/g001/")
    assert answer.status_code == 200
    data = answer.json()
    assert [m["name"] for m in data["members"]] == ["组*0", "组*1", "组*2"]
    tube = new_tube()
    scans = [
        {**rnd.scan(tube=tube, number="x"), "document_number": None, "qr": m["qr"]} for m in data["members"]
    ]
    assert [o["status"] for o in services.ingest(rnd.sampler, scans)] == ["accepted"] * 3
    assert set(Sample.objects.values_list("person_id", flat=True)) == {m.pk for m in members}
    assert api(rnd.sampler).get(f"/api/v1/campaigns/{rnd.campaign.pk}/groups/NOPE/").status_code == 404
    assert api(cast.grid_worker_b).get(f"/api/v1/campaigns/{rnd.campaign.pk}/groups/G001/").status_code == 404
