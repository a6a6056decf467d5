"""Checkpoint pages and API (issue 12): scoping (staff their posts, officials their area), the gate
page, the statistics per checkpoint and day, the export, arrivals received from today's work, the
batch and assess API with masked answers."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.checkpoints.models import Checkpoint, Passage, Shift, VehicleCheck
from tests.checkpoint_cast import gates
from tests.scoping import ScopedAPITests, ScopedViewTests, assert_no_full_numbers


@pytest.fixture
def g(cast):
    return gates(cast)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _checkpoint(cast, grid):
    g = gates(cast)
    return g.gate_b if grid == cast.grid_b else g.gate_a


def _passage(cast, grid):
    g = gates(cast)
    staff = g.staff_b if grid == cast.grid_b else g.staff_a
    person = g.person("b" if grid == cast.grid_b else "a", phone="+8613912345678")
    vehicle = {
        "client_id": "00000000-0000-4000-8000-0000000000" + ("b1" if grid == cast.grid_b else "a1"),
        "plate": "甘A12345",
    }
    g.record(staff, g.scan(_checkpoint(cast, grid), person, vehicle=vehicle))
    return Passage.objects.get(checkpoint=_checkpoint(cast, grid))


class TestCheckpointPages(ScopedViewTests):
    model = Checkpoint
    list_url = "/checkpoints/"
    viewer = "gate_staff_a"
    outsider = "gate_staff_b"
    unrevealing = "gate_staff_a"

    def make_object(self, cast, grid):
        return _checkpoint(cast, grid)

    def edit_data(self, cast, obj):
        return {
            "name": obj.name + "（北）",
            "kind": "community_gate",
            "area": obj.area.pk,
            "location": "东门",
            "is_active": "on",
        }


class TestShiftPages(ScopedViewTests):
    model = Shift
    list_url = "/checkpoints/shifts/"
    viewer = "gate_staff_a"
    outsider = "gate_staff_b"
    unrevealing = "gate_staff_a"

    def make_object(self, cast, grid):
        return Shift.objects.create(
            checkpoint=_checkpoint(cast, grid),
            day=timezone.localdate(),
            starts=datetime.time(8),
            ends=datetime.time(16),
            leader="王班长",
        )

    def list_text(self, obj):
        return "王班长"

    def edit_data(self, cast, obj):
        return {
            "checkpoint": obj.checkpoint_id,
            "day": obj.day.isoformat(),
            "starts": "08:00",
            "ends": "16:00",
            "leader": "李班长",
        }


class TestCheckpointAPI(ScopedAPITests):
    model = Checkpoint
    api_list_url = "/api/v1/checkpoints/"
    viewer = "gate_staff_a"
    outsider = "gate_staff_b"
    unrevealing = "gate_staff_a"

    def make_object(self, cast, grid):
        return _checkpoint(cast, grid)

    def write_data(self, cast, obj):
        return {"location": "东门岗亭"}


class TestShiftAPI(ScopedAPITests):
    model = Shift
    api_list_url = "/api/v1/checkpoint-shifts/"
    viewer = "gate_staff_a"
    outsider = "gate_staff_b"
    unrevealing = "gate_staff_a"

    def make_object(self, cast, grid):
        return TestShiftPages().make_object(cast, grid)

    def write_data(self, cast, obj):
        return {"leader": "李班长"}


class TestPassageAPI(ScopedAPITests):
    model = Passage
    api_list_url = "/api/v1/passages/"
    viewer = "gate_staff_a"
    outsider = "gate_staff_b"
    unrevealing = "gate_staff_a"
    read_only = True

    def make_object(self, cast, grid):
        return _passage(cast, grid)

    def write_data(self, cast, obj):
        return {"decision": "refuse"}


class TestVehicleAPI(ScopedAPITests):
    model = VehicleCheck
    api_list_url = "/api/v1/vehicle-checks/"
    viewer = "gate_staff_a"
    outsider = "gate_staff_b"
    unrevealing = "gate_staff_a"
    read_only = True

    def make_object(self, cast, grid):
        return _passage(cast, grid).vehicle

    def write_data(self, cast, obj):
        return {"plate": "甘A54321"}


def test_the_gate_page_is_for_the_posts_staff(cast, g):
    assert cast.client_for(g.staff_a).get(reverse("checkpoints:gate", args=[g.gate_a.pk])).status_code == 200
    assert cast.client_for(g.staff_b).get(reverse("checkpoints:gate", args=[g.gate_a.pk])).status_code == 404
    assert (
        cast.client_for(cast.auditor).get(reverse("checkpoints:gate", args=[g.gate_a.pk])).status_code == 403
    )


def test_assess_answers_masked_with_the_suggestion(cast, g):
    person = g.person(phone="+8613912345678")
    url = f"/api/v1/checkpoints/{g.gate_a.pk}/assess/"
    answer = api(g.staff_a).get(url, {"q": person.doc_number, "health_code": "yellow"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["registered"] and body["suggested"] == "testing" and body["person"]["name"] == person.name
    assert_no_full_numbers(answer.content.decode())
    bad = api(g.staff_a).get(
        url,
        {"q": person.doc_number[:-1] + "0" if person.doc_number[-1] != "0" else person.doc_number[:-1] + "1"},
    )
    assert bad.status_code == 400
    assert api(g.staff_b).get(url, {"q": person.doc_number}).status_code == 404


def test_the_batch_api_records_the_queue_once(cast, g):
    person = g.person()
    scans = [g.scan(g.gate_a, person), g.scan(g.gate_a, person, direction="out")]
    first = api(g.staff_a).post("/api/v1/passages/batch/", {"scans": scans}, format="json")
    again = api(g.staff_a).post("/api/v1/passages/batch/", {"scans": scans}, format="json")
    assert [o["outcome"] for o in first.json()] == ["accepted", "accepted"]
    assert [o["outcome"] for o in again.json()] == ["duplicate", "duplicate"]
    assert Passage.objects.count() == 2


def test_the_statistics_count_per_checkpoint_and_day(cast, g):
    person = g.person()
    vehicle = {"client_id": "00000000-0000-4000-8000-0000000000c1", "plate": "甘A12345"}
    g.record(
        g.staff_a,
        g.scan(g.gate_a, person, vehicle=vehicle),
        g.scan(g.gate_a, person, health_code="red"),
        g.scan(g.gate_a, person, health_code="yellow"),
    )
    g.record(g.entry_staff, g.scan(g.entry, person, origin_risk="high", destination=cast.community.code))
    page = cast.client_for(cast.commander).get(reverse("checkpoints:stats"), HTTP_ACCEPT_LANGUAGE="en")
    rows = {(r["name"], r["day"]): r for r in page.context["rows"]}
    today = timezone.localdate()
    gate = rows[(g.gate_a.name, today)]
    assert (gate["vehicles"], gate["persons"], gate["isolation"], gate["testing"]) == (1, 3, 1, 1)
    entry = rows[(g.entry.name, today)]
    assert (entry["persons"], entry["arrivals_high"], entry["community"]) == (1, 1, 1)
    assert page.context["totals"]["persons"] == 4
    # The API answers the same numbers, scoped: a gate's staff see their gate only.
    mine = api(g.staff_a).get("/api/v1/passages/stats/").json()
    assert [(r["name"], r["persons"]) for r in mine] == [(g.gate_a.name, 3)]


def test_the_passage_export_is_masked(cast, g, django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    from epigrid.jobs.models import Job

    person = g.person(phone="+8613912345678")
    g.record(g.staff_a, g.scan(g.gate_a, person))
    with django_capture_on_commit_callbacks(execute=True):
        cast.client_for(cast.auditor).post(reverse("jobs:export_start", args=["passages"]), {"query": ""})
    job = Job.objects.get()
    assert job.status == "succeeded", job.result
    rows = list(load_workbook(job.output_file.open("rb")).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "卡口", "方向", "姓名") and len(rows) == 2
    assert person.doc_number not in str(rows) and "13912345678" not in str(rows)


def test_an_arrival_heads_the_communitys_work_and_is_received_there(cast, g):
    person = g.person(name="返兰人员")
    g.record(g.entry_staff, g.scan(g.entry, person, origin_risk="low", destination=cast.community.code))
    client = cast.client_for(cast.community_officer)
    page = client.get("/control/today/").content.decode()
    assert 'data-testid="arrivals-today"' in page and "返兰人员" in page
    passage = Passage.objects.get()
    assert (
        cast.client_for(cast.grid_worker_b)
        .post(reverse("checkpoints:receive", args=[passage.pk]))
        .status_code
        == 404
    )
    assert client.post(reverse("checkpoints:receive", args=[passage.pk])).status_code == 302
    assert Passage.objects.get().received_by == cast.community_officer
    assert 'data-testid="arrivals-today"' not in client.get("/control/today/").content.decode()


def test_the_passage_page_shows_the_findings_masked(cast, g):
    passage = _passage(cast, cast.grid_a)
    page = cast.client_for(g.staff_a).get(passage.get_absolute_url())
    assert page.status_code == 200
    assert_no_full_numbers(page.content.decode())


@pytest.mark.django_db
def test_the_demo_has_a_week_at_the_checkpoints_and_arrivals_to_receive():
    import io
    import json

    from django.core.management import call_command
    from django.test import Client

    from epigrid.accounts.models import User

    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    counts = json.loads(out.getvalue())["counts"]["checkpoints"]
    assert counts["checkpoints"] >= 3 and counts["vehicles"] > 0
    assert {"pass", "refuse", "testing", "isolation"} <= set(counts["decisions"])
    days = {p.at.date() for p in Passage.objects.all()}
    assert len(days) >= 6
    assert Passage.objects.filter(handed_to__isnull=False, key_person__isnull=False).exists()
    assert counts["waiting_to_be_received"] >= 1
    staff = User.objects.get(username="demo_checkpoint")
    client = Client()
    client.force_login(staff)
    mine = Checkpoint.objects.restrict(staff, "view")
    assert mine.count() == 1 and client.get(reverse("checkpoints:gate", args=[mine.get().pk])).status_code == 200
    community = User.objects.get(username="demo_community")
    client.force_login(community)
    assert 'data-testid="arrivals-today"' in client.get("/control/today/").content.decode()


def test_the_statistics_count_household_pass_scans_at_the_gate(cast):
    from tests.test_passes_cast import passes

    p = passes(cast)
    now = timezone.now()
    household_pass = p.household_pass(valid_from=now - datetime.timedelta(days=1), valid_until=now + datetime.timedelta(days=5))
    assert p.scan(household_pass, p.mother, "exit", at=now - datetime.timedelta(minutes=30)).allowed
    assert not p.scan(household_pass, p.son, "exit", at=now - datetime.timedelta(minutes=20)).allowed  # quota used
    assert p.scan(household_pass, p.mother, "return", at=now - datetime.timedelta(minutes=10)).allowed
    page = cast.client_for(cast.commander).get(reverse("checkpoints:stats"))
    [row] = [r for r in page.context["rows"] if r["name"] == p.gate.name]
    assert (row["pass_exits"], row["pass_returns"], row["pass_refused"], row["persons"]) == (1, 1, 1, 0)
    assert page.context["totals"]["pass_refused"] == 1


def test_checkpoint_staff_start_at_their_gate(cast, g):
    response = cast.client_for(g.staff_b).get("/")
    assert response.status_code == 302
    assert cast.client_for(g.staff_b).get(response["Location"])["Location"] == reverse("checkpoints:gate", args=[g.gate_b.pk])
    g.gate_a.staff.add(g.staff_b)  # two posts: they pick
    assert cast.client_for(g.staff_b).get(reverse("checkpoints:my_gate"))["Location"] == reverse("checkpoints:checkpoint_list")


def test_a_passage_checked_at_the_gate_is_recorded_by_its_token_and_charged_once(cast, g):
    from epigrid.audit.models import ObjectChange

    person = g.person()
    client = api(g.staff_a)
    answer = client.get(f"/api/v1/checkpoints/{g.gate_a.pk}/assess/", {"q": person.doc_number}).json()
    token = answer["person"]["token"]
    assert person.doc_number not in token
    scan = g.scan(g.gate_a)
    scan["person"] = {"token": token}
    [outcome] = client.post("/api/v1/passages/batch/", {"scans": [scan]}, format="json").json()
    assert outcome["outcome"] == "accepted"
    assert Passage.objects.get().person == person
    assert ObjectChange.objects.filter(action="lookup", user=g.staff_a).count() == 1
    forged = {**g.scan(g.gate_a), "person": {"token": token[:-2] + "xx"}}
    [refused] = client.post("/api/v1/passages/batch/", {"scans": [forged]}, format="json").json()
    assert refused["outcome"] == "refused" and Passage.objects.count() == 1
