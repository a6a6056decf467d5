"""Pooled-positive follow-up over the API: scope through the generic mixins and per role, each
move through its service and in the change log, refusals as clear messages, retries that change
nothing, masked personal data, and the endpoints in the OpenAPI schema."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.test import APIClient

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Area, Level
from epigrid.audit.models import ObjectChange, Transition
from epigrid.control.models import KeyPerson, Zone
from epigrid.people.models import Person
from epigrid.retests import services
from epigrid.retests.models import PoolFollowUp, RetestTask, ZoneProposal
from tests.scoping import ScopedAPITests, assert_no_full_numbers
from tests.test_results_helpers import lab

_phones = iter(range(13800001000, 13800002000))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # messages are asserted in their English source
    client.force_authenticate(user)
    return client


def flagged(cast, grid=None, persons=2, result="混阳"):
    """A tube of `grid` (A by default) flagged by the lab it went to (grid B's tubes go to lab B)."""
    rl = lab(cast)
    (tube,) = rl.delivered(grid, persons=persons)
    tp = rl.tp
    user, to = (tp.lab_user_b, tp.lab_b) if grid == cast.grid_b else (tp.lab_user, tp.lab_a)
    assert rl.record(tube, result, user=user, lab=to)["status"] == "created"
    return PoolFollowUp.objects.get(tube=tube)


def proposed(cast, grid=None):
    """A positive retest in `grid`: its building proposed as a risk zone."""
    task = flagged(cast, grid, persons=1).tasks.get()
    services.record_retest(None, task, f"RT{task.pk}")
    services.record_retest_result(None, task, "positive")
    return ZoneProposal.objects.get(task=task)


def with_phones(follow):
    """The follow-up, its persons given mobile numbers (the no-full-number probes look for them)."""
    for task in follow.tasks.all():
        Person.objects.filter(pk=task.person_id).update(phone=f"+86{next(_phones)}")
    return follow


def task_in(cast, grid=None, result="混阳"):
    return with_phones(flagged(cast, grid, persons=1, result=result)).tasks.get()


def task_url(task, move=""):
    return f"/api/v1/retest-tasks/{task.pk}/{move + '/' if move else ''}"


def proposal_url(proposal, move):
    return f"/api/v1/zone-proposals/{proposal.pk}/{move}/"


class TestPoolFollowUpAPI(ScopedAPITests):
    model = PoolFollowUp
    api_list_url = "/api/v1/retest-followups/"
    read_only = True

    def make_object(self, cast, grid):
        return with_phones(flagged(cast, grid, persons=1))

    def write_data(self, cast, obj):
        return {"status": "done"}


class TestRetestTaskAPI(ScopedAPITests):
    model = RetestTask
    api_list_url = "/api/v1/retest-tasks/"
    write_action = "hold"

    def make_object(self, cast, grid):
        return task_in(cast, grid)

    def write_data(self, cast, obj):
        return {"note": "已电话通知居家"}


class TestZoneProposalAPI(ScopedAPITests):
    model = ZoneProposal
    api_list_url = "/api/v1/zone-proposals/"
    write_action = "dismiss"
    readonly_user = "commander"

    def make_object(self, cast, grid):
        return proposed(cast, grid)

    def write_data(self, cast, obj):
        return {"note": "已核实为同名误报"}


# -- scope per role ---------------------------------------------------------------------------------


def _ids(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_each_role_lists_the_tasks_of_its_area_only(cast):
    a, b = task_in(cast, cast.grid_a), task_in(cast, cast.grid_b)
    other = Area.objects.create(
        code="620102001002", name="东岗社区", level=Level.COMMUNITY, parent=cast.street
    )
    stranger = User.objects.create_user("stranger", password="x")
    Grant.objects.create(user=stranger, role="community_officer", area=other)
    url = "/api/v1/retest-tasks/"
    assert _ids(api(cast.grid_worker), url) == {a.pk}
    assert _ids(api(cast.grid_worker_b), url) == {b.pk}
    assert _ids(api(cast.community_officer), url) == {a.pk, b.pk}
    assert _ids(api(cast.commander), url) == {a.pk, b.pk}
    assert _ids(api(stranger), url) == set()
    assert _ids(api(stranger), "/api/v1/retest-followups/") == set()
    assert api(stranger).get(task_url(a)).status_code == 404
    # Labs and samplers see no task at all.
    assert api(cast.lab_user).get(url).status_code == 403
    assert api(cast.sampler).get("/api/v1/retest-followups/").status_code == 403


def test_the_list_takes_the_pages_filters(cast):
    task = task_in(cast, cast.grid_a)
    client = api(cast.community_officer)
    assert _ids(client, "/api/v1/retest-tasks/?status=open&kind=pooled_positive") == {task.pk}
    assert _ids(client, "/api/v1/retest-tasks/?status=held") == set()
    assert _ids(client, f"/api/v1/retest-tasks/?area={cast.grid_b.code}") == set()
    follow = task.follow_up
    assert _ids(client, f"/api/v1/retest-followups/?q={follow.tube.barcode}") == {follow.pk}


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_lists_read_in_a_fixed_number_of_queries(cast):
    proposed(cast)
    client = api(cast.community_officer)
    urls = ("/api/v1/retest-tasks/", "/api/v1/retest-followups/", "/api/v1/zone-proposals/")
    for url in urls:
        client.get(url)  # the user's grants, read once per user object
    before = [_queries(client, url) for url in urls]
    flagged(cast, persons=3)
    proposed(cast, cast.grid_b)
    assert [_queries(client, url) for url in urls] == before


def test_a_follow_up_lists_the_tasks_its_reader_sees(cast):
    follow = with_phones(flagged(cast, persons=2))
    response = api(cast.grid_worker).get(f"/api/v1/retest-followups/{follow.pk}/tasks/")
    assert response.status_code == 200
    rows = response.json()
    assert {row["id"] for row in rows} == set(follow.tasks.values_list("id", flat=True))
    assert rows[0]["follow_up"]["tube"] == follow.tube.barcode
    assert rows[0]["building"] == "1号楼" and rows[0]["actions"] == ["hold", "retest"]
    assert api(cast.grid_worker_b).get(f"/api/v1/retest-followups/{follow.pk}/tasks/").status_code == 404


# -- moves ------------------------------------------------------------------------------------------


def test_hold_retest_and_a_negative_result_release_the_person_with_history(cast):
    task = task_in(cast)
    client = api(cast.grid_worker)
    held = client.post(task_url(task, "hold"), {"note": "已通知居家"}, format="json")
    assert held.status_code == 200, held.json()
    assert (held.json()["status"], held.json()["actions"]) == ("held", ["retest"])
    sampled = client.post(task_url(task, "retest"), {"barcode": "rt0042"}, format="json").json()
    assert (sampled["status"], sampled["retest_barcode"], sampled["actions"]) == (
        "sampled",
        "RT0042",
        ["result"],
    )
    released = client.post(task_url(task, "result"), {"result": "negative"}, format="json").json()
    assert released["status"] == "released" and released["resolved_at"]
    assert released["follow_up"]["status"] == "done"
    history = Transition.objects.filter(content_type__model="retesttask", object_id=task.pk).order_by("id")
    assert list(history.values_list("target", "user")) == [
        ("held", cast.grid_worker.pk),
        ("sampled", cast.grid_worker.pk),
        ("released", cast.grid_worker.pk),
    ]
    change = ObjectChange.objects.filter(
        content_type__model="retesttask", object_id=task.pk, action="update"
    ).first()
    assert (change.user, change.source) == (cast.grid_worker, "api")
    assert not KeyPerson.objects.exists()


def test_a_positive_result_registers_the_key_person_and_proposes_the_building(cast):
    task = task_in(cast)
    client = api(cast.grid_worker)
    client.post(task_url(task, "retest"), {"barcode": "RT43"}, format="json")
    answer = client.post(task_url(task, "result"), {"result": "positive"}, format="json")
    assert answer.status_code == 200
    entry = KeyPerson.objects.get()
    assert (entry.person_id, answer.json()["key_person"]) == (task.person_id, entry.pk)
    proposal = ZoneProposal.objects.get()
    assert proposal.building == cast.building_a
    assert ObjectChange.objects.filter(
        content_type__model="keyperson", object_id=entry.pk, action="create", user=cast.grid_worker
    ).exists()


def test_an_invalid_tubes_person_is_resampled(cast):
    task = task_in(cast, result="无效")
    client = api(cast.grid_worker)
    first = client.post(task_url(task, "retest"), {"barcode": "RS1"}, format="json").json()
    assert (first["follow_up"]["kind"], first["actions"]) == ("invalid", ["resample"])
    done = client.post(task_url(task, "resample"), {}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert Transition.objects.filter(object_id=task.pk, target="done", user=cast.grid_worker).exists()


def test_the_street_confirms_a_proposal_and_the_zone_is_drawn(cast):
    proposal = proposed(cast)
    answer = api(cast.street_officer).post(
        proposal_url(proposal, "confirm"), {"level": "high"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    zone = Zone.objects.get()
    assert (answer.json()["status"], answer.json()["zone"]) == ("confirmed", zone.pk)
    assert (zone.building, zone.level) == (cast.building_a, "high")
    assert Transition.objects.filter(
        content_type__model="zoneproposal",
        object_id=proposal.pk,
        target="confirmed",
        user=cast.street_officer,
    ).exists()


def test_the_street_dismisses_a_proposal_with_a_note(cast):
    proposal = proposed(cast)
    answer = api(cast.street_officer).post(
        proposal_url(proposal, "dismiss"), {"note": "同名误报"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["status"] == "dismissed"
    row = Transition.objects.get(content_type__model="zoneproposal", object_id=proposal.pk)
    assert (row.target, row.note, row.user) == ("dismissed", "同名误报", cast.street_officer)
    assert not Zone.objects.exists()


# -- retries ----------------------------------------------------------------------------------------


def _history(obj):
    return Transition.objects.filter(content_type__model=obj._meta.model_name, object_id=obj.pk).count()


def test_a_repeated_move_answers_as_the_first_and_changes_nothing(cast):
    task = task_in(cast)
    client = api(cast.grid_worker)
    for move, data in (("hold", {}), ("retest", {"barcode": "RT44"}), ("result", {"result": "positive"})):
        first = client.post(task_url(task, move), data, format="json")
        rows = _history(task)
        again = client.post(task_url(task, move), data, format="json")
        assert (first.status_code, again.status_code) == (200, 200), again.json()
        assert again.json() == first.json()
        assert _history(task) == rows
    assert KeyPerson.objects.count() == 1 and ZoneProposal.objects.count() == 1


def test_a_repeated_decision_changes_nothing(cast):
    proposal = proposed(cast)
    client = api(cast.street_officer)
    assert client.post(proposal_url(proposal, "confirm"), {}, format="json").status_code == 200
    again = client.post(proposal_url(proposal, "confirm"), {"level": "high"}, format="json")
    assert again.status_code == 200 and Zone.objects.count() == 1 and _history(proposal) == 1
    other = proposed(cast, cast.grid_b)
    for _i in range(2):
        assert client.post(proposal_url(other, "dismiss"), {"note": "误报"}, format="json").status_code == 200
    assert _history(other) == 1


def test_a_different_move_after_the_first_is_refused_with_what_stands(cast):
    task = task_in(cast)
    client = api(cast.grid_worker)
    client.post(task_url(task, "retest"), {"barcode": "RT45"}, format="json")
    other_tube = client.post(task_url(task, "retest"), {"barcode": "RT46"}, format="json")
    assert other_tube.status_code == 400
    assert "recorded already, with tube RT45" in str(other_tube.json())
    client.post(task_url(task, "result"), {"result": "negative"}, format="json")
    flip = client.post(task_url(task, "result"), {"result": "positive"}, format="json")
    assert flip.status_code == 400
    assert "result was recorded already: Released (negative)" in str(flip.json())
    assert not KeyPerson.objects.exists()
    proposal = proposed(cast)
    street = api(cast.street_officer)
    street.post(proposal_url(proposal, "confirm"), {"level": "high"}, format="json")
    lower = street.post(proposal_url(proposal, "confirm"), {"level": "low"}, format="json")
    assert lower.status_code == 400 and "confirmed already, as High-risk area" in str(lower.json())


# -- refusals ---------------------------------------------------------------------------------------


def _refusal(response, status=400):
    assert response.status_code == status, response.content
    return str(response.json())


def test_bad_input_is_refused_with_the_reason(cast):
    task = task_in(cast)
    client = api(cast.grid_worker)
    assert "barcode" in _refusal(client.post(task_url(task, "retest"), {}, format="json"))
    assert "is not a tube barcode" in _refusal(
        client.post(task_url(task, "retest"), {"barcode": "RT-4!"}, format="json")
    )
    pooled = task.follow_up.tube.barcode
    assert "needs a new tube" in _refusal(
        client.post(task_url(task, "retest"), {"barcode": pooled}, format="json")
    )
    assert "not a valid choice" in _refusal(
        client.post(task_url(task, "result"), {"result": "maybe"}, format="json")
    )
    assert "single-tube retest (its barcode) first" in _refusal(
        client.post(task_url(task, "result"), {"result": "negative"}, format="json")
    )
    assert "ends with its result" in _refusal(client.post(task_url(task, "resample"), {}, format="json"))
    invalid = task_in(cast, result="无效")
    assert "held in place" in _refusal(client.post(task_url(invalid, "hold"), {}, format="json"))
    task.refresh_from_db()
    invalid.refresh_from_db()
    assert (task.status, invalid.status) == ("open", "open")


def test_a_bad_decision_is_refused_with_the_reason(cast):
    proposal = proposed(cast)
    client = api(cast.street_officer)
    assert "Unknown zone level" in _refusal(
        client.post(proposal_url(proposal, "confirm"), {"level": "purple"}, format="json")
    )
    assert "note" in _refusal(client.post(proposal_url(proposal, "dismiss"), {"note": " "}, format="json"))
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and not Zone.objects.exists()


def test_moves_outside_the_right_are_403_and_outside_the_scope_404(cast):
    task = task_in(cast)
    assert api(cast.commander).post(task_url(task, "hold"), {}, format="json").status_code == 403
    assert api(cast.auditor).post(task_url(task, "hold"), {}, format="json").status_code == 403
    assert api(cast.grid_worker_b).post(task_url(task, "hold"), {}, format="json").status_code == 404
    # A lab's staff hold no retest right at all: refused before any task is looked up.
    assert api(cast.lab_user).post(task_url(task, "hold"), {}, format="json").status_code == 403
    task.refresh_from_db()
    assert task.status == "open"
    proposal = proposed(cast)
    assert api(cast.grid_worker).post(proposal_url(proposal, "confirm"), {}, format="json").status_code == 403
    assert (
        api(cast.grid_worker_b).post(proposal_url(proposal, "confirm"), {}, format="json").status_code == 404
    )
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and not Zone.objects.exists()


# -- privacy ----------------------------------------------------------------------------------------


def test_no_answer_carries_a_full_number_to_a_worker_without_reveal(cast):
    follow = with_phones(flagged(cast, persons=2))
    task = follow.tasks.order_by("id").first()
    person = task.person
    # A note typed with the person's number in it comes back masked too.
    RetestTask.objects.filter(pk=task.pk).update(note=f"已电话 {person.phone.removeprefix('+86')} 通知")
    client = api(cast.grid_worker)
    bodies = [
        client.get(url).content.decode()
        for url in (
            "/api/v1/retest-tasks/",
            task_url(task),
            "/api/v1/retest-followups/",
            f"/api/v1/retest-followups/{follow.pk}/",
            f"/api/v1/retest-followups/{follow.pk}/tasks/",
        )
    ]
    bodies.append(client.post(task_url(task, "hold"), {}, format="json").content.decode())
    bodies.append(client.post(task_url(task, "retest"), {"barcode": "RT47"}, format="json").content.decode())
    bodies.append(
        client.post(task_url(task, "result"), {"result": "positive"}, format="json").content.decode()
    )
    bodies.append(client.get("/api/v1/zone-proposals/").content.decode())
    for body in bodies:
        assert_no_full_numbers(body)
    row = client.get(task_url(task)).json()
    assert row["doc_number"] == person.masked_doc_number and row["phone"] == person.masked_phone
    assert person.masked_phone in row["note"]


# -- schema -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_documents_the_follow_up():
    out = io.StringIO()
    call_command("spectacular", stdout=out)
    schema = out.getvalue()
    for path in (
        "/api/v1/retest-followups/",
        "/api/v1/retest-followups/{id}/tasks/",
        "/api/v1/retest-tasks/",
        "/api/v1/retest-tasks/{id}/hold/",
        "/api/v1/retest-tasks/{id}/retest/",
        "/api/v1/retest-tasks/{id}/result/",
        "/api/v1/retest-tasks/{id}/resample/",
        "/api/v1/zone-proposals/",
        "/api/v1/zone-proposals/{id}/confirm/",
        "/api/v1/zone-proposals/{id}/dismiss/",
    ):
        assert path in schema, path
