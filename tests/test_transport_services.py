"""Sample transport services: the custody chain and the receipt's reconciliation, the "barcode in
use" rule, the deadline at its boundary, retries that change nothing, two couriers or two lab
benches on one box at once (threads, PostgreSQL), and the reads the results part calls."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from epigrid.audit.models import ObjectChange
from epigrid.audit.services import history
from epigrid.testing.models import Tube
from epigrid.transport import services
from epigrid.transport.models import Box, BoxTube
from tests.transport_cast import Transport, new_box_code


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def tp(cast):
    return Transport(cast)


def kinds(box):
    return list(box.events.values_list("kind", flat=True))


# Custody chain


def test_it_records_every_step_with_who_signed_it(cast, tp):
    box = tp.box(tubes=2, step="received")
    assert box.status == Box.Status.RECEIVED
    assert kinds(box) == ["opened", "tube_added", "tube_added", "sealed", "picked_up", "arrived", "received"]
    signers = dict(box.events.values_list("kind", "user__username"))
    assert signers["sealed"] == cast.sampler.username
    assert signers["picked_up"] == tp.courier.username
    assert signers["received"] == tp.lab_user.username
    assert (box.tube_count, box.picked_up_by, box.received_by) == (2, tp.courier, tp.lab_user)
    assert (box.missing_count, box.extra_count) == (0, 0)


def test_the_steps_are_audited_as_transitions(tp):
    box = tp.box(step="received")
    moves = list(history(box).order_by("id").values_list("source", "target"))
    assert moves == [("open", "sealed"), ("sealed", "in_transit"), ("in_transit", "received")]
    assert ObjectChange.objects.filter(object_repr=box.barcode, action="create").exists()


def test_custody_events_are_append_only(tp):
    event = tp.box().events.first()
    event.note = "changed"
    with pytest.raises(ValueError):
        event.save()


def test_a_closed_tube_is_sealed_as_it_goes_into_the_box(tp):
    box = tp.box(tubes=0)
    tube = tp.tube()
    assert tube.status == Tube.Status.CLOSED
    services.add_tube(tp.cast.sampler, box, tube.barcode)
    tube.refresh_from_db()
    assert tube.status == Tube.Status.SEALED


def test_it_refuses_an_open_tube_a_tube_of_another_point_and_an_unknown_one(cast, tp):
    box = tp.box(tubes=0)
    with pytest.raises(ValidationError, match="still open"):
        services.add_tube(cast.sampler, box, tp.tube(close=False).barcode)
    other = tp.tube(cast.grid_b)
    with pytest.raises(ValidationError, match="another point"):
        services.add_tube(cast.sampler, box, other.barcode)
    with pytest.raises(ValidationError, match="No tube"):
        services.add_tube(cast.sampler, box, "NOSUCH0001")
    assert box.tubes.count() == 0


def test_a_tube_is_in_one_box_at_a_time(cast, tp):
    first = tp.box(tubes=1)
    barcode = first.tubes.get().barcode
    second = tp.box(tubes=0)
    with pytest.raises(ValidationError, match=f"already in box {first.barcode}"):
        services.add_tube(cast.sampler, second, barcode)
    services.remove_tube(cast.sampler, first, barcode)
    services.add_tube(cast.sampler, second, barcode)
    assert second.tubes.get().barcode == barcode
    assert kinds(first)[-1] == "tube_removed"


def test_only_the_samplers_of_the_point_pack_its_boxes(cast, tp):
    box = tp.box(tubes=0)
    with pytest.raises(PermissionDenied):
        services.add_tube(cast.sampler_b, box, tp.tube().barcode)
    with pytest.raises(PermissionDenied):
        services.open_box(cast.sampler_b, new_box_code(), cast.rnd.point_a, tp.lab_a)


def test_an_empty_box_is_not_sealed_but_may_be_discarded(cast, tp):
    box = tp.box(tubes=0)
    with pytest.raises(ValidationError, match="empty"):
        services.seal_box(cast.sampler, box)
    services.discard_box(cast.sampler, box)
    box.refresh_from_db()
    assert box.status == Box.Status.DISCARDED
    # The barcode is free again.
    again, created = services.open_box(cast.sampler, box.barcode, cast.rnd.point_a, tp.lab_a)
    assert created and again.pk != box.pk


def test_sealing_checks_the_count_the_sampler_made(cast, tp):
    box = tp.box(tubes=2)
    with pytest.raises(ValidationError, match="You counted 3 tubes but 2 were scanned"):
        services.seal_box(cast.sampler, box, count=3)
    services.seal_box(cast.sampler, box, count=2)
    box.refresh_from_db()
    assert box.status == Box.Status.SEALED and box.tube_count == 2


def test_a_courier_cannot_take_a_box_that_is_still_packed_or_outside_their_area(cast, tp):
    box = tp.box()
    with pytest.raises(ValidationError, match="not sealed"):
        services.pick_up(tp.courier, box)
    services.seal_box(cast.sampler, box)
    with pytest.raises(PermissionDenied):
        services.pick_up(tp.courier_b, box)


# Barcode in use


def test_a_barcode_in_use_cannot_be_opened_again(cast, tp):
    box = tp.box(tubes=1, step="in_transit")
    with pytest.raises(ValidationError, match=f"Box {box.barcode} is in use: In transit"):
        services.open_box(cast.sampler, box.barcode, cast.rnd.point_a, tp.lab_a)
    with pytest.raises(ValidationError, match="in use"):
        services.open_box(cast.sampler_b, box.barcode, cast.rnd.point_b, tp.lab_b)


def test_opening_the_open_box_again_at_its_point_resumes_it(cast, tp):
    box = tp.box(tubes=0)
    again, created = services.open_box(cast.sampler, box.barcode.lower(), cast.rnd.point_a, tp.lab_a)
    assert (again.pk, created) == (box.pk, False)
    assert kinds(box) == ["opened"]
    with pytest.raises(ValidationError, match="in use"):
        services.open_box(cast.sampler_b, box.barcode, cast.rnd.point_b, tp.lab_b)


def test_a_received_boxs_barcode_starts_a_new_trip(cast, tp):
    box = tp.box(step="received")
    again, created = services.open_box(cast.sampler, box.barcode, cast.rnd.point_a, tp.lab_a)
    assert created and again.pk != box.pk
    assert services.current_box(Box.objects.all(), box.barcode) == again
    services.discard_box(cast.sampler, again)
    assert services.current_box(Box.objects.all(), box.barcode) == again  # the latest trip


# Reconciliation at the lab


def test_the_receipt_lists_missing_and_extra_tubes_and_needs_a_note(cast, tp):
    box = tp.box(tubes=3, step="in_transit")
    listed = sorted(box.tubes.values_list("barcode", flat=True))
    stray = tp.tube(cast.grid_b)  # a tube of another point that ended up in this box
    scanned = [listed[0], listed[1], stray.barcode, "UNKNOWN777"]
    with pytest.raises(ValidationError, match="1 missing、2 extra: write a note"):
        services.receive_box(tp.lab_user, box, tubes=scanned)
    box.refresh_from_db()
    assert box.status == Box.Status.IN_TRANSIT and not box.tubes.exclude(state="packed").exists()
    services.receive_box(tp.lab_user, box, tubes=scanned, note="箱内少一管，多两管，已电话通知采样点")
    box.refresh_from_db()
    assert (box.status, box.missing_count, box.extra_count) == (Box.Status.RECEIVED, 1, 2)
    result = services.reconciliation(box)
    assert result["missing"] == [listed[2]]
    assert sorted(result["extra"]) == sorted([stray.barcode, "UNKNOWN777"])
    assert box.tubes.get(barcode=listed[2]).state == BoxTube.State.MISSING
    assert "2 of 3 tubes found, 1 missing, 2 extra" in box.events.get(kind="received").note


def test_tubes_checked_one_by_one_then_confirmed(tp):
    box = tp.box(tubes=2, step="in_transit")
    first, second = box.tubes.order_by("barcode").values_list("barcode", flat=True)
    assert services.check_tube(tp.lab_user, box, first)[1] == "found"
    assert services.check_tube(tp.lab_user, box, first)[1] == "again"
    assert services.check_tube(tp.lab_user, box, "EXTRA0001")[1] == "extra"
    services.uncheck_tube(tp.lab_user, box, "EXTRA0001")
    services.check_tube(tp.lab_user, box, second)
    services.receive_box(tp.lab_user, box)
    box.refresh_from_db()
    assert (box.missing_count, box.extra_count) == (0, 0)
    assert kinds(box).count("arrived") == 1


def test_a_box_without_a_pickup_scan_is_received_with_a_note(cast, tp):
    box = tp.box(step="sealed")
    codes = list(box.tubes.values_list("barcode", flat=True))
    with pytest.raises(ValidationError, match="no pick-up scan"):
        services.receive_box(tp.lab_user, box, tubes=codes)
    services.receive_box(tp.lab_user, box, tubes=codes, note="采样点直接送达，转运员未扫码")
    box.refresh_from_db()
    assert box.status == Box.Status.RECEIVED and box.picked_up_by is None


def test_only_the_staff_of_the_boxs_lab_receive_it(cast, tp):
    box = tp.box(step="in_transit")
    with pytest.raises(PermissionDenied):
        services.receive_box(tp.lab_user_b, box)
    with pytest.raises(PermissionDenied):
        services.receive_box(cast.lab, box)  # a lab_staff grant, posted at no lab


def test_the_lab_receives_a_box_sent_to_it_instead(cast, tp):
    box = tp.box(step="in_transit")
    with pytest.raises(ValidationError):
        services.reroute(cast.commander, box, tp.lab_b, "")
    services.reroute(cast.commander, box, tp.lab_b, "市疾控实验室满负荷，改送金域")
    services.receive_box(tp.lab_user_b, box, tubes=list(box.tubes.values_list("barcode", flat=True)))
    box.refresh_from_db()
    assert box.lab == tp.lab_b and box.status == Box.Status.RECEIVED
    assert "rerouted" in kinds(box)


# The deadline at its boundary


def _box_sampled_at(tp, first):
    return tp.box(step="in_transit", scanned_at=first)


def test_the_deadline_is_the_rounds_hours_after_the_first_sample(tp):
    first = timezone.now() - datetime.timedelta(hours=1)
    box = tp.box(tubes=0)
    services.add_tube(
        tp.cast.sampler, box, tp.tube(scanned_at=first + datetime.timedelta(minutes=20)).barcode
    )
    services.add_tube(tp.cast.sampler, box, tp.tube(scanned_at=first).barcode)
    box.refresh_from_db()
    assert box.first_sample_at == first
    assert box.due_at == first + datetime.timedelta(hours=4)


def test_a_box_received_exactly_at_the_deadline_is_on_time(tp):
    box = _box_sampled_at(tp, timezone.now() - datetime.timedelta(hours=4))
    services.receive_box(
        tp.lab_user, box, tubes=list(box.tubes.values_list("barcode", flat=True)), now=box.due_at
    )
    box.refresh_from_db()
    assert box.received_at == box.due_at and not box.is_late()


def test_a_box_received_one_second_past_the_deadline_is_late(tp):
    box = _box_sampled_at(tp, timezone.now() - datetime.timedelta(hours=4))
    late = box.due_at + datetime.timedelta(seconds=1)
    services.receive_box(tp.lab_user, box, tubes=list(box.tubes.values_list("barcode", flat=True)), now=late)
    box.refresh_from_db()
    assert box.is_late()


def test_a_box_on_its_way_is_late_only_past_the_deadline(tp):
    box = _box_sampled_at(tp, timezone.now() - datetime.timedelta(hours=3))
    assert not box.is_late(box.due_at)
    assert box.is_late(box.due_at + datetime.timedelta(seconds=1))


def test_the_arrival_scan_dates_the_receipt(tp):
    box = _box_sampled_at(tp, timezone.now() - datetime.timedelta(hours=4))
    services.start_receipt(tp.lab_user, box, now=box.due_at)
    codes = list(box.tubes.values_list("barcode", flat=True))
    services.receive_box(tp.lab_user, box, tubes=codes, now=box.due_at + datetime.timedelta(minutes=9))
    box.refresh_from_db()
    assert box.received_at == box.due_at and not box.is_late()


def test_a_new_round_deadline_reaches_its_boxes(tp):
    box = _box_sampled_at(tp, timezone.now() - datetime.timedelta(hours=1))
    campaign = box.campaign
    campaign.transport_hours = 2
    campaign.save()
    box.refresh_from_db()
    assert box.due_at == box.first_sample_at + datetime.timedelta(hours=2)


# Retries change nothing


def test_retried_steps_change_nothing(cast, tp):
    box = tp.box(tubes=1)
    barcode = box.tubes.get().barcode
    assert services.add_tube(cast.sampler, box, barcode)[1] is False
    services.seal_box(cast.sampler, box)
    services.seal_box(cast.sampler, box)
    assert services.pick_up(tp.courier, box)[1] is True
    assert services.pick_up(tp.courier, box)[1] is False
    services.receive_box(tp.lab_user, box, tubes=[barcode])
    services.receive_box(tp.lab_user, box, tubes=[barcode])
    assert kinds(box) == ["opened", "tube_added", "sealed", "picked_up", "arrived", "received"]


def test_a_second_courier_is_told_who_has_the_box(cast, tp):
    box = tp.box(step="in_transit")
    other = Transport.__new__(Transport)
    other.cast = cast
    colleague = other._user("courier_a2", "courier", cast.grid_a)
    with pytest.raises(ValidationError, match=f"picked up by {tp.courier.username}"):
        services.pick_up(colleague, box)


def test_a_box_received_by_one_receiver_is_refused_to_another(cast, tp):
    box = tp.box(step="received")
    tp.lab_a.staff.add(cast.lab)
    with pytest.raises(ValidationError, match=f"received by {tp.lab_user.username}"):
        services.receive_box(cast.lab, box)


# Two people on one box at once


def _race(fn, users):
    """Run fn(user) for each user in its own thread and connection at the same time."""
    barrier, results = threading.Barrier(len(users)), []

    def run(user):
        try:
            barrier.wait()
            results.append(("ok", fn(user)))
        except (ValidationError, PermissionDenied) as exc:
            results.append(("refused", exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_couriers_scanning_one_box_at_once_make_one_pickup(cast):
    tp = Transport(cast)
    box = tp.box(step="sealed")
    other = tp._user("courier_a2", "courier", cast.grid_a)
    results = _race(lambda user: services.pick_up(user, box), [tp.courier, other])
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert box.events.filter(kind="picked_up").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_lab_benches_confirming_one_box_at_once_make_one_receipt(cast):
    tp = Transport(cast)
    box = tp.box(tubes=2, step="in_transit")
    codes = list(box.tubes.values_list("barcode", flat=True))
    tp.lab_a.staff.add(cast.lab)
    results = _race(lambda user: services.receive_box(user, box, tubes=codes), [tp.lab_user, cast.lab])
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert box.events.filter(kind="received").count() == 1
    assert box.tubes.filter(state="found").count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_one_tube_scanned_into_two_boxes_at_once_lands_in_one(cast):
    tp = Transport(cast)
    first, second = tp.box(tubes=0), tp.box(tubes=0)
    tube = tp.tube()
    boxes = {cast.sampler.pk: first}
    colleague = tp._user("sampler_a2", "sampler", cast.community)
    cast.rnd.point_a.staff.add(colleague)
    boxes[colleague.pk] = second
    results = _race(
        lambda user: services.add_tube(user, boxes[user.pk], tube.barcode), [cast.sampler, colleague]
    )
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert BoxTube.objects.filter(tube=tube).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_one_barcode_opened_at_two_points_at_once_opens_one_box(cast):
    tp = Transport(cast)
    code = new_box_code()
    points = {cast.sampler.pk: (cast.rnd.point_a, tp.lab_a), cast.sampler_b.pk: (cast.rnd.point_b, tp.lab_b)}
    results = _race(
        lambda user: services.open_box(user, code, *points[user.pk]), [cast.sampler, cast.sampler_b]
    )
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert Box.objects.filter(barcode=code).count() == 1


# Reads for the results part


def test_lab_of_tube_and_delivered_tubes_follow_what_reached_the_lab(cast, tp):
    box = tp.box(tubes=2, step="in_transit")
    found, lost = box.tubes.order_by("barcode").values_list("tube", flat=True)
    stray = tp.tube(cast.grid_b)
    assert services.lab_of_tube(Tube.objects.get(pk=found)) is None
    services.receive_box(
        tp.lab_user, box, tubes=[Tube.objects.get(pk=found).barcode, stray.barcode], note="少一管多一管"
    )
    assert services.lab_of_tube(Tube.objects.get(pk=found)) == tp.lab_a
    assert services.lab_of_tube(stray) == tp.lab_a  # it physically arrived there
    assert services.lab_of_tube(Tube.objects.get(pk=lost)) is None
    assert set(services.delivered_tubes(tp.lab_a).values_list("pk", flat=True)) == {found, stray.pk}
    assert not services.delivered_tubes(tp.lab_b).exists()
