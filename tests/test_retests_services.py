"""Pooled-positive follow-up (retests.services): opened in the results' transaction, idempotent,
cancelled by a correction; hold → retest → release or key person + zone proposal; invalid →
resample; scoped."""

from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from epigrid.audit.models import Transition
from epigrid.control.models import KeyPerson
from epigrid.results.models import TubeResult
from epigrid.retests import services
from epigrid.retests.models import DEFAULT_DUE_HOURS, PoolFollowUp, RetestTask, ZoneProposal
from tests.test_results_helpers import lab


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def rl(cast):
    return lab(cast)


def pooled_positive(rl, persons=3, grid=None):
    (tube,) = rl.delivered(grid, persons=persons)
    assert rl.record(tube, "混阳")["status"] == "created"
    return tube


def test_a_pooled_positive_opens_a_follow_up_and_a_task_per_person_in_the_same_batch(rl):
    tube = pooled_positive(rl, persons=3)
    follow = PoolFollowUp.objects.get(tube=tube)
    assert (follow.kind, follow.status) == ("pooled_positive", "open")
    hours = (follow.due_by - follow.opened_at).total_seconds() / 3600
    assert hours == DEFAULT_DUE_HOURS == follow.due_hours
    tasks = list(RetestTask.objects.filter(follow_up=follow))
    assert len(tasks) == 3
    assert {t.status for t in tasks} == {"open"}
    assert {t.area for t in tasks} == {rl.cast.grid_a}
    assert {t.person_id for t in tasks} == set(tube.samples.values_list("person_id", flat=True))
    assert all(t.household == rl.cast.household_a for t in tasks)


def test_a_failing_follow_up_refuses_the_whole_batch(rl):
    (tube,) = rl.delivered(persons=2)
    with (
        mock.patch.object(services, "_create_tasks", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        rl.record(tube, "混阳")
    assert not TubeResult.objects.exists()
    assert not PoolFollowUp.objects.exists() and not RetestTask.objects.exists()


def test_a_second_signal_for_the_same_tube_changes_nothing(rl):
    tube = pooled_positive(rl, persons=2)
    follow = PoolFollowUp.objects.get()
    again, created = services.open_follow_up(tube, "pooled_positive")
    assert not created and again.pk == follow.pk
    assert RetestTask.objects.count() == 2
    assert rl.record(tube, "混管阳性")["status"] == "unchanged"
    assert PoolFollowUp.objects.count() == 1 and RetestTask.objects.count() == 2


def test_a_correction_back_to_negative_cancels_the_open_tasks_and_a_new_flag_reopens(rl):
    tube = pooled_positive(rl, persons=2)
    first = RetestTask.objects.order_by("id").first()
    services.hold(rl.cast.grid_worker, first)
    assert rl.record(tube, "negative", reason="污染，复检阴性")["status"] == "corrected"
    follow = PoolFollowUp.objects.get()
    assert follow.status == "cancelled"
    assert set(RetestTask.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Transition.objects.filter(object_id=first.pk, target="cancelled").exists()
    assert rl.record(tube, "混阳", reason="再次复核为混阳")["status"] == "corrected"
    follow.refresh_from_db()
    assert follow.status == "open"
    assert set(RetestTask.objects.values_list("status", flat=True)) == {"open"}
    assert RetestTask.objects.count() == 2


def test_hold_retest_negative_releases_and_closes_the_follow_up(rl):
    tube = pooled_positive(rl, persons=1)
    task = RetestTask.objects.get()
    worker = rl.cast.grid_worker
    services.hold(worker, task)
    task.refresh_from_db()
    assert task.status == "held" and task.held_at
    services.record_retest(worker, task, "rt000123")
    task.refresh_from_db()
    assert (task.status, task.retest_barcode) == ("sampled", "RT000123")
    with pytest.raises(ValidationError):
        services.record_retest(worker, task, tube.barcode)
    services.record_retest_result(worker, task, "negative")
    task.refresh_from_db()
    assert task.status == "released" and task.resolved_at
    assert PoolFollowUp.objects.get().status == "done"
    assert list(
        Transition.objects.filter(object_id=task.pk, content_type__model="retesttask")
        .order_by("id")
        .values_list("target", flat=True)
    ) == ["held", "sampled", "released"]
    assert not KeyPerson.objects.exists() and not ZoneProposal.objects.exists()


def test_a_result_needs_the_retest_first(rl):
    pooled_positive(rl, persons=1)
    task = RetestTask.objects.get()
    with pytest.raises(ValidationError, match="single-tube retest"):
        services.record_retest_result(rl.cast.grid_worker, task, "positive")


def test_a_positive_retest_registers_a_key_person_and_proposes_the_building(rl):
    pooled_positive(rl, persons=2)
    task = RetestTask.objects.order_by("id").first()
    worker = rl.cast.grid_worker
    services.record_retest(worker, task, "RT9")
    services.record_retest_result(worker, task, "positive")
    task.refresh_from_db()
    assert task.status == "positive"
    entry = KeyPerson.objects.get()
    assert entry == task.key_person and entry.person == task.person
    assert (entry.category, entry.source) == (services.KEY_PERSON_CATEGORY, "testing")
    assert entry.identified_on == timezone.localtime(task.sampled_at).date()
    assert entry.measures.exists()
    proposal = ZoneProposal.objects.get()
    assert proposal.building == rl.cast.building_a and proposal.status == "proposed"
    assert proposal.task == task
    # The other person is still open: the follow-up stays open.
    assert PoolFollowUp.objects.get().status == "open"


def test_a_positive_without_an_active_protocol_changes_nothing(rl):
    from epigrid.control.models import Protocol

    pooled_positive(rl, persons=1)
    task = RetestTask.objects.get()
    services.record_retest(rl.cast.grid_worker, task, "RT9")
    Protocol.objects.update(is_active=False)
    with pytest.raises(ValidationError):
        services.record_retest_result(rl.cast.grid_worker, task, "positive")
    task.refresh_from_db()
    assert task.status == "sampled"
    assert not KeyPerson.objects.exists() and not ZoneProposal.objects.exists()


def test_an_invalid_tube_asks_for_a_resample_of_everyone(rl):
    (tube,) = rl.delivered(persons=2)
    rl.record(tube, "无效")
    follow = PoolFollowUp.objects.get()
    assert follow.kind == "invalid"
    tasks = list(RetestTask.objects.order_by("id"))
    assert len(tasks) == 2 and {t.kind for t in tasks} == {"invalid"}
    worker = rl.cast.grid_worker
    with pytest.raises(ValidationError):
        services.hold(worker, tasks[0])
    for task in tasks:
        services.record_retest(worker, task, f"RS{task.pk}")
        services.record_resample(worker, task)
    assert set(RetestTask.objects.values_list("status", flat=True)) == {"done"}
    assert PoolFollowUp.objects.get().status == "done"


def test_a_worker_of_another_grid_cannot_touch_the_task(rl):
    pooled_positive(rl, persons=1)
    task = RetestTask.objects.get()
    cast = rl.cast
    for user in (cast.grid_worker_b, cast.commander, cast.lab_user, cast.sampler):
        with pytest.raises(PermissionDenied):
            services.hold(user, task)
    services.hold(cast.community_officer, task)
    assert RetestTask.objects.get().status == "held"


def test_scoping_of_the_tasks(rl):
    pooled_positive(rl, persons=1)
    cast = rl.cast
    task = RetestTask.objects.get()
    assert list(RetestTask.objects.restrict(cast.grid_worker, "view")) == [task]
    assert not RetestTask.objects.restrict(cast.grid_worker_b, "view").exists()
    assert list(RetestTask.objects.restrict(cast.commander, "view")) == [task]
    assert not RetestTask.objects.restrict(cast.commander, "change").exists()
    assert not RetestTask.objects.restrict(cast.lab_user, "view").exists()
    assert not RetestTask.objects.restrict(cast.sampler, "view").exists()
