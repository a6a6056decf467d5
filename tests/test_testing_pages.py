"""Pages of rounds, sampling points and desks, tubes and samples: scoping through the generic
mixins (a round seen from below, a point seen only by the sampler posted there), the round's
workflow buttons, copying points and desks into a new round, tubes closed, reopened and sealed by
hand, samples moved with a reason, the masked tube export and the Chinese page."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from epigrid.audit.models import ObjectChange
from epigrid.audit.services import history
from epigrid.jobs.models import Job, Status
from epigrid.testing import services
from epigrid.testing.models import Campaign, Desk, Sample, SamplingPoint, Tube
from tests.scoping import ScopedViewTests, make_person
from tests.testing_cast import Round, new_tube

LOCAL = "%Y-%m-%dT%H:%M"


@pytest.fixture(autouse=True)
def _english(settings):
    # Assertions read English messages; the zh_Hans catalogue may translate them any day.
    settings.LANGUAGE_CODE = "en"


def with_round(cast, **fields):
    if not hasattr(cast, "rnd"):
        cast.rnd = Round(cast, **fields)
        cast.sampler, cast.sampler_b = cast.rnd.sampler, cast.rnd.sampler_b
    return cast.rnd


@pytest.fixture
def rnd(cast):
    return with_round(cast, pooling=5)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def post(client, path, data=None):
    response = client.post(path, data or {}, follow=True)
    assert response.status_code == 200, response.status_code
    return response


def fill(rnd, persons, tube=None, desk=None):
    """Scan `persons` into one tube at a desk of point A (by its sampler); the tube."""
    tube = tube or new_tube()
    scans = [rnd.scan(p, tube=tube, desk=desk) for p in persons]
    outcomes = services.ingest(rnd.sampler, scans)
    assert all(o["status"] == "accepted" for o in outcomes), outcomes
    return Tube.objects.get(barcode=tube)


def campaign_fields(area, **extra):
    now = timezone.localtime()
    return {
        "name": "第二轮",
        "area": area.pk,
        "kind": "whole",
        "pooling": "10",
        "starts_at": (now + datetime.timedelta(hours=1)).strftime(LOCAL),
        "ends_at": (now + datetime.timedelta(hours=25)).strftime(LOCAL),
        "turnaround_hours": "12",
        "transport_hours": "4",
        "tube_check": "none",
        **extra,
    }


# Scoping through the generic mixins


class TestCampaignPages(ScopedViewTests):
    """A round organised by grid A: its worker sees it, grid B's does not. (A round organised
    by the district is seen from every grid below: test_a_grid_worker_sees_the_districts_round.)"""

    model = Campaign
    list_url = "/testing/"

    def make_object(self, cast, grid):
        now = timezone.now()
        campaign = Campaign.objects.create(
            name=f"{grid.name}专项轮次",
            area=grid,
            starts_at=now,
            ends_at=now + datetime.timedelta(days=1),
        )
        campaign.areas.set([grid])
        return campaign

    def edit_data(self, cast, obj):
        return {**campaign_fields(obj.area, name=f"{obj.name}（改）"), "areas": [obj.area.pk]}


class TestSamplingPointPages(ScopedViewTests):
    """Point A is seen by the sampler posted there, not by the sampler of point B, although both
    hold their sampler grant over the same community: the post binds them."""

    model = SamplingPoint
    list_url = "/testing/points/"
    viewer = "sampler"
    outsider = "sampler_b"
    unrevealing = "sampler"

    def make_object(self, cast, grid):
        return with_round(cast).point_a

    def edit_data(self, cast, obj):
        return {
            "name": "九州广场采样点（东）",
            "area": cast.grid_a.pk,
            "address": "九州大道1号",
            "latitude": "36.061000",
            "longitude": "103.834000",
            "hours": "07:00–12:00",
            "staff": [cast.sampler.pk],
        }


def test_a_grid_worker_sees_the_districts_round_but_may_not_change_it(cast, rnd):
    client = cast.client_for(cast.grid_worker_b)
    assert rnd.campaign.name in client.get("/testing/").content.decode()
    page = client.get(rnd.campaign.get_absolute_url())
    assert page.status_code == 200
    assert b'data-testid="finish"' not in page.content
    assert client.post(reverse("testing:campaign_finish", args=[rnd.campaign.pk])).status_code == 403
    assert client.get(reverse("testing:campaign_edit", args=[rnd.campaign.pk])).status_code == 403


def test_the_round_page_shows_its_facts_points_tubes_and_coverage(cast, rnd):
    person = make_person(household=cast.household_a, name="王小明")
    make_person(household=cast.household_a, name="李四")
    fill(rnd, [person])
    page = cast.client_for(cast.commander).get(rnd.campaign.get_absolute_url())
    body = page.content.decode()
    assert page.status_code == 200
    assert "5 in 1" in body and rnd.point_a.name in body and rnd.desk_a2.name in body
    assert page.context["tube_counts"][0][2] == 1 and page.context["samples_today"] == 1
    head = page.context["coverage"]
    assert (head["expected"], head["sampled"], head["missed"]) == (2, 1, 1)
    assert page.context["coverage_node"] == cast.district
    # A grid worker sees their own grid's part of the district's round.
    mine = cast.client_for(cast.grid_worker_b).get(rnd.campaign.get_absolute_url())
    assert mine.context["coverage_node"] == cast.grid_b and mine.context["coverage"]["expected"] == 0


def test_a_sampler_sees_only_the_points_and_tubes_of_their_post(cast, rnd):
    person = make_person(household=cast.household_a)
    tube = fill(rnd, [person])
    other = cast.client_for(rnd.sampler_b)
    assert tube.barcode not in other.get("/testing/tubes/").content.decode()
    assert other.get(tube.get_absolute_url()).status_code == 404
    mine = cast.client_for(rnd.sampler)
    assert tube.barcode in mine.get("/testing/tubes/").content.decode()
    round_page = mine.get(rnd.campaign.get_absolute_url())
    assert [p.pk for p in round_page.context["points"]] == [rnd.point_a.pk]


# Creating rounds and their workflow


def test_a_new_round_copies_the_points_and_desks_of_the_organisers_last_round(cast, rnd):
    client = cast.client_for(cast.commander)
    form = client.get(reverse("testing:campaign_add")).context["form"]
    assert form.initial["copy_from"] == rnd.campaign.pk and form.initial["area"] == cast.district.pk
    response = client.post(
        reverse("testing:campaign_add"),
        campaign_fields(cast.district, copy_from=rnd.campaign.pk, areas=[cast.community.pk]),
    )
    new = Campaign.objects.exclude(pk=rnd.campaign.pk).get()
    assert response.status_code == 302 and response.url == new.get_absolute_url()
    assert new.copied_from == rnd.campaign and new.status == Campaign.Status.PLANNED
    assert sorted(new.points.values_list("name", flat=True)) == sorted([rnd.point_a.name, rnd.point_b.name])
    assert Desk.objects.filter(point__campaign=new).count() == 3
    assert list(new.points.get(area=cast.grid_a).staff.all()) == [rnd.sampler]
    assert list(new.areas.all()) == [cast.community]


def test_a_new_round_without_a_source_starts_empty_and_a_street_officer_organises_inside_the_street(
    cast, rnd
):
    client = cast.client_for(cast.street_officer)
    response = client.post(
        reverse("testing:campaign_add"), campaign_fields(cast.street, copy_from="", areas=[cast.community.pk])
    )
    new = Campaign.objects.get(area=cast.street)
    assert response.status_code == 302 and new.copied_from is None and not new.points.exists()
    # The district is no organiser for a street officer, nor a covered area outside the organiser.
    refused = client.post(reverse("testing:campaign_add"), campaign_fields(cast.district, name="越权"))
    assert refused.status_code == 200 and "area" in refused.context["form"].errors
    outside = client.post(
        reverse("testing:campaign_add"), campaign_fields(cast.grid_a, name="越界", areas=[cast.grid_b.pk])
    )
    assert "areas" in outside.context["form"].errors
    assert not Campaign.objects.filter(name__in=["越权", "越界"]).exists()
    assert cast.client_for(cast.community_officer).get(reverse("testing:campaign_add")).status_code == 403


def test_the_workflow_buttons_start_finish_and_reopen_with_a_note(cast, rnd):
    campaign = Campaign.objects.create(
        name="第三轮",
        area=cast.district,
        starts_at=timezone.now(),
        ends_at=timezone.now() + datetime.timedelta(days=1),
    )
    client = cast.client_for(cast.commander)
    assert b'data-testid="start"' in client.get(campaign.get_absolute_url()).content
    post(client, reverse("testing:campaign_start", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    post(client, reverse("testing:campaign_finish", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FINISHED
    # Reopening needs its note: the form comes back in place.
    bare = client.post(reverse("testing:campaign_reopen", args=[campaign.pk]), {"note": ""})
    assert bare.status_code == 400 and "note" in bare.context["step_forms"]["reopen"].errors
    post(client, reverse("testing:campaign_reopen", args=[campaign.pk]), {"note": "补检扫楼"})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert [(h.target, h.note) for h in history(campaign).order_by("id")][-1] == ("running", "补检扫楼")
    # A step that no longer applies says so.
    stale = post(client, reverse("testing:campaign_start", args=[campaign.pk]))
    assert any("does not apply" in m for m in messages_of(stale))
    # The street may not move the district's round.
    street = cast.client_for(cast.street_officer)
    assert street.post(reverse("testing:campaign_finish", args=[campaign.pk])).status_code == 403


# Points and desks


def test_a_community_officer_adds_a_point_with_its_samplers_and_desks(cast, rnd):
    client = cast.client_for(cast.community_officer)
    add = reverse("testing:samplingpoint_add", args=[rnd.campaign.pk])
    page = client.get(add)
    assert page.status_code == 200
    assert {u.pk for u in page.context["form"].fields["staff"].queryset} == {rnd.sampler.pk, rnd.sampler_b.pk}
    response = client.post(
        add, {"name": "社区卫生站", "area": cast.grid_a.pk, "hours": "全天", "staff": [rnd.sampler_b.pk]}
    )
    point = SamplingPoint.objects.get(name="社区卫生站")
    assert response.status_code == 302 and point.campaign == rnd.campaign
    assert list(point.staff.all()) == [rnd.sampler_b]
    # A user not posted as a sampler over the area is no choice.
    refused = client.post(add, {"name": "另一个", "area": cast.grid_a.pk, "staff": [cast.grid_worker.pk]})
    assert refused.status_code == 200 and "staff" in refused.context["form"].errors

    post(client, reverse("testing:desk_add", args=[point.pk]), {"name": "1号台", "is_active": "on"})
    desk = point.desks.get()
    duplicate = client.post(
        reverse("testing:desk_add", args=[point.pk]), {"name": "1号台", "is_active": "on"}
    )
    assert duplicate.status_code == 400 and point.desks.count() == 1
    post(client, reverse("testing:desk_update", args=[desk.pk]), {"name": "东1号台"})
    desk.refresh_from_db()
    assert (desk.name, desk.is_active) == ("东1号台", False)
    # A sampler works at desks; setting them up is the community's.
    sampler = cast.client_for(rnd.sampler)
    assert (
        sampler.post(reverse("testing:desk_add", args=[rnd.point_a.pk]), {"name": "3号台"}).status_code == 403
    )
    assert sampler.get(add).status_code == 403


# Tubes by hand and moves


def test_a_sampler_closes_reopens_and_seals_a_tube_and_refusals_come_back_as_messages(cast, rnd):
    person = make_person(household=cast.household_a, name="王小明", phone="+8613812345678")
    tube = fill(rnd, [person])
    client = cast.client_for(rnd.sampler)
    page = client.get(tube.get_absolute_url())
    body = page.content.decode()
    assert "王*明" in body and "王小明" not in body and person.masked_doc_number in body
    assert str(person.birth_year) in body and person.doc_number not in body
    assert {"close", "seal"} == set(page.context["steps"]) and page.context["move_form"] is None
    post(client, reverse("testing:tube_close", args=[tube.pk]))
    tube.refresh_from_db()
    assert tube.status == Tube.Status.CLOSED
    post(client, reverse("testing:tube_reopen", args=[tube.pk]))
    tube.refresh_from_db()
    assert tube.status == Tube.Status.OPEN and tube.closed_at is None
    post(client, reverse("testing:tube_seal", args=[tube.pk]))
    tube.refresh_from_db()
    assert tube.status == Tube.Status.SEALED and tube.sealed_at
    refused = post(client, reverse("testing:tube_reopen", args=[tube.pk]))
    assert any("Cannot go from" in m for m in messages_of(refused))

    full = fill(rnd, [make_person(household=cast.household_a) for _ in range(5)])
    assert full.status == Tube.Status.CLOSED
    refused = post(client, reverse("testing:tube_reopen", args=[full.pk]))
    assert "A full tube cannot be reopened." in messages_of(refused)
    # Posted elsewhere, or not a sampler: no buttons, and a POST is refused.
    assert (
        cast.client_for(rnd.sampler_b).post(reverse("testing:tube_close", args=[full.pk])).status_code == 404
    )
    officer = cast.client_for(cast.community_officer)
    assert officer.get(full.get_absolute_url()).context["steps"] == []
    assert officer.post(reverse("testing:tube_seal", args=[full.pk])).status_code == 403


def test_a_community_officer_moves_a_sample_with_a_reason(cast, rnd):
    a, b = (make_person(household=cast.household_a, name=n) for n in ("甲一", "乙二"))
    source = fill(rnd, [a, b])
    target = fill(rnd, [make_person(household=cast.household_a)], desk=rnd.desk_a2)
    client = cast.client_for(cast.community_officer)
    page = client.get(source.get_absolute_url())
    assert "甲一" in page.content.decode()  # who sees the registry sees names
    sample = source.samples.get(position=2)
    move = reverse("testing:sample_move", args=[source.pk])
    no_reason = client.post(move, {"sample": sample.pk, "to_tube": target.barcode, "reason": "  ."})
    assert no_reason.status_code == 400 and "reason" in no_reason.context["move_form"].errors
    unknown = client.post(move, {"sample": sample.pk, "to_tube": "NOSUCHTUBE", "reason": "扫错管"})
    assert "to_tube" in unknown.context["move_form"].errors
    done = post(client, move, {"sample": sample.pk, "to_tube": target.barcode.lower(), "reason": "扫错管"})
    assert any(target.barcode in m for m in messages_of(done))
    sample.refresh_from_db()
    source.refresh_from_db()
    target.refresh_from_db()
    assert sample.status == Sample.Status.MOVED and sample.moved_to.tube == target
    assert (source.count, target.count) == (1, 2)
    assert ObjectChange.objects.filter(object_id=str(sample.pk), reason="扫错管").exists()
    # Into a sealed tube: refused by the service, shown as a message; nothing moves.
    services.set_tube_status(rnd.sampler, target, Tube.Status.SEALED)
    first = source.samples.get(position=1)
    refused = post(client, move, {"sample": first.pk, "to_tube": target.barcode, "reason": "扫错管"})
    assert "The other tube is not open or is full." in messages_of(refused)
    first.refresh_from_db()
    assert first.status == Sample.Status.ACTIVE
    # Samplers scan; putting samples right is the community's.
    sampler = cast.client_for(rnd.sampler)
    assert (
        sampler.post(move, {"sample": first.pk, "to_tube": target.barcode, "reason": "x"}).status_code == 403
    )


def test_the_tube_list_filters_by_round_point_desk_status_and_barcode(cast, rnd):
    p = [make_person(household=cast.household_a) for _ in range(3)]
    one = fill(rnd, p[:1])
    two = fill(rnd, p[1:2], desk=rnd.desk_a2)
    services.set_tube_status(rnd.sampler, two, Tube.Status.SEALED)
    client = cast.client_for(cast.commander)

    def listed(query):
        page = client.get(f"/testing/tubes/?{query}")
        assert page.status_code == 200
        return {row.record.barcode for row in page.context["table"].page.object_list}

    assert listed("") == {one.barcode, two.barcode}
    assert listed("status=sealed") == {two.barcode}
    assert listed(f"point={rnd.point_a.pk}&desk={rnd.desk_a2.pk}") == {two.barcode}
    assert listed(f"barcode={one.barcode.lower()}") == {one.barcode}
    assert listed(f"barcode={one.barcode[-4:]}") == {one.barcode}
    assert listed(f"campaign={rnd.campaign.pk}&status=open") == {one.barcode}


# Export


def job_rows(cast, user, capture, data):
    client = cast.client_for(user)
    with capture(execute=True):
        response = client.post("/jobs/export/tubes/", data)
    assert response.status_code == 302
    job = Job.objects.filter(user=user).order_by("-created").first()
    assert job.status == Status.SUCCEEDED, job.message
    content = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_tube_export_is_masked_and_follows_the_lists_filters(
    cast, rnd, django_capture_on_commit_callbacks
):
    a = make_person(household=cast.household_a, name="王小明")
    b = make_person(household=cast.household_a, name="李四")
    tube = fill(rnd, [a, b])
    fill(rnd, [make_person(household=cast.household_a)], desk=rnd.desk_a2)
    rows = job_rows(
        cast, rnd.sampler, django_capture_on_commit_callbacks, {"query": f"barcode={tube.barcode}"}
    )
    assert [(r["管码"], r["序号"]) for r in rows] == [(tube.barcode, 1), (tube.barcode, 2)]
    first = rows[0]
    assert first["证件号码"] == a.masked_doc_number and first["姓名"] == "王*明"
    assert first["出生年份"] == a.birth_year and first["采样点"] == rnd.point_a.name
    # Full data: a role that may reveal, with a reason.
    full = job_rows(
        cast,
        cast.commander,
        django_capture_on_commit_callbacks,
        {"query": f"barcode={tube.barcode}", "unmasked": "on", "reason": "核对送检"},
    )
    assert [r["证件号码"] for r in full] == [a.doc_number, b.doc_number]
    # A sampler posted elsewhere exports nothing of point A.
    assert job_rows(cast, rnd.sampler_b, django_capture_on_commit_callbacks, {"query": ""}) == []


# Chinese


def test_the_round_page_renders_in_chinese(cast, rnd, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    body = cast.client_for(cast.commander).get(rnd.campaign.get_absolute_url()).content.decode()
    for text in ("采样点", "结束本轮", "今日采样", "覆盖率"):
        assert text in body, text
