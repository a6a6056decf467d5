"""The retest tube's own lab result ends its task (retests.services.apply_lab_results through
results_recorded, and record_retest when the result came first), and the set-based opening of many
follow-ups at once (retests.services.open_follow_ups through results_changed)."""

import threading
import uuid
from unittest import mock

import pytest
from django.db import IntegrityError, connection
from django.utils import translation

from epigrid.audit.models import Action, ObjectChange, Transition
from epigrid.control.models import KeyPerson
from epigrid.core.context import change_context
from epigrid.results.models import TubeResult
from epigrid.results.services import record_results
from epigrid.retests import services
from epigrid.retests.models import PoolFollowUp, RetestTask, ZoneProposal
from tests.test_results_helpers import lab


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def rl(cast):
    return lab(cast)


def pooled_positive(rl, persons=1):
    (tube,) = rl.delivered(persons=persons)
    assert rl.record(tube, "混阳")["status"] == "created"
    return tube


def retest_tube(rl):
    """A single tube delivered to lab A, for the retest."""
    (tube,) = rl.delivered(persons=1)
    return tube


def history(task):
    return list(
        Transition.objects.filter(content_type__model="retesttask", object_id=task.pk)
        .order_by("id")
        .values_list("target", "note")
    )


# -- the retest tube's own result -------------------------------------------------------------------


def test_the_lab_s_negative_of_the_retest_tube_releases_the_person(rl):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    services.record_retest(rl.cast.grid_worker, task, single.barcode)
    task.refresh_from_db()
    assert (task.status, task.retest_tube) == ("sampled", single)
    assert rl.record(single, "阴性")["status"] == "created"
    task.refresh_from_db()
    assert task.status == "released" and task.resolved_at
    assert PoolFollowUp.objects.get(tasks=task).status == "done"
    (target, note) = history(task)[-1]
    assert target == "released" and single.barcode in note and "lab" in note
    assert not KeyPerson.objects.exists() and not ZoneProposal.objects.exists()


def test_the_lab_s_positive_registers_the_key_person_and_proposes_the_building(rl):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    services.record_retest(rl.cast.grid_worker, task, single.barcode)
    assert rl.record(single, "阳性")["status"] == "created"
    task.refresh_from_db()
    assert task.status == "positive"
    entry = KeyPerson.objects.get()
    assert task.key_person == entry and entry.person == task.person
    assert (entry.category, entry.source, entry.grid_worker) == (services.KEY_PERSON_CATEGORY, "testing", "")
    assert single.barcode in entry.notes
    proposal = ZoneProposal.objects.get()
    assert (proposal.building, proposal.status, proposal.task) == (rl.cast.building_a, "proposed", task)
    assert history(task)[-1][0] == "positive" and single.barcode in history(task)[-1][1]


def test_a_result_that_came_first_resolves_the_task_when_the_retest_is_recorded(rl):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    rl.record(single, "positive")
    task.refresh_from_db()
    assert task.status == "open"  # nothing waited for the tube yet
    task = services.record_retest(rl.cast.grid_worker, task, single.barcode)
    assert task.status == "positive"
    task.refresh_from_db()
    assert task.status == "positive" and task.retest_tube == single
    assert KeyPerson.objects.get().grid_worker  # the worker who recorded the retest
    assert ZoneProposal.objects.filter(status="proposed").count() == 1
    assert [target for target, _note in history(task)] == ["sampled", "positive"]


def test_a_negative_that_came_first_releases_at_the_retest(rl):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    rl.record(single, "negative")
    services.hold(rl.cast.grid_worker, task)
    services.record_retest(rl.cast.grid_worker, task, single.barcode)
    task.refresh_from_db()
    assert task.status == "released"
    assert PoolFollowUp.objects.get(tasks=task).status == "done"


def test_a_barcode_typed_before_the_tube_was_in_the_system_is_matched_and_linked(rl):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    services.record_retest(rl.cast.grid_worker, task, single.barcode)
    RetestTask.objects.filter(pk=task.pk).update(retest_tube=None)  # as if typed before the scan
    rl.record(single, "negative")
    task.refresh_from_db()
    assert (task.status, task.retest_tube) == ("released", single)


@pytest.mark.parametrize("result", ["待检", "混阳", "无效"])
def test_pending_pooled_positive_and_invalid_results_leave_the_task_sampled(rl, result):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    services.record_retest(rl.cast.grid_worker, task, single.barcode)
    rl.record(single, result)
    task.refresh_from_db()
    assert task.status == "sampled"
    assert not KeyPerson.objects.exists()


def test_a_pending_result_made_final_ends_the_task(rl):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    services.record_retest(rl.cast.grid_worker, task, single.barcode)
    rl.record(single, "待检")
    assert rl.record(single, "阴性")["status"] == "updated"
    task.refresh_from_db()
    assert task.status == "released"


def test_a_household_tube_resolves_every_task_sharing_it(rl):
    pooled_positive(rl, persons=2)
    tasks = list(RetestTask.objects.order_by("id"))
    assert {t.household for t in tasks} == {rl.cast.household_a}
    single = retest_tube(rl)
    for task in tasks:
        services.record_retest(rl.cast.grid_worker, task, single.barcode)
    rl.record(single, "阳性")
    assert set(RetestTask.objects.values_list("status", flat=True)) == {"positive"}
    assert set(KeyPerson.objects.values_list("person_id", flat=True)) == {t.person_id for t in tasks}
    assert ZoneProposal.objects.count() == 1  # one open proposal per building
    assert PoolFollowUp.objects.get().status == "done"


def test_a_positive_that_cannot_be_registered_does_not_refuse_the_lab_s_batch(rl):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    services.record_retest(rl.cast.grid_worker, task, single.barcode)
    RetestTask.objects.filter(pk=task.pk).update(person=None, retest_tube=None)  # sampled unregistered
    assert rl.record(single, "阳性")["status"] == "created"
    assert TubeResult.objects.get(tube=single).result == "positive"
    task.refresh_from_db()
    assert task.status == "sampled" and task.retest_tube == single
    assert single.barcode in task.note and "Register" in task.note
    assert not KeyPerson.objects.exists() and not ZoneProposal.objects.exists()


def test_a_task_resolved_by_hand_is_not_touched_by_a_later_lab_result(rl):
    pooled_positive(rl)
    task = RetestTask.objects.get()
    single = retest_tube(rl)
    services.record_retest(rl.cast.grid_worker, task, single.barcode)
    services.record_retest_result(rl.cast.grid_worker, task, "negative")
    rl.record(single, "阳性")
    task.refresh_from_db()
    assert task.status == "released"
    assert not KeyPerson.objects.exists()


def test_a_big_batch_with_nothing_waiting_costs_one_query(rl, django_assert_num_queries):
    recorded = [(n, f"TB{n:08d}", "negative") for n in range(1, 100_001)]
    with django_assert_num_queries(1):
        assert services.apply_lab_results(recorded) == []
    pooled_positive(rl)
    task = RetestTask.objects.get()
    services.record_retest(rl.cast.grid_worker, task, "RT0001")
    with django_assert_num_queries(1):  # a task waits, none of these rows is its tube
        assert services.apply_lab_results(recorded) == []


# -- opening many follow-ups at once ----------------------------------------------------------------


def flag_all(rl, tubes, result="混阳", **extra):
    rows = [{"barcode": t.barcode, "result": result, **extra} for t in tubes]
    return record_results(rl.tp.lab_user, rl.tp.lab_a, rows, "api")


def test_a_batch_flagging_many_tubes_opens_every_follow_up_in_a_bounded_number_of_queries(
    rl, django_assert_max_num_queries
):
    tubes = rl.delivered(tubes=24, persons=3)
    # One by one this was about ten queries a tube and two a person (several hundred here).
    with django_assert_max_num_queries(26):
        outcomes = flag_all(rl, tubes)
    assert {o["status"] for o in outcomes} == {"created"}
    follows = PoolFollowUp.objects.all()
    assert sorted(follows.values_list("tube_id", flat=True)) == sorted(t.pk for t in tubes)
    assert RetestTask.objects.count() == 72
    for follow in follows.prefetch_related("tasks"):
        samples = set(follow.tube.samples.filter(status="active").values_list("pk", "person_id"))
        assert {(t.sample_id, t.person_id) for t in follow.tasks.all()} == samples
        assert {(t.status, t.kind, t.due_by) for t in follow.tasks.all()} == {
            ("open", "pooled_positive", follow.due_by)
        }


def test_a_person_sampled_unregistered_gets_a_task_by_the_find_s_name_and_grid(rl):
    from epigrid.testing.models import Find

    tubes = rl.delivered(tubes=2, persons=2)
    sample = tubes[0].samples.order_by("position").first()
    find = Find.objects.create(
        campaign=tubes[0].campaign, area=rl.cast.grid_b, doc_number="X0001", name="未登记人员"
    )
    tubes[0].samples.filter(pk=sample.pk).update(person=None, find=find)
    flag_all(rl, tubes)
    rows = sorted(
        RetestTask.objects.values_list("sample_id", "person_id", "name", "area_id", "household_id"),
        key=lambda row: row[0],
    )
    assert len(rows) == 4
    assert rows[0] == (sample.pk, None, "未登记人员", rl.cast.grid_b.pk, None)
    assert all(
        person_id and (area_id, household_id) == (rl.cast.grid_a.pk, rl.cast.household_a.pk)
        for _sample, person_id, _name, area_id, household_id in rows[1:]
    )


def test_the_bulk_path_writes_the_change_log_a_save_would_and_no_history(rl):
    tubes = rl.delivered(tubes=3, persons=2)
    request_id = uuid.uuid4()
    with change_context(user=rl.tp.lab_user, source="api", request_id=request_id):
        flag_all(rl, tubes)
    objects = [*PoolFollowUp.objects.all(), *RetestTask.objects.all()]
    assert len(objects) == 9
    for obj in objects:
        (row,) = ObjectChange.objects.filter(content_type__model=type(obj)._meta.model_name, object_id=obj.pk)
        # What audit.receivers.on_save writes for a create: the saved values, filed under the area.
        assert row.action == Action.CREATE and row.prechange_data is None
        assert row.postchange_data == obj.serialize_for_log()
        assert (row.area_path, row.object_repr) == (obj.area.path, str(obj))
        assert (row.user, row.request_id, row.source) == (rl.tp.lab_user, request_id, "api")
    # A creation is no workflow move: no history rows, as with the one-by-one saves.
    assert not Transition.objects.filter(content_type__model__in=("poolfollowup", "retesttask")).exists()


def test_the_same_batch_again_and_a_second_open_change_nothing(rl):
    tubes = rl.delivered(tubes=4, persons=2)
    flag_all(rl, tubes)
    counts = (PoolFollowUp.objects.count(), RetestTask.objects.count(), ObjectChange.objects.count())
    assert {o["status"] for o in flag_all(rl, tubes, result="混管阳性")} == {"unchanged"}
    opened = services.open_follow_ups([(t.pk, "pooled_positive") for t in tubes] * 2)
    assert len(opened) == 4 and not any(created for _follow, created in opened.values())
    assert (PoolFollowUp.objects.count(), RetestTask.objects.count(), ObjectChange.objects.count()) == counts


def test_one_batch_opens_the_new_reopens_the_cancelled_and_keeps_the_rest(rl):
    tubes = rl.delivered(tubes=3, persons=1)
    flag_all(rl, tubes[:2])
    rl.record(tubes[0], "negative", reason="复检阴性")
    assert PoolFollowUp.objects.get(tube=tubes[0]).status == "cancelled"
    opened = services.open_follow_ups([(t.pk, "pooled_positive") for t in tubes])
    assert [created for _follow, created in (opened[(t.pk, "pooled_positive")] for t in tubes)] == [
        False,
        False,
        True,
    ]
    assert set(PoolFollowUp.objects.values_list("status", flat=True)) == {"open"}
    assert RetestTask.objects.count() == 3
    assert set(RetestTask.objects.values_list("status", flat=True)) == {"open"}


def test_open_follow_up_of_one_tube_still_works(rl):
    (tube,) = rl.delivered(persons=2)
    follow, created = services.open_follow_up(tube, "invalid")
    assert created and follow.kind == "invalid" and follow.tasks.count() == 2
    assert services.open_follow_up(tube.pk, "invalid") == (follow, False)


def test_a_tube_another_writer_opened_first_falls_back_to_one_by_one(rl):
    tubes = rl.delivered(tubes=3, persons=2)
    winner, _created = services.open_follow_up(tubes[1], "pooled_positive")
    logged = ObjectChange.objects.count()
    # The other writer committed after this batch looked: the bulk insert hits the constraint.
    with mock.patch.object(services, "_existing_follow_ups", return_value={}):
        opened = services.open_follow_ups([(t.pk, "pooled_positive") for t in tubes])
    assert opened[(tubes[1].pk, "pooled_positive")] == (winner, False)
    assert opened[(tubes[0].pk, "pooled_positive")][1] and opened[(tubes[2].pk, "pooled_positive")][1]
    assert PoolFollowUp.objects.count() == 3 and RetestTask.objects.count() == 6
    # The rolled-back bulk attempt left no change-log rows: one per follow-up and task created.
    assert ObjectChange.objects.count() == logged + 2 + 4


def test_a_failing_insert_is_not_taken_for_a_concurrent_writer(rl):
    tubes = rl.delivered(tubes=2, persons=1)
    with (
        mock.patch.object(services, "_create_tasks", side_effect=IntegrityError("boom")),
        pytest.raises(IntegrityError),
    ):
        services.open_follow_ups([(t.pk, "pooled_positive") for t in tubes])
    assert not PoolFollowUp.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_batches_flagging_the_same_tubes_at_once_open_each_once(cast):
    rl = lab(cast)
    tubes = rl.delivered(tubes=6, persons=2)
    keys = [(t.pk, "pooled_positive") for t in tubes]
    barrier, errors = threading.Barrier(3), []

    def open_all(order):
        from django.db import connection as conn
        from django.db import transaction

        try:
            barrier.wait()
            with transaction.atomic():
                services.open_follow_ups(order)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=open_all, args=(order,)) for order in (keys, keys[::-1], keys[2:])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert PoolFollowUp.objects.count() == 6 and RetestTask.objects.count() == 12


def test_a_lis_file_with_the_retest_tube_ends_the_task(rl):
    """Through the import pipeline (set-based on PostgreSQL: the file's results stay in the
    database and the follow-up asks for the tubes it waits for), the same as through the API."""
    from epigrid.core.imports import run_import
    from epigrid.results.imports import LabResultResource
    from tests.test_results_helpers import csv_bytes

    pooled_positive(rl, persons=2)
    first, second = RetestTask.objects.order_by("pk")
    singles = [retest_tube(rl), retest_tube(rl)]
    services.record_retest(rl.cast.grid_worker, first, singles[0].barcode)
    services.record_retest(rl.cast.grid_worker, second, singles[1].barcode)
    others = rl.delivered(tubes=3)
    rows = [
        ("条码", "检测结果"),
        *((t.barcode, "阴性") for t in others),
        (singles[0].barcode, "阴性"),
        (singles[1].barcode, "阳性"),
    ]
    result = run_import(
        LabResultResource(rl.tp.lab_user, rl.tp.lab_a), csv_bytes(rows), "lis.csv", dry_run=False
    )
    assert (result.created, result.rejected) == (5, 0)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("released", "positive")
    assert ZoneProposal.objects.count() == 1
