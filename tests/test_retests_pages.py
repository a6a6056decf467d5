"""Pooled-positive follow-up pages: the task page's one-tap moves, the follow-up page (masked
persons with household, building, grid and grid worker), today's work heading, scoping."""

import pytest
from django.utils import timezone, translation

from epigrid.control.models import KeyPerson
from epigrid.retests.models import PoolFollowUp, RetestTask, ZoneProposal
from tests.scoping import ScopedViewTests, assert_no_full_numbers
from tests.test_results_helpers import lab


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def flagged(cast, grid=None, persons=2, result="混阳"):
    rl = lab(cast)
    (tube,) = rl.delivered(grid, persons=persons)
    assert rl.record(tube, result)["status"] == "created"
    return PoolFollowUp.objects.get(tube=tube)


class TestRetestTaskScope(ScopedViewTests):
    model = RetestTask
    list_url = "/retests/tasks/"

    def make_object(self, cast, grid):
        follow = flagged(cast, grid, persons=1)
        return follow.tasks.get()

    def list_text(self, obj):
        return obj.follow_up.tube.barcode

    def edit_data(self, cast, obj):
        return {"note": "电话已通知"}


def test_a_grid_worker_holds_retests_and_releases_with_one_tap_each(cast):
    follow = flagged(cast, persons=1)
    task = follow.tasks.get()
    client = cast.client_for(cast.grid_worker)
    url = f"/retests/tasks/{task.pk}/"
    page = client.get(url).content.decode()
    assert 'data-testid="move-hold"' in page and 'data-testid="move-retest"' in page
    assert_no_full_numbers(page)
    assert client.post(f"{url}hold/").status_code == 302
    assert client.post(f"{url}retest/", {"barcode": "rt42"}).status_code == 302
    task.refresh_from_db()
    assert (task.status, task.retest_barcode) == ("sampled", "RT42")
    page = client.get(url).content.decode()
    assert 'data-testid="move-negative"' in page and 'data-testid="move-positive"' in page
    client.post(f"{url}negative/")
    task.refresh_from_db()
    assert task.status == "released"


def test_a_positive_tap_registers_the_key_person_and_proposes_the_building(cast):
    task = flagged(cast, persons=1).tasks.get()
    client = cast.client_for(cast.grid_worker)
    url = f"/retests/tasks/{task.pk}/"
    client.post(f"{url}retest/", {"barcode": "RT43"})
    client.post(f"{url}positive/")
    assert KeyPerson.objects.get().person == task.person
    assert ZoneProposal.objects.get().building == cast.building_a


def test_an_empty_barcode_is_refused_with_a_message(cast):
    task = flagged(cast, persons=1).tasks.get()
    client = cast.client_for(cast.grid_worker)
    response = client.post(
        f"/retests/tasks/{task.pk}/retest/", {"barcode": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "tube barcode is missing" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "open"


def test_others_cannot_move_a_task(cast):
    task = flagged(cast, persons=1).tasks.get()
    assert cast.client_for(cast.grid_worker_b).post(f"/retests/tasks/{task.pk}/hold/").status_code == 404
    assert cast.client_for(cast.commander).post(f"/retests/tasks/{task.pk}/hold/").status_code == 403
    task.refresh_from_db()
    assert task.status == "open"


def test_the_follow_up_page_lists_the_persons_masked_with_household_grid_and_worker(cast):
    follow = flagged(cast, persons=2)
    client = cast.client_for(cast.grid_worker)
    response = client.get(f"/retests/{follow.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="tube-person"') == 2
    assert "1号楼" in page and "第一网格" in page and "grid_worker" in page
    assert_no_full_numbers(page)
    assert follow.tube.barcode in client.get("/retests/").content.decode()
    outsider = cast.client_for(cast.grid_worker_b)
    assert outsider.get(f"/retests/{follow.pk}/").status_code == 404
    assert follow.tube.barcode not in outsider.get("/retests/").content.decode()
    assert cast.client_for(cast.commander).get(f"/retests/{follow.pk}/").status_code == 200
    assert cast.client_for(cast.lab_user).get("/retests/").status_code == 403


def test_today_shows_the_task_to_grid_a_worker_only_and_counts_for_the_commander(cast):
    follow = flagged(cast, persons=1)
    task = follow.tasks.get()
    page = cast.client_for(cast.grid_worker).get("/control/today/").content.decode()
    assert 'data-testid="retest-task-row"' in page and f"/retests/tasks/{task.pk}/" in page
    other = cast.client_for(cast.grid_worker_b).get("/control/today/").content.decode()
    assert 'data-testid="retest-task-row"' not in other and 'data-testid="retest-counts"' not in other
    commander = cast.client_for(cast.commander).get("/control/today/").content.decode()
    assert 'data-testid="retest-count-row"' in commander and "第一网格" in commander
    # Done: off the list.
    task.status = "released"
    task.save()
    page = cast.client_for(cast.grid_worker).get("/control/today/").content.decode()
    assert 'data-testid="retest-task-row"' not in page


def proposed(cast, grid=None):
    """A positive retest in `grid` (grid A by default): its building proposed as a risk zone."""
    from epigrid.retests import services as retest_services

    task = flagged(cast, grid, persons=1).tasks.get()
    task = retest_services.record_retest(None, task, f"RT{task.pk}")
    retest_services.record_retest_result(None, task, "positive")
    return ZoneProposal.objects.get(task=task)


class TestZoneProposalScope(ScopedViewTests):
    model = ZoneProposal
    list_url = "/retests/proposals/"
    readonly_user = "commander"

    def make_object(self, cast, grid):
        return proposed(cast, grid)

    def list_text(self, obj):
        return obj.building.name + "</a>"

    def edit_url(self, obj):
        return f"/retests/proposals/{obj.pk}/dismiss/"

    def edit_data(self, cast, obj):
        return {"note": "已核实为同名误报"}


def test_the_street_confirms_a_proposal_and_control_draws_the_buildings_zone(cast):
    from epigrid.control.models import Zone

    proposal = proposed(cast)
    client = cast.client_for(cast.street_officer)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert 'data-testid="move-confirm"' in page
    assert client.post(f"/retests/proposals/{proposal.pk}/confirm/", {"level": "high"}).status_code == 302
    proposal.refresh_from_db()
    zone = Zone.objects.get()
    assert (proposal.status, proposal.zone) == ("confirmed", zone)
    assert (zone.building, zone.level, zone.area) == (cast.building_a, "high", cast.grid_a)
    assert zone.last_case_on == timezone.localdate(proposal.task.sampled_at)  # the case's day
    # Deciding again changes nothing: the proposal is no longer open.
    client.post(f"/retests/proposals/{proposal.pk}/confirm/", {"level": "high"})
    assert Zone.objects.count() == 1


def test_a_grid_worker_sees_the_proposal_but_cannot_decide_it(cast):
    from epigrid.control.models import Zone

    proposal = proposed(cast)
    client = cast.client_for(cast.grid_worker)
    page = client.get(proposal.get_absolute_url())
    assert page.status_code == 200 and 'data-testid="move-confirm"' not in page.content.decode()
    assert client.post(f"/retests/proposals/{proposal.pk}/confirm/", {"level": "high"}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and not Zone.objects.exists()


def test_an_unknown_level_is_refused_and_nothing_is_drawn(cast):
    from epigrid.control.models import Zone

    proposal = proposed(cast)
    client = cast.client_for(cast.street_officer)
    response = client.post(
        f"/retests/proposals/{proposal.pk}/confirm/", {"level": "purple"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Unknown zone level" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and not Zone.objects.exists()


def test_a_follow_up_reached_through_a_task_counts_on_the_grid_workers_dashboard(cast):
    """A resident of grid A sampled at grid B's point: grid A's worker sees the follow-up through
    the task, and the dashboard's figure counts it as the list does."""
    from epigrid.dashboard import services as dashboard_services

    rl = lab(cast)
    (tube,) = rl.delivered(cast.grid_b)
    assert rl.record(tube, "混阳", user=cast.lab_user_b, lab=rl.tp.lab_b)["status"] == "created"
    follow = PoolFollowUp.objects.get(tube=tube)
    follow.tasks.update(area=cast.grid_a, household=cast.household_a)
    client = cast.client_for(cast.grid_worker)
    listed = client.get("/retests/?status=open")
    assert listed.context["table"].paginator.count == 1
    rows = dashboard_services.tiles(dashboard_services.request_for(cast.grid_worker), keys=["pool_followups_open"])
    (row,) = [r for r in rows if r["key"] == "pool_followups_open"]
    assert row["value"] == 1 and row["url"] == "/retests/?status=open"
