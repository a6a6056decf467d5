"""The supervision API: scoped reads (generic mixins), raising, each move as an action with the
service's refusals as 400/403, photos as multipart."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.supervision.models import Item
from tests.scoping import ScopedAPITests
from tests.supervision_cast import png, supervision

S = Item.Status


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestItemAPI(ScopedAPITests):
    model = Item
    api_list_url = "/api/v1/supervision-items/"
    write_action = "start"

    def make_object(self, cast, grid):
        worker = cast.grid_worker if grid == cast.grid_a else cast.grid_worker_b
        return supervision(cast).item(grid=grid, responsible=worker)

    def write_data(self, cast, obj):
        return {}


@pytest.fixture
def sv(cast):
    return supervision(cast)


def test_raise_then_every_move_through_the_api(cast, sv):
    due = (timezone.now() + datetime.timedelta(hours=4)).isoformat()
    response = api(cast.street_officer).post(
        "/api/v1/supervision-items/",
        {
            "area": cast.grid_a.code,
            "title": "核酸点排队过密",
            "category": "sampling",
            "responsible": "grid_worker",
            "due_at": due,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "assigned" and data["raised_in"] == cast.street.code
    url = f"/api/v1/supervision-items/{data['id']}/"
    worker = api(cast.grid_worker)
    assert worker.post(f"{url}start/").json()["status"] == "rectifying"
    refused = worker.post(
        f"{url}submit/", {"note": "已设一米线"}, format="multipart", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 400 and "A photo of the fix is needed" in str(refused.json())
    done = worker.post(f"{url}submit/", {"note": "已设一米线", "photos": [png()]}, format="multipart")
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    assert [p["kind"] for p in done.json()["photos"]] == ["evidence"]
    assert worker.post(f"{url}sign-off/", {}, format="json").status_code == 403  # no right to sign off
    back = api(sv.street_b).post(f"{url}send-back/", {"reason": "仍然拥挤"}, format="json")
    assert back.json()["status"] == "rectifying" and back.json()["reopen_count"] == 1


def test_sign_off_by_the_responsible_person_is_refused(cast, sv):
    from epigrid.accounts.models import Grant

    Grant.objects.create(user=cast.grid_worker, role="community_officer", area=cast.community)
    item = sv.submitted()
    response = api(cast.grid_worker).post(
        f"/api/v1/supervision-items/{item.pk}/sign-off/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 403 and "their own item" in response.json()["detail"]


def test_cancel_and_problem_photos_through_the_api(cast, sv):
    item = sv.item()
    url = f"/api/v1/supervision-items/{item.pk}/"
    photos = api(cast.street_officer).post(
        f"{url}photos/", {"kind": "problem", "photos": [png()]}, format="multipart"
    )
    assert photos.status_code == 201 and photos.json()[0]["url"].startswith("/supervision/photos/")
    assert api(sv.street_b).post(f"{url}cancel/", {"reason": "重复"}, format="json").status_code == 403
    assert (
        api(cast.street_officer).post(f"{url}cancel/", {"reason": "重复"}, format="json").json()["status"]
        == "cancelled"
    )


def test_the_overdue_filter_answers_live(cast, sv):
    late = sv.item()
    Item.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=5))
    sv.item()
    rows = api(cast.commander).get("/api/v1/supervision-items/?overdue=true").json()["results"]
    assert [r["id"] for r in rows] == [late.pk] and rows[0]["overdue"] is True
