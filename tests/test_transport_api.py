"""Sample transport over the API: scoping through the generic mixins (samplers, labs, couriers;
labs seen from below), the custody steps end to end by barcode, refusals as clear messages,
retries that change nothing, and boxes in the OpenAPI schema."""

import io

import pytest
from django.core.management import call_command
from django.utils import translation
from rest_framework.test import APIClient

from epigrid.transport import services
from epigrid.transport.models import Box, Lab
from tests.scoping import ScopedAPITests
from tests.transport_cast import Transport, new_box_code


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def transport(cast):
    return getattr(cast, "transport", None) or Transport(cast)


@pytest.fixture
def tp(cast):
    return transport(cast)


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # messages are asserted in their English source
    client.force_authenticate(user)
    return client


class _BoxAPI(ScopedAPITests):
    model = Box
    api_list_url = "/api/v1/boxes/"

    def make_object(self, cast, grid):
        return transport(cast).box(grid, tubes=1)

    def detail(self, obj):
        return f"{self.api_list_url}{obj.barcode}/"

    def write_data(self, cast, obj):
        return {}


class TestBoxAPIForSamplers(_BoxAPI):
    viewer = "sampler"
    outsider = "sampler_b"
    unrevealing = "sampler"
    write_action = "seal"


class TestBoxAPIForLabs(_BoxAPI):
    viewer = "lab_user"
    outsider = "lab_user_b"
    unrevealing = "lab_user"
    write_action = "receive"


class TestBoxAPIForCouriers(_BoxAPI):
    viewer = "courier"
    outsider = "courier_b"
    unrevealing = "courier"
    write_action = "pickup"


class TestLabAPI(ScopedAPITests):
    model = Lab
    api_list_url = "/api/v1/labs/"
    viewer = "courier"
    outsider = "courier_b"
    unrevealing = "courier"

    def make_object(self, cast, grid):
        transport(cast)
        return Lab.objects.create(name=f"{grid.name}检测点", code=f"L{grid.code}", area=grid)

    def write_data(self, cast, obj):
        return {"address": "雁滩路1号"}


def test_a_box_goes_from_point_to_lab_through_the_api(cast, tp):
    code = new_box_code()
    sampler = api(cast.sampler)
    response = sampler.post(
        "/api/v1/boxes/open/",
        {"barcode": code.lower(), "point": cast.rnd.point_a.pk, "lab": "laba"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    again = sampler.post(
        "/api/v1/boxes/open/", {"barcode": code, "point": cast.rnd.point_a.pk, "lab": "LABA"}, format="json"
    )
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
    tubes = [tp.tube().barcode, tp.tube().barcode]
    for tube in tubes:
        assert (
            sampler.post(f"/api/v1/boxes/{code}/add-tube/", {"tube": tube}, format="json").status_code == 200
        )
    sealed = sampler.post(f"/api/v1/boxes/{code}/seal/", {"count": 2}, format="json").json()
    assert sealed["status"] == "sealed" and sealed["tube_count"] == 2
    courier = api(cast.courier)
    picked = courier.post(f"/api/v1/boxes/{code}/pickup/").json()
    assert picked["status"] == "in_transit" and picked["picked_up_by"] == cast.courier.username
    assert courier.post(f"/api/v1/boxes/{code}/pickup/").status_code == 200  # a retry
    lab = api(tp.lab_user)
    answer = lab.post(f"/api/v1/boxes/{code}/receive/", {"tubes": tubes}, format="json").json()
    assert answer["status"] == "received" and answer["reconciliation"]["found"] == sorted(tubes)
    assert [e["kind"] for e in answer["events"]] == [
        "opened",
        "tube_added",
        "tube_added",
        "sealed",
        "picked_up",
        "arrived",
        "received",
    ]
    assert answer["late"] is False


def test_refusals_come_back_as_clear_messages(cast, tp):
    box = tp.box(tubes=1, step="in_transit")
    sampler = api(cast.sampler)
    response = sampler.post(
        "/api/v1/boxes/open/",
        {"barcode": box.barcode, "point": cast.rnd.point_a.pk, "lab": "LABA"},
        format="json",
    )
    assert response.status_code == 400
    assert f"Box {box.barcode} is in use: In transit" in str(response.json())
    lab = api(tp.lab_user)
    missing = lab.post(f"/api/v1/boxes/{box.barcode}/receive/", {"tubes": []}, format="json")
    assert missing.status_code == 400 and "1 missing: write a note" in str(missing.json())
    box.refresh_from_db()
    assert box.status == Box.Status.IN_TRANSIT
    other = api(tp.courier_b).post(f"/api/v1/boxes/{box.barcode}/pickup/")
    assert other.status_code == 404


def test_a_courier_sees_no_pack_action_and_a_sampler_no_pickup(cast, tp):
    box = tp.box(step="sealed")
    assert api(cast.courier).post(f"/api/v1/boxes/{box.barcode}/seal/").status_code == 403
    assert api(cast.sampler).post(f"/api/v1/boxes/{box.barcode}/pickup/").status_code == 403
    assert api(cast.grid_worker).get("/api/v1/boxes/").status_code == 403


def test_the_barcode_in_the_url_names_the_trip_in_use(cast, tp):
    old = tp.box(step="received")
    new, _created = services.open_box(cast.sampler, old.barcode, cast.rnd.point_a, tp.lab_a)
    data = api(cast.commander).get(f"/api/v1/boxes/{old.barcode.lower()}/").json()
    assert data["id"] == new.pk and data["status"] == "open"


@pytest.mark.django_db
def test_the_schema_documents_the_box_steps():
    out = io.StringIO()
    call_command("spectacular", stdout=out)
    schema = out.getvalue()
    for path in (
        "/api/v1/boxes/open/",
        "/api/v1/boxes/{barcode}/add-tube/",
        "/api/v1/boxes/{barcode}/receive/",
        "/api/v1/labs/",
    ):
        assert path in schema, path
