"""The transport board: its counts and punctuality against a brute-force count over every box,
the deadline's boundary on the board, the live panel, and scope (a lab sees only its boxes)."""

import datetime
import random

import pytest
from django.utils import timezone, translation

from epigrid.transport import services
from epigrid.transport.models import Box
from tests.transport_cast import Transport


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def tp(cast):
    return Transport(cast)


def _spread(tp, cast, now):
    """Boxes at every step with first samples spread over the last six hours."""
    rng = random.Random(4)
    boxes = []
    for i in range(14):
        grid = cast.grid_a if i % 3 else cast.grid_b
        first = now - datetime.timedelta(minutes=rng.randrange(0, 360))
        step = ["open", "sealed", "in_transit", "received"][i % 4]
        boxes.append(tp.box(grid, step=step, scanned_at=first))
    return boxes


def brute_force(boxes, now):
    in_use = [b for b in boxes if b.status in Box.IN_USE]
    received = [b for b in boxes if b.status == Box.Status.RECEIVED]
    return {
        "open": sum(b.status == "open" for b in boxes),
        "sealed": sum(b.status == "sealed" for b in boxes),
        "in_transit": sum(b.status == "in_transit" for b in boxes),
        "late": sum(b.due_at < now for b in in_use),
        "due_soon": sum(now <= b.due_at <= now + datetime.timedelta(minutes=30) for b in in_use),
        "received": len(received),
        "received_late": sum(b.received_at > b.due_at for b in received),
        "with_missing": sum(b.missing_count > 0 for b in received),
    }


def test_the_board_counts_what_a_brute_force_count_finds(cast, tp):
    now = timezone.now()
    boxes = [Box.objects.get(pk=b.pk) for b in _spread(tp, cast, now)]
    assert services.board_counts(Box.objects.all(), now) == brute_force(boxes, now)
    for later in (now + datetime.timedelta(hours=1), now + datetime.timedelta(hours=3)):
        assert services.board_counts(Box.objects.all(), later) == brute_force(boxes, later)


def test_punctuality_matches_a_brute_force_count(cast, tp):
    now = timezone.now()
    boxes = [Box.objects.get(pk=b.pk) for b in _spread(tp, cast, now)]
    expected = {}
    for b in boxes:
        if b.status == Box.Status.RECEIVED:
            kind = "late" if b.received_at > b.due_at else "on_time"
        elif b.status in Box.IN_USE and b.due_at < now:
            kind = "late"
        else:
            continue
        row = expected.setdefault(b.point.name, {"on_time": 0, "late": 0})
        row[kind] += 1
    rows = services.punctuality(Box.objects.all(), "point", now)
    assert {r["name"]: {"on_time": r["on_time"], "late": r["late"]} for r in rows} == expected


def test_a_box_due_now_is_due_soon_and_a_second_later_late(cast, tp):
    box = tp.box(step="in_transit", scanned_at=timezone.now() - datetime.timedelta(hours=4))
    box.refresh_from_db()
    at = services.board_counts(Box.objects.all(), box.due_at)
    assert (at["late"], at["due_soon"]) == (0, 1)
    after = services.board_counts(Box.objects.all(), box.due_at + datetime.timedelta(seconds=1))
    assert (after["late"], after["due_soon"]) == (1, 0)


def test_the_board_page_shows_the_lists_and_refreshes_its_panel(cast, tp):
    late = tp.box(step="in_transit", scanned_at=timezone.now() - datetime.timedelta(hours=5))
    soon = tp.box(step="sealed", scanned_at=timezone.now() - datetime.timedelta(hours=3, minutes=45))
    client = cast.client_for(cast.commander)
    body = client.get("/transport/").content.decode()
    assert 'hx-trigger="every 15s"' in body
    late_list = body.split('data-testid="board-late"')[1].split("</table>")[0]
    soon_list = body.split('data-testid="board-due-soon"')[1].split("</table>")[0]
    assert late.barcode in late_list and soon.barcode in soon_list
    assert 'data-testid="count-late">1<' in body and 'data-testid="count-due-soon">1<' in body
    panel = client.get("/transport/", HTTP_HX_REQUEST="true").content.decode()
    assert panel.startswith('<div id="board-panel"') and "<html" not in panel


def test_a_lab_sees_only_its_boxes_on_the_board(cast, tp):
    mine = tp.box(cast.grid_a, step="in_transit", scanned_at=timezone.now() - datetime.timedelta(hours=5))
    other = tp.box(cast.grid_b, step="in_transit", scanned_at=timezone.now() - datetime.timedelta(hours=5))
    body = cast.client_for(tp.lab_user).get("/transport/").content.decode()
    assert mine.barcode in body and other.barcode not in body
    assert 'data-testid="count-late">1<' in body


def test_the_board_keeps_its_query_count_whatever_the_number_of_boxes(
    cast, tp, django_assert_max_num_queries
):
    for _i in range(6):
        tp.box(step="received")
    client = cast.client_for(cast.commander)
    client.get("/transport/")  # warm the session and caches
    with django_assert_max_num_queries(16):
        client.get("/transport/")
