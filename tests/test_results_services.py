"""The one way results come in (results.services.record_results): idempotent per tube and result,
corrections need a reason and are audited, tubes must have reached the lab, the follow-up hook."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone, translation

from epigrid.audit.models import ObjectChange
from epigrid.results import services
from epigrid.results.models import Result, ResultCorrection, TubeResult
from epigrid.results.signals import results_changed
from tests.test_results_helpers import lab


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def rl(cast):
    return lab(cast)


def test_it_records_a_result_once_and_the_same_result_again_changes_nothing(rl):
    (tube,) = rl.delivered()
    assert rl.record(tube, "阴性")["status"] == "created"
    stored = TubeResult.objects.get(tube=tube)
    assert stored.result == Result.NEGATIVE and stored.lab == rl.tp.lab_a
    assert stored.sampled_at == tube.opened_at
    assert stored.due_at == tube.opened_at + datetime.timedelta(hours=tube.campaign.turnaround_hours)
    again = rl.record(tube, "negative")
    assert again["status"] == "unchanged"
    assert TubeResult.objects.count() == 1
    assert TubeResult.objects.get(tube=tube).last_updated == stored.last_updated


def test_a_contradiction_without_a_reason_is_refused_as_a_correction(rl):
    (tube,) = rl.delivered()
    rl.record(tube, "negative")
    outcome = rl.record(tube, "阳性")
    assert outcome["status"] == "refused"
    assert "correction needs a reason" in outcome["reason"]
    assert TubeResult.objects.get(tube=tube).result == Result.NEGATIVE


def test_a_correction_with_a_reason_is_stored_audited_and_listed_and_a_second_one_changes_nothing(rl):
    (tube,) = rl.delivered()
    rl.record(tube, "negative")
    outcome = rl.record(tube, "positive", reason="复核后为阳性", ct_orf1ab="31.5", ct_n=30)
    assert outcome["status"] == "corrected"
    stored = TubeResult.objects.get(tube=tube)
    assert stored.result == Result.POSITIVE and str(stored.ct_orf1ab) == "31.50"
    (correction,) = ResultCorrection.objects.filter(result=stored)
    assert (correction.before, correction.after, correction.reason) == (
        "negative",
        "positive",
        "复核后为阳性",
    )
    assert correction.corrected_by == rl.tp.lab_user
    log = ObjectChange.objects.get(content_type__model="tuberesult", object_id=stored.pk, action="update")
    assert log.reason == "复核后为阳性"
    assert log.prechange_data["result"] == "negative" and log.postchange_data["result"] == "positive"
    assert log.area_path == stored.point.area.path
    assert rl.record(tube, "positive", reason="复核后为阳性")["status"] == "unchanged"
    assert ResultCorrection.objects.count() == 1


def test_a_pending_result_becomes_final_without_a_reason(rl):
    (tube,) = rl.delivered()
    assert rl.record(tube, "待检")["status"] == "created"
    assert rl.record(tube, "阴")["status"] == "updated"
    assert ResultCorrection.objects.count() == 0
    # Going back to pending contradicts a final result.
    assert rl.record(tube, "pending")["status"] == "refused"


@pytest.mark.parametrize("join_from", [services.JOIN_DELIVERIES_FROM, 0], ids=["probes", "file-sized join"])
def test_a_tube_must_exist_and_have_been_delivered_to_the_lab(cast, rl, monkeypatch, join_from):
    # A file's worth of barcodes asks "delivered?" through a join (PostgreSQL), a few through probes.
    monkeypatch.setattr(services, "JOIN_DELIVERIES_FROM", join_from)
    (tube_b,) = rl.delivered(cast.grid_b)  # received at lab B
    (tube_a,) = rl.delivered()
    in_transit = rl.tp.box(tubes=1, step="in_transit").tubes.get().tube
    outcomes = services.record_results(
        rl.tp.lab_user,
        rl.tp.lab_a,
        [
            {"barcode": "NOSUCH01", "result": "negative"},
            {"barcode": tube_b.barcode, "result": "negative"},
            {"barcode": in_transit.barcode, "result": "negative"},
            {"barcode": tube_a.barcode, "result": "negative"},
        ],
        "api",
    )
    assert [o["status"] for o in outcomes] == ["refused"] * 3 + ["created"]
    assert "No tube has the barcode NOSUCH01" in outcomes[0]["reason"]
    assert "was not delivered to 市疾控中心实验室" in outcomes[1]["reason"]
    assert "was not delivered" in outcomes[2]["reason"]
    assert list(TubeResult.objects.values_list("tube_id", flat=True)) == [tube_a.pk]


def test_bad_values_are_refused_row_by_row_and_never_fail_the_batch(rl):
    tubes = rl.delivered(tubes=4)
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    outcomes = services.record_results(
        rl.tp.lab_user,
        rl.tp.lab_a,
        [
            {"barcode": tubes[0].barcode, "result": "maybe"},
            {"barcode": tubes[1].barcode, "result": "negative", "ct_n": "46"},
            {"barcode": tubes[2].barcode, "result": "negative", "reported_at": future},
            {"barcode": tubes[3].barcode.lower(), "result": "混管可疑阳性", "ct_orf1ab": "35.1"},
            "not a row",
        ],
        "api",
    )
    assert [o["status"] for o in outcomes] == ["refused", "refused", "refused", "created", "refused"]
    assert "“maybe” is not a result" in outcomes[0]["reason"]
    assert "outside 0–45" in outcomes[1]["reason"]
    assert "lies in the future" in outcomes[2]["reason"]
    assert TubeResult.objects.get().result == Result.POOLED_POSITIVE


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("阴", "negative"),
        ("阴性", "negative"),
        ("Negative", "negative"),
        ("neg", "negative"),
        ("-", "negative"),
        ("阳", "positive"),
        ("阳性", "positive"),
        ("+", "positive"),
        ("POSITIVE", "positive"),
        ("混阳", "pooled_positive"),
        ("混管阳性", "pooled_positive"),
        ("混管可疑阳性", "pooled_positive"),
        ("无效", "invalid"),
        ("invalid", "invalid"),
        ("待检", "pending"),
        ("阴　性", "negative"),
    ],
)
def test_it_reads_the_results_labs_write(text, result):
    assert services.parse_result(text) == result


def test_a_repeated_tube_in_one_batch_counts_once(rl):
    (tube,) = rl.delivered()
    outcomes = services.record_results(
        rl.tp.lab_user,
        rl.tp.lab_a,
        [
            {"barcode": tube.barcode, "result": "negative"},
            {"barcode": tube.barcode, "result": "阴性"},
            {"barcode": tube.barcode, "result": "positive"},
        ],
        "api",
    )
    assert [o["status"] for o in outcomes] == ["created", "unchanged", "refused"]
    assert "different result in row 0" in outcomes[2]["reason"]


def test_only_the_labs_staff_record_its_results(cast, rl):
    (tube,) = rl.delivered()
    with pytest.raises(PermissionDenied):
        services.record_results(
            rl.tp.lab_user_b, rl.tp.lab_a, [{"barcode": tube.barcode, "result": "阴性"}], "api"
        )
    with pytest.raises(PermissionDenied):
        services.record_results(
            cast.commander, rl.tp.lab_a, [{"barcode": tube.barcode, "result": "阴性"}], "api"
        )
    assert not TubeResult.objects.exists()


def test_flagged_tubes_reach_the_follow_up_hook_inside_the_transaction(rl):
    tubes = rl.delivered(tubes=3)
    heard = []

    def receiver(sender, lab, changes, source, **kwargs):
        heard.append((lab, sorted((c.tube_id, c.result, c.before, c.corrected) for c in changes), source))
        assert connection.in_atomic_block

    results_changed.connect(receiver)
    try:
        services.record_results(
            rl.tp.lab_user,
            rl.tp.lab_a,
            [
                {"barcode": tubes[0].barcode, "result": "negative"},
                {"barcode": tubes[1].barcode, "result": "混阳"},
                {"barcode": tubes[2].barcode, "result": "无效"},
            ],
            "api",
        )
        rl.record(tubes[1], "negative", reason="污染，复检阴性")
    finally:
        results_changed.disconnect(receiver)
    assert heard[0] == (
        rl.tp.lab_a,
        sorted([(tubes[1].pk, "pooled_positive", None, False), (tubes[2].pk, "invalid", None, False)]),
        "api",
    )
    assert heard[1][1] == [(tubes[1].pk, "negative", "pooled_positive", True)]


def test_a_batch_takes_a_fixed_number_of_queries_whatever_its_size(rl, django_assert_max_num_queries):
    tubes = rl.delivered(tubes=30)
    rows = [{"barcode": t.barcode, "result": "阴性"} for t in tubes]
    with django_assert_max_num_queries(12):
        outcomes = services.record_results(rl.tp.lab_user, rl.tp.lab_a, rows, "api")
    assert {o["status"] for o in outcomes} == {"created"}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and ON CONFLICT races need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_the_same_results_sent_at_once_end_as_one_row_each(cast):
    rl = lab(cast)
    tubes = rl.delivered(tubes=20)
    batch = [{"barcode": t.barcode, "result": "阴性"} for t in tubes]
    contradicting = [{"barcode": t.barcode, "result": "阳性", "reason": "复核阳性"} for t in tubes[:5]]
    results, errors = [], []
    barrier = threading.Barrier(4)

    def send(rows):
        from django.db import connection as conn

        try:
            barrier.wait()
            with translation.override("en"):
                results.append(services.record_results(rl.tp.lab_user, rl.tp.lab_a, rows, "api"))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(rows,)) for rows in (batch, batch, batch, contradicting)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert TubeResult.objects.count() == 20
    created = [o for r in results for o in r if o["status"] == "created"]
    assert len(created) == 20  # each tube created exactly once, whichever thread won
    # The contradicting batch either created its tubes first (then the negatives are refused) or
    # corrected them: never both a lost row nor a correction without its row.
    positives = TubeResult.objects.filter(result="positive").count()
    corrected = sum(1 for r in results for o in r if o["status"] == "corrected")
    assert ResultCorrection.objects.count() == corrected
    assert positives == 5


def test_rounds_points_and_labs_with_results_cannot_be_deleted(rl):
    """A result holds no database constraint to the round, point and lab it shares with a million
    others (decision 0022 addendum): Django keeps their on_delete rules."""
    from django.db.models import ProtectedError

    (tube,) = rl.delivered()
    rl.record(tube, "阴性")
    stored = TubeResult.objects.get(tube=tube)
    for obj in (stored.campaign, stored.point, stored.lab):
        with pytest.raises(ProtectedError):
            obj.delete()
    assert TubeResult.objects.filter(pk=stored.pk).exists()
