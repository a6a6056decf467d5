"""Transport pages: scoping through the generic mixins (samplers of point A vs B, the staff of lab A
vs B, couriers of grid A vs B; labs seen from below), the scan page of each custody step, the box
page with its custody chain and receipt, sending a box elsewhere, the Excel export, navigation and
where couriers and labs land."""

import io

import openpyxl
import pytest
from django.urls import reverse

from epigrid.jobs.models import Job, Status
from epigrid.transport.models import Box, Lab
from tests.scoping import ScopedViewTests
from tests.transport_cast import Transport, new_box_code


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def transport(cast):
    return getattr(cast, "transport", None) or Transport(cast)


@pytest.fixture
def tp(cast):
    return transport(cast)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# Scoping through the generic mixins


class _BoxPages(ScopedViewTests):
    model = Box
    list_url = "/transport/boxes/"

    def make_object(self, cast, grid):
        return transport(cast).box(grid, tubes=1)

    def list_text(self, obj):
        return obj.barcode

    def edit_data(self, cast, obj):
        tp = transport(cast)
        return {"lab": (tp.lab_b if obj.lab == tp.lab_a else tp.lab_a).pk, "note": "实验室满负荷，改送"}


class TestBoxPagesForSamplers(_BoxPages):
    """A box packed at point A is seen by the sampler posted there, not by point B's."""

    viewer = "sampler"
    outsider = "sampler_b"
    unrevealing = "sampler"


class TestBoxPagesForLabs(_BoxPages):
    """A box heading to lab A is seen by lab A's staff, not by lab B's (both granted the district)."""

    viewer = "lab_user"
    outsider = "lab_user_b"
    unrevealing = "lab_user"


class TestBoxPagesForCouriers(_BoxPages):
    """Couriers see the boxes of their area."""

    viewer = "courier"
    outsider = "courier_b"
    unrevealing = "courier"


class TestLabPages(ScopedViewTests):
    """A lab is seen from its area and below (a district's lab by every point in the district)."""

    model = Lab
    list_url = "/transport/labs/"
    viewer = "courier"
    outsider = "courier_b"
    unrevealing = "courier"

    def make_object(self, cast, grid):
        transport(cast)
        return Lab.objects.create(name=f"{grid.name}检测点", code=f"L{grid.code}", area=grid)

    def edit_data(self, cast, obj):
        return {
            "name": obj.name + "（东院）",
            "code": obj.code,
            "address": "雁滩路1号",
            "area": obj.area.pk,
            "is_active": "on",
        }


def test_a_grid_worker_does_not_follow_transport(cast, tp):
    tp.box()
    client = cast.client_for(cast.grid_worker)
    assert client.get("/transport/boxes/").status_code == 403
    assert client.get("/transport/").status_code == 403


def test_the_commander_sees_every_box_of_the_district(cast, tp):
    a, b = tp.box(cast.grid_a), tp.box(cast.grid_b)
    body = cast.client_for(cast.commander).get("/transport/boxes/").content.decode()
    assert a.barcode in body and b.barcode in body


def test_a_lab_user_posted_at_no_lab_sees_no_box(cast, tp):
    tp.box()
    body = cast.client_for(cast.lab).get("/transport/boxes/").content.decode()
    assert "0 results" in body


def test_the_list_finds_the_box_a_tube_is_in(cast, tp):
    box = tp.box(tubes=2)
    tube = box.tubes.first().barcode
    body = (
        cast.client_for(cast.commander).get("/transport/boxes/", {"barcode": tube.lower()}).content.decode()
    )
    assert box.barcode in body and "1 result" in body


# Packing at the point


def test_a_sampler_opens_a_box_scans_tubes_and_seals_it(cast, tp):
    client = cast.client_for(cast.sampler)
    code = new_box_code()
    response = client.post(
        reverse("transport:pack"),
        {"point": cast.rnd.point_a.pk, "lab": tp.lab_a.pk, "code": code},
        follow=True,
    )
    box = Box.objects.get(barcode=code)
    assert response.redirect_chain[-1][0] == reverse("transport:pack_box", args=[box.pk])
    tubes = [tp.tube(), tp.tube()]
    for tube in tubes:
        response = client.post(
            reverse("transport:pack_box", args=[box.pk]), {"code": tube.barcode}, follow=True
        )
        assert f"Tube {tube.barcode} is in the box." in messages_of(response)
    response = client.post(
        reverse("transport:pack_box", args=[box.pk]), {"code": tubes[0].barcode}, follow=True
    )
    assert f"Tube {tubes[0].barcode} was in the box already." in messages_of(response)
    body = response.content.decode()
    assert 'data-testid="packed-row"' in body and "Seal the box" in body
    response = client.post(reverse("transport:pack_step", args=[box.pk, "seal"]), {"count": "2"}, follow=True)
    assert f"Box {code} sealed with 2 tubes." in messages_of(response)
    box.refresh_from_db()
    assert box.status == Box.Status.SEALED


def test_a_refused_scan_is_said_on_the_page_and_changes_nothing(cast, tp):
    box = tp.box(tubes=0)
    client = cast.client_for(cast.sampler)
    open_tube = tp.tube(close=False)
    response = client.post(
        reverse("transport:pack_box", args=[box.pk]), {"code": open_tube.barcode}, follow=True
    )
    assert any("still open at its desk" in m for m in messages_of(response))
    assert box.tubes.count() == 0


def test_the_pack_page_is_for_the_samplers_of_the_point(cast, tp):
    box = tp.box(tubes=0)
    assert (
        cast.client_for(cast.sampler_b).get(reverse("transport:pack_box", args=[box.pk])).status_code == 404
    )
    assert (
        cast.client_for(cast.commander).get(reverse("transport:pack_box", args=[box.pk])).status_code == 403
    )
    assert cast.client_for(cast.courier).get(reverse("transport:pack")).status_code == 403


def test_a_barcode_in_use_is_refused_on_the_open_page(cast, tp):
    box = tp.box(step="sealed")
    response = cast.client_for(cast.sampler).post(
        reverse("transport:pack"),
        {"point": cast.rnd.point_a.pk, "lab": tp.lab_a.pk, "code": box.barcode},
        follow=True,
    )
    assert any("is in use" in m for m in messages_of(response))
    assert Box.objects.filter(barcode=box.barcode).count() == 1


# Pick-up


def test_a_courier_scans_a_box_to_pick_it_up(cast, tp):
    box = tp.box(step="sealed")
    client = cast.client_for(cast.courier)
    page = client.get(reverse("transport:pickup")).content.decode()
    assert f'data-barcode="{box.barcode}"' in page
    response = client.post(reverse("transport:pickup"), {"code": box.barcode.lower()}, follow=True)
    assert any(f"Box {box.barcode} picked up" in m for m in messages_of(response))
    box.refresh_from_db()
    assert box.status == Box.Status.IN_TRANSIT and box.picked_up_by == cast.courier
    again = client.post(reverse("transport:pickup"), {"code": box.barcode}, follow=True)
    assert any("You had picked this box up already." in m for m in messages_of(again))


def test_a_courier_cannot_pick_up_outside_their_area(cast, tp):
    box = tp.box(cast.grid_b, step="sealed")
    response = cast.client_for(cast.courier).post(
        reverse("transport:pickup"), {"code": box.barcode}, follow=True
    )
    assert any(f"No box {box.barcode} in your area." in m for m in messages_of(response))
    box.refresh_from_db()
    assert box.status == Box.Status.SEALED


# Receipt at the lab


def test_a_lab_receives_a_box_with_a_missing_tube_and_a_note(cast, tp):
    box = tp.box(tubes=2, step="in_transit")
    first, second = box.tubes.order_by("barcode").values_list("barcode", flat=True)
    client = cast.client_for(tp.lab_user)
    response = client.post(reverse("transport:receive"), {"code": box.barcode}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("transport:receive_box", args=[box.pk])
    response = client.post(reverse("transport:receive_box", args=[box.pk]), {"code": first}, follow=True)
    assert f"Tube {first} found." in messages_of(response)
    body = response.content.decode()
    assert 'data-testid="found-count">1/2<' in body and second in body
    confirm = reverse("transport:receive_step", args=[box.pk, "confirm"])
    response = client.post(confirm, {"note": ""}, follow=True)
    assert any("1 missing" in m and "write a note" in m for m in messages_of(response))
    response = client.post(confirm, {"note": "少一管，已联系采样点"}, follow=True)
    assert f"Box {box.barcode} received." in messages_of(response)
    body = response.content.decode()
    assert 'data-testid="receipt-missing"' in body and second in body
    box.refresh_from_db()
    assert (box.status, box.missing_count) == (Box.Status.RECEIVED, 1)


def test_another_labs_box_is_not_found_at_the_receipt(cast, tp):
    box = tp.box(cast.grid_b, step="in_transit")
    client = cast.client_for(tp.lab_user)
    response = client.post(reverse("transport:receive"), {"code": box.barcode}, follow=True)
    assert any(f"No box {box.barcode} is heading to your lab." in m for m in messages_of(response))
    assert client.get(reverse("transport:receive_box", args=[box.pk])).status_code == 404


# The box page


def test_the_box_page_shows_the_custody_chain_and_the_deadline(cast, tp):
    box = tp.box(step="received")
    body = cast.client_for(cast.commander).get(box.get_absolute_url()).content.decode()
    for kind in ("opened", "tube_added", "sealed", "picked_up", "received"):
        assert f'data-testid="event-{kind}"' in body
    assert cast.courier.username in body and tp.lab_user.username in body
    assert 'data-testid="box-on-time"' in body and 'data-testid="receipt"' in body


def test_the_command_centre_sends_a_box_to_another_lab(cast, tp):
    box = tp.box(step="in_transit")
    client = cast.client_for(cast.commander)
    url = reverse("transport:box_edit", args=[box.pk])
    response = client.post(url, {"lab": tp.lab_b.pk, "note": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(url, {"lab": tp.lab_b.pk, "note": "市疾控满负荷"})
    assert response.status_code == 302
    box.refresh_from_db()
    assert box.lab == tp.lab_b
    assert box.events.filter(kind="rerouted").exists()
    # Now lab B's staff see it, and lab A's no longer do.
    assert cast.client_for(tp.lab_user_b).get(box.get_absolute_url()).status_code == 200
    assert cast.client_for(tp.lab_user).get(box.get_absolute_url()).status_code == 404


def test_a_received_box_is_not_sent_elsewhere(cast, tp):
    box = tp.box(step="received")
    response = cast.client_for(cast.commander).post(
        reverse("transport:box_edit", args=[box.pk]), {"lab": tp.lab_b.pk, "note": "改送"}
    )
    assert response.status_code == 200
    assert "Only a box on its way can be sent to another lab." in response.content.decode()


# Export, navigation, landing


def test_the_box_export_writes_the_filtered_boxes(cast, tp, django_capture_on_commit_callbacks):
    on_time = tp.box(step="received")
    other = tp.box(cast.grid_b)
    client = cast.client_for(cast.commander)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/jobs/export/boxes/", {"query": f"barcode={on_time.barcode}"})
    assert response.status_code == 302
    job = Job.objects.filter(user=cast.commander).order_by("-created").first()
    assert job.status == Status.SUCCEEDED, job.message
    content = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("箱码", "状态", "轮次")
    assert [r[0] for r in rows[1:]] == [on_time.barcode]
    assert rows[1][1] == "已接收" and rows[1][16] == "按时"
    assert other.barcode not in str(rows)


@pytest.mark.parametrize(
    "user, expected, absent",
    [
        ("courier", ["Pick up boxes", "Transport board"], ["Pack boxes", "Receive boxes"]),
        ("lab_user", ["Receive boxes", "Boxes"], ["Pick up boxes", "Pack boxes"]),
        ("sampler", ["Pack boxes", "Boxes"], ["Pick up boxes", "Receive boxes"]),
        ("grid_worker", [], ["Transport board", "Pack boxes"]),
    ],
)
def test_navigation_offers_each_role_its_transport_pages(cast, tp, user, expected, absent):
    body = cast.client_for(getattr(cast, user)).get("/transport/labs/").content.decode()
    body = body.split("</nav>")[0]
    for label in expected:
        assert f">{label}</a>" in body, label
    for label in absent:
        assert f">{label}</a>" not in body, label


def test_couriers_and_lab_staff_land_on_their_scan_page(cast, tp):
    assert cast.client_for(cast.courier).get("/").url == reverse("transport:pickup")
    assert cast.client_for(tp.lab_user).get("/").url == reverse("transport:receive")
    assert cast.client_for(cast.sampler).get("/").url == reverse("testing:desk_home")


def test_the_scan_pages_speak_chinese(cast, tp, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    body = cast.client_for(cast.courier).get(reverse("transport:pickup")).content.decode()
    assert 'lang="zh-hans"' in body
