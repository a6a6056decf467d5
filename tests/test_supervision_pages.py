"""Supervision pages: scoping (generic mixins), the list's filters, my items on a phone, the moves
through the pages, photos served only through the scoped view, figures and the export."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from epigrid.supervision import services
from epigrid.supervision.models import Item, ItemPhoto
from tests.scoping import ScopedViewTests
from tests.supervision_cast import png, supervision

S = Item.Status


@pytest.fixture
def sv(cast):
    return supervision(cast)


class TestItemPages(ScopedViewTests):
    model = Item
    list_url = "/supervision/"

    def make_object(self, cast, grid):
        worker = cast.grid_worker if grid == cast.grid_a else cast.grid_worker_b
        return supervision(cast).item(grid=grid, responsible=worker)

    def list_text(self, obj):
        return obj.title + "</a>"

    def edit_data(self, cast, obj):
        return {"responsible": cast.grid_worker.pk, "due_at": "2031-01-01T18:00"}


def test_the_list_filters_overdue_live_and_escalated_to_us(cast, sv):
    late = sv.item(title="消杀记录缺失")
    Item.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(hours=3))
    sv.item(title="物资台账未更新")
    client = cast.client_for(cast.community_officer)
    page = client.get("/supervision/?overdue=true").content.decode()
    assert "消杀记录缺失" in page and "物资台账未更新" not in page
    assert "escalated-items" not in client.get("/supervision/").content.decode()
    services.escalate_overdue()
    page = client.get("/supervision/?escalated=true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "消杀记录缺失" in page and "物资台账未更新" not in page
    assert "1 item escalated to us" in client.get("/supervision/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The street sees the item (its subtree) but it was not escalated to the street.
    street = cast.client_for(cast.street_officer).get("/supervision/?escalated=true").content.decode()
    assert "消杀记录缺失" not in street


def test_a_community_sees_its_own_and_a_street_its_communities(cast, sv):
    from epigrid.accounts.models import Grant, User
    from epigrid.areas.models import Area, Level

    other = Area.objects.create(
        code="620102001002", name="东岗社区", level=Level.COMMUNITY, parent=cast.street
    )
    officer = User.objects.create_user("dg_officer", password="x")
    Grant.objects.create(user=officer, role="community_officer", area=other)
    sv.item(title="九州的问题")
    sv.item(grid=other, responsible=officer, title="东岗的问题")
    ours = cast.client_for(cast.community_officer).get("/supervision/").content.decode()
    assert "九州的问题" in ours and "东岗的问题" not in ours
    street = cast.client_for(cast.street_officer).get("/supervision/").content.decode()
    assert "九州的问题" in street and "东岗的问题" in street


def test_my_items_are_cards_with_one_tap_moves_and_submit_with_a_photo(cast, sv):
    item = sv.item(category="checkpoint", title="卡口无人值守")
    client = cast.client_for(cast.grid_worker)
    page = client.get("/supervision/mine/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="my-item"' in page and "Start rectifying" in page
    assert (
        client.post(reverse("supervision:start", args=[item.pk]), {"next": "mine"}).url
        == "/supervision/mine/"
    )
    response = client.post(
        reverse("supervision:submit", args=[item.pk]),
        {"note": "已安排两人轮班", "photos": [png()], "next": "mine"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == S.SUBMITTED and item.photos.filter(kind="evidence").count() == 1


def test_a_refused_move_comes_back_as_a_message(cast, sv):
    item = services.start(cast.grid_worker, sv.item(category="checkpoint"))
    client = cast.client_for(cast.grid_worker)
    response = client.post(
        reverse("supervision:submit", args=[item.pk]),
        {"note": "已处理"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "A photo of the fix is needed" in response.content.decode()
    assert Item.objects.get(pk=item.pk).status == S.RECTIFYING


def test_sign_off_and_send_back_from_the_item_page(cast, sv):
    item = sv.submitted()
    worker = cast.client_for(cast.grid_worker).get(item.get_absolute_url()).content.decode()
    assert 'data-testid="sign-off"' not in worker  # not to the one who fixed it
    client = cast.client_for(sv.street_b)
    assert 'data-testid="sign-off"' in client.get(item.get_absolute_url()).content.decode()
    client.post(reverse("supervision:send_back", args=[item.pk]), {"reason": "照片看不清"})
    assert Item.objects.get(pk=item.pk).reopen_count == 1
    item = services.submit(cast.grid_worker, Item.objects.get(pk=item.pk), "重新整改")
    client.post(reverse("supervision:sign_off", args=[item.pk]), {"note": "复核通过"})
    item.refresh_from_db()
    assert item.status == S.SIGNED_OFF and item.signed_off_by == sv.street_b
    page = client.get(item.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "照片看不清" in page and "Signed off" in page  # the history


def test_moves_need_their_right(cast, sv):
    item = sv.submitted()
    auditor = cast.client_for(cast.auditor)
    assert auditor.post(reverse("supervision:sign_off", args=[item.pk]), {}).status_code == 403
    outsider = cast.client_for(cast.grid_worker_b)
    assert outsider.post(reverse("supervision:start", args=[item.pk]), {}).status_code == 404


def test_raising_an_item_with_photos_from_the_page(cast):
    client = cast.client_for(cast.community_officer)
    assert client.get("/supervision/add/").status_code == 200
    response = client.post(
        "/supervision/add/",
        {
            "area": cast.grid_a.code,
            "title": "垃圾未清运",
            "category": "disinfection",
            "found_by": "inspection",
            "responsible": cast.grid_worker.pk,
            "due_at": (timezone.localtime() + datetime.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
            "photos": [png("a.png"), png("b.png")],
        },
    )
    item = Item.objects.get()
    assert response.url == item.get_absolute_url()
    assert item.raised_in == cast.community and item.photos.filter(kind="problem").count() == 2
    assert cast.client_for(cast.grid_worker).get("/supervision/add/").status_code == 403


def test_photos_are_served_only_to_those_who_see_the_item(cast, sv):
    item = sv.submitted()
    photo = item.photos.get()
    url = reverse("supervision:photo", args=[photo.pk])
    response = cast.client_for(cast.community_officer).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert cast.client_for(cast.grid_worker_b).get(url).status_code == 404
    assert cast.client_for(cast.checkpoint).get(url).status_code == 404
    assert "/media/" not in cast.client_for(cast.grid_worker).get(item.get_absolute_url()).content.decode()
    assert ItemPhoto.objects.restrict(cast.grid_worker_b, perm=services.VIEW).count() == 0


def test_the_figures_page_counts_per_area_and_person(cast, sv):
    services.sign_off(sv.street_b, sv.submitted())
    sv.item(grid=cast.grid_b, responsible="grid_worker_b")
    page = (
        cast.client_for(cast.street_officer)
        .get(f"/supervision/stats/?area={cast.community.code}", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    assert "By area in 九州社区" in page and page.count('data-testid="area-row"') == 2
    assert page.count('data-testid="person-row"') == 2


def test_the_export_lists_the_items_the_user_sees(cast, sv, django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    from epigrid.jobs.models import Job

    services.sign_off(sv.street_b, sv.submitted(title="登记表缺项"))
    sv.item(grid=cast.grid_b, responsible="grid_worker_b", title="二网格问题")
    with django_capture_on_commit_callbacks(execute=True):
        cast.client_for(cast.grid_worker).post(
            reverse("jobs:export_start", args=["supervision-items"]), {"query": ""}
        )
    job = Job.objects.get()
    assert job.status == "succeeded", job.result
    rows = list(load_workbook(job.output_file.open("rb")).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "区域", "问题", "类别")
    assert len(rows) == 2 and rows[1][2] == "登记表缺项" and rows[1][7] == "已销号" and rows[1][10] == "是"


def test_the_list_takes_the_same_queries_for_more_rows(cast, sv):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = cast.client_for(cast.street_officer)
    for _ in range(2):
        sv.item()
    with CaptureQueriesContext(connection) as few:
        client.get("/supervision/")
    for grid in (cast.grid_a, cast.grid_b, cast.grid_a, cast.grid_b):
        worker = "grid_worker" if grid == cast.grid_a else "grid_worker_b"
        sv.item(grid=grid, responsible=worker)
    with CaptureQueriesContext(connection) as more:
        client.get("/supervision/")
    assert len(more.captured_queries) == len(few.captured_queries)


def test_assigning_from_the_page(cast, sv):
    item = sv.item(responsible=None)
    client = cast.client_for(cast.community_officer)  # a community officer may task its grids
    assert client.get(reverse("supervision:item_edit", args=[item.pk])).status_code == 200
    response = client.post(
        reverse("supervision:item_edit", args=[item.pk]), {"responsible": cast.grid_worker.pk, "due_at": ""}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == S.ASSIGNED and item.responsible == cast.grid_worker
    assert (
        cast.client_for(cast.grid_worker).get(reverse("supervision:item_edit", args=[item.pk])).status_code
        == 403
    )
