"""Roster pages: the generic scope tests for staff, teams, posts and shifts; the roster with its
gaps; search before create; the masked phone and its reveal; planning and assigning from the
pages; "my shifts" with check-in and check-out; hours; the exports as jobs."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from epigrid.audit.models import ObjectChange
from epigrid.jobs.models import Job
from epigrid.rosters import services
from epigrid.rosters.models import Assignment, Post, Shift, StaffMember, Team
from tests.rosters_cast import duty, hours_from_now
from tests.scoping import ScopedViewTests

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def d(cast):
    return duty(cast)


def _member(cast, grid):
    d = duty(cast)
    return d.volunteer if grid == cast.grid_a else d.other


class TestStaffMemberPages(ScopedViewTests):
    model = StaffMember
    list_url = "/rosters/staff/"

    def make_object(self, cast, grid):
        return _member(cast, grid)

    def list_text(self, obj):
        return obj.name

    def edit_data(self, cast, obj):
        return {
            "name": obj.name,
            "phone": obj.masked_phone,
            "kind": obj.kind,
            "unit": "",
            "area": obj.area.pk,
            "active_from": "2020-01-01",
        }


class TestTeamPages(ScopedViewTests):
    model = Team
    list_url = "/rosters/teams/"

    def make_object(self, cast, grid):
        team = Team.objects.create(name=f"{grid.name}专班", kind="task_group", area=grid)
        team.members.add(_member(cast, grid))
        return team

    def edit_data(self, cast, obj):
        return {"name": obj.name + "（调整）", "kind": "task_group", "area": obj.area.pk, "members": []}


class TestPostPages(ScopedViewTests):
    model = Post
    list_url = "/rosters/posts/"

    def make_object(self, cast, grid):
        d = duty(cast)
        return d.post_a if grid == cast.grid_a else d.post_b

    def edit_data(self, cast, obj):
        return {
            "name": obj.name,
            "kind": obj.kind,
            "area": obj.area.pk,
            "needed": 3,
            "is_active": "on",
            "pattern_text": "08:00-20:00, 20:00-08:00",
        }


class TestShiftPages(ScopedViewTests):
    model = Shift
    list_url = "/rosters/shifts/"

    def make_object(self, cast, grid):
        d = duty(cast)
        return d.shift(d.post_a if grid == cast.grid_a else d.post_b)

    def list_text(self, obj):
        return obj.post.name

    def edit_data(self, cast, obj):
        return {"needed": 3, "notes": "交接：东门栏杆坏了"}


def test_the_roster_shows_the_next_24_hours_and_tonights_gaps(cast, d):
    evening, _morning = services.tonight()
    night = d.shift(d.post_a, start=evening + datetime.timedelta(minutes=1), hours=4, needed=2)
    d.on(night, d.volunteer)
    response = cast.client_for(cast.community_officer).get("/rosters/", **EN)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="gap"' in body and "1 of 2 missing" in body
    assert "1 place empty" in body
    assert d.post_a.name in body and d.post_b.name in body
    assert 'data-testid="grid-gap"' in body and d.volunteer.name in body


def test_the_roster_of_a_grid_worker_holds_only_their_grid(cast, d):
    d.shift(d.post_b, start=hours_from_now(1))
    body = cast.client_for(cast.grid_worker).get("/rosters/").content.decode()
    assert d.post_a.name in body and d.post_b.name not in body


def test_a_member_registered_again_opens_the_first_record(cast, d):
    client = cast.client_for(cast.community_officer)
    response = client.post(
        "/rosters/staff/add/",
        {
            "name": "李志愿",
            "phone": "13800001111",
            "kind": "volunteer",
            "area": cast.grid_a.pk,
            "active_from": "2026-01-01",
        },
        **EN,
    )
    assert response.status_code == 302 and response["Location"] == d.volunteer.get_absolute_url()
    assert StaffMember.objects.filter(phone="+8613800001111").count() == 1
    page = client.get(response["Location"], **EN).content.decode()
    assert "already registered in this area" in page


def test_a_new_member_is_saved_with_an_e164_phone_and_a_user(cast, d):
    from epigrid.accounts.models import User

    User.objects.create_user("sun_cadre", password="x")
    client = cast.client_for(cast.community_officer)
    response = client.post(
        "/rosters/staff/add/",
        {
            "name": "孙下沉",
            "phone": "139-1234-5678",
            "kind": "cadre",
            "unit": "市卫健委",
            "area": cast.grid_a.pk,
            "active_from": "2026-12-01",
            "username": "sun_cadre",
        },
    )
    assert response.status_code == 302
    member = StaffMember.objects.get(name="孙下沉")
    assert member.phone == "+8613912345678" and member.user.username == "sun_cadre"


def test_a_bad_phone_is_a_form_error(cast, d):
    response = cast.client_for(cast.community_officer).post(
        "/rosters/staff/add/",
        {
            "name": "某",
            "phone": "1234",
            "kind": "volunteer",
            "area": cast.grid_a.pk,
            "active_from": "2026-12-01",
        },
        **EN,
    )
    assert response.status_code == 200 and "not a valid phone number" in response.content.decode()


def test_the_phone_is_masked_and_revealed_with_a_reason_into_the_audit_log(cast, d):
    client = cast.client_for(cast.community_officer)
    page = client.get(d.volunteer.get_absolute_url()).content.decode()
    assert "138****1111" in page and "13800001111" not in page
    assert (
        client.post(reverse("rosters:staffmember_reveal", args=[d.volunteer.pk]), {"reason": ""}).status_code
        == 400
    )
    shown = client.post(
        reverse("rosters:staffmember_reveal", args=[d.volunteer.pk]),
        {"reason_choice": "", "reason": "联系换班事宜"},
    )
    assert "138 0000 1111" in shown.content.decode() or "13800001111" in shown.content.decode()
    assert ObjectChange.objects.filter(action="reveal", object_id=d.volunteer.pk).exists()
    # The grid worker has no reveal right: masked everywhere, reveal forbidden.
    grid = cast.client_for(cast.grid_worker)
    for url in ("/rosters/staff/", d.volunteer.get_absolute_url(), f"/rosters/staff/{d.volunteer.pk}/edit/"):
        assert "13800001111" not in grid.get(url).content.decode()
    assert (
        grid.post(
            reverse("rosters:staffmember_reveal", args=[d.volunteer.pk]), {"reason": "看看"}
        ).status_code
        == 403
    )


def test_a_masked_phone_sent_back_keeps_the_number(cast, d):
    client = cast.client_for(cast.community_officer)
    response = client.post(
        f"/rosters/staff/{d.volunteer.pk}/edit/",
        {
            "name": "李志愿",
            "phone": "138****1111",
            "kind": "volunteer",
            "area": cast.grid_a.pk,
            "active_from": "2020-01-01",
        },
    )
    assert response.status_code == 302
    d.volunteer.refresh_from_db()
    assert d.volunteer.phone == "+8613800001111"


def test_planning_and_assigning_from_the_pages_with_the_rules_as_messages(cast, d):
    client = cast.client_for(cast.community_officer)
    today = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        f"/rosters/posts/{d.post_a.pk}/plan/", {"first_day": today.isoformat(), "days": 2}, **EN
    )
    assert response.status_code == 302
    shifts = list(Shift.objects.filter(post=d.post_a).order_by("start"))
    assert len(shifts) == 6
    first = shifts[0]
    assert client.post(f"/rosters/shifts/{first.pk}/assign/", {"staff": d.volunteer.pk}).status_code == 302
    page = client.get(first.get_absolute_url(), **EN).content.decode()
    assert d.volunteer.name in page and "1/2" in page
    # The next shift starts as this one ends: refused with the reason shown.
    client.post(f"/rosters/shifts/{shifts[1].pk}/assign/", {"staff": d.volunteer.pk}, **EN)
    page = client.get(shifts[1].get_absolute_url(), **EN).content.decode()
    assert "rest less than 8 h" in page
    assert not Assignment.objects.filter(shift=shifts[1]).exists()
    # A read-only role cannot assign.
    assert (
        cast.client_for(cast.auditor)
        .post(f"/rosters/shifts/{first.pk}/assign/", {"staff": d.cadre.pk})
        .status_code
        == 403
    )


def test_my_shifts_checks_in_and_out_and_shows_late(cast, d):
    shift = d.shift(start=timezone.now() - datetime.timedelta(minutes=10))
    d.on(shift, d.volunteer, now=shift.start - datetime.timedelta(hours=1))
    later = d.shift(d.post_b, start=hours_from_now(20))
    d.on(later, d.volunteer)
    client = cast.client_for(d.volunteer_user)
    page = client.get("/rosters/my/", **EN).content.decode()
    assert page.count('data-testid="my-shift"') == 2
    assert page.count('data-testid="check-in"') == 1 and 'data-testid="opens-later"' in page
    row = Assignment.objects.get(shift=shift)
    response = client.post(f"/rosters/my/{row.pk}/check-in/", **EN)
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "on_duty" and row.late
    page = client.get("/rosters/my/", **EN).content.decode()
    assert 'data-testid="check-out"' in page and 'data-testid="late"' in page
    client.post(f"/rosters/my/{row.pk}/check-out/")
    row.refresh_from_db()
    assert row.status == "done"


def test_nobody_checks_in_for_someone_else(cast, d):
    row = d.on(d.shift(start=hours_from_now(0.2)), d.volunteer)
    assert cast.client_for(d.other_user).post(f"/rosters/my/{row.pk}/check-in/").status_code == 404
    assert cast.client_for(cast.community_officer).post(f"/rosters/my/{row.pk}/check-in/").status_code == 404


def test_duty_staff_see_only_their_own_shifts_and_posts(cast, d):
    mine = d.on(d.shift(d.post_a, start=hours_from_now(1)), d.volunteer)
    theirs = d.on(d.shift(d.post_b, start=hours_from_now(1)), d.other)
    client = cast.client_for(d.volunteer_user)
    assert client.get(mine.shift.get_absolute_url()).status_code == 200
    assert client.get(theirs.shift.get_absolute_url()).status_code == 404
    assert client.get(d.post_b.get_absolute_url()).status_code == 404
    assert client.get(d.other.get_absolute_url()).status_code == 404
    body = client.get("/rosters/assignments/").content.decode()
    assert d.volunteer.name in body and d.other.name not in body
    # They plan nothing.
    assert client.post(f"/rosters/shifts/{mine.shift.pk}/assign/", {"staff": d.cadre.pk}).status_code == 403


def test_a_user_without_a_staff_record_has_no_my_shifts_page(cast, d):
    assert cast.client_for(cast.grid_worker).get("/rosters/my/").status_code == 403


def test_hours_page_lists_planned_and_worked(cast, d):
    now = timezone.now()
    shift = d.shift(start=now - datetime.timedelta(hours=20))
    Assignment.objects.create(shift=shift, staff=d.volunteer, status="done", worked_minutes=420)
    body = cast.client_for(cast.community_officer).get("/rosters/hours/", **EN).content.decode()
    assert "Planned 8.0 h, worked 7.0 h." in body
    body = cast.client_for(cast.grid_worker_b).get("/rosters/hours/", **EN).content.decode()
    assert d.volunteer.name not in body


def test_the_roster_and_hours_export_as_excel_masked(cast, d, django_capture_on_commit_callbacks):
    now = timezone.now()
    shift = d.shift(start=now - datetime.timedelta(hours=20))
    Assignment.objects.create(shift=shift, staff=d.volunteer, status="done", worked_minutes=420, late=True)
    client = cast.client_for(cast.community_officer)
    rows = _export(client, "roster", django_capture_on_commit_callbacks)
    assert rows[0][:3] == ("日期", "岗位", "岗位类型")
    assert rows[1][1] == d.post_a.name and rows[1][6] == "李志愿" and rows[1][9] == "138****1111"
    assert rows[1][13] == "是" and rows[1][14] == 7
    rows = _export(client, "roster-hours", django_capture_on_commit_callbacks)
    assert rows[1][0] == "李志愿" and rows[1][5] == 8 and rows[1][6] == 7


def _export(client, name, capture):
    with capture(execute=True):
        assert client.post(reverse("jobs:export_start", args=[name]), {"query": ""}).status_code == 302
    job = Job.objects.filter(kind="export").order_by("-created").first()
    assert job.status == "succeeded", job.result
    return list(load_workbook(job.output_file.open("rb")).active.iter_rows(values_only=True))
