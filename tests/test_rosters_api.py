"""Roster API: the generic scope tests for staff, teams, posts, shifts and assignments; search
before create; phones masked; planning; assigning with the rules as 400s; check-in/out by the
person on duty only; gaps."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.rosters.models import Assignment, Post, Shift, StaffMember, Team
from tests.rosters_cast import duty, hours_from_now
from tests.scoping import ScopedAPITests


@pytest.fixture
def d(cast):
    return duty(cast)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _member(cast, grid):
    d = duty(cast)
    return d.volunteer if grid == cast.grid_a else d.other


def _post(cast, grid):
    d = duty(cast)
    return d.post_a if grid == cast.grid_a else d.post_b


class TestStaffAPI(ScopedAPITests):
    model = StaffMember
    api_list_url = "/api/v1/roster-staff/"

    def make_object(self, cast, grid):
        return _member(cast, grid)

    def write_data(self, cast, obj):
        return {"unit": "街道办"}


class TestTeamAPI(ScopedAPITests):
    model = Team
    api_list_url = "/api/v1/roster-teams/"

    def make_object(self, cast, grid):
        return Team.objects.create(name=f"{grid.name}专班", area=grid)

    def write_data(self, cast, obj):
        return {"duties": "夜间巡查"}


class TestPostAPI(ScopedAPITests):
    model = Post
    api_list_url = "/api/v1/roster-posts/"

    def make_object(self, cast, grid):
        return _post(cast, grid)

    def write_data(self, cast, obj):
        return {"needed": 3}


class TestShiftAPI(ScopedAPITests):
    model = Shift
    api_list_url = "/api/v1/roster-shifts/"

    def make_object(self, cast, grid):
        return duty(cast).shift(_post(cast, grid))

    def write_data(self, cast, obj):
        return {"notes": "交接"}


class TestAssignmentAPI(ScopedAPITests):
    model = Assignment
    api_list_url = "/api/v1/roster-assignments/"
    write_action = "check-in"

    def make_object(self, cast, grid):
        d = duty(cast)
        return d.on(d.shift(_post(cast, grid), start=hours_from_now(0.2)), _member(cast, grid))

    def write_data(self, cast, obj):
        return {}


def test_staff_are_found_before_created_and_phones_are_masked(cast, d):
    client = api(cast.community_officer)
    data = {"name": "李志愿", "phone": "13800001111", "kind": "volunteer", "area": cast.grid_a.code}
    response = client.post("/api/v1/roster-staff/", data, format="json")
    assert response.status_code == 200 and response.json()["id"] == d.volunteer.pk
    new = client.post(
        "/api/v1/roster-staff/", {**data, "phone": "13511112222", "name": "新志愿"}, format="json"
    )
    assert new.status_code == 201 and new.json()["masked_phone"] == "135****2222"
    assert "13511112222" not in new.content.decode() and "phone" not in new.json()
    bad = client.post("/api/v1/roster-staff/", {**data, "phone": "12"}, format="json")
    assert bad.status_code == 400 and "phone" in bad.json()


def test_a_post_plans_its_shifts_and_planning_twice_keeps_them(cast, d):
    client = api(cast.street_officer)
    day = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    first = client.post(
        f"/api/v1/roster-posts/{d.post_a.pk}/plan/", {"first_day": day, "days": 3}, format="json"
    )
    assert first.json() == {"created": 9, "kept": 0}
    again = client.post(
        f"/api/v1/roster-posts/{d.post_a.pk}/plan/", {"first_day": day, "days": 3}, format="json"
    )
    assert again.json() == {"created": 0, "kept": 9}
    assert (
        api(cast.auditor)
        .post(f"/api/v1/roster-posts/{d.post_a.pk}/plan/", {"first_day": day}, format="json")
        .status_code
        == 403
    )


def test_assigning_through_the_api_answers_the_rules_as_400(cast, d):
    client = api(cast.community_officer)
    shift = d.shift(needed=1)
    ok = client.post(
        "/api/v1/roster-assignments/", {"shift": shift.pk, "staff": d.volunteer.pk}, format="json"
    )
    assert ok.status_code == 201 and ok.json()["status"] == "planned"
    again = client.post(
        "/api/v1/roster-assignments/",
        {"shift": shift.pk, "staff": d.volunteer.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert again.status_code == 400 and "already on this shift" in str(again.json())
    full = client.post(
        "/api/v1/roster-assignments/",
        {"shift": shift.pk, "staff": d.cadre.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert full.status_code == 400 and "full" in str(full.json())
    # Outside one's scope the shift is not even a choice.
    other = d.shift(d.post_b)
    assert api(cast.grid_worker).post(
        "/api/v1/roster-assignments/", {"shift": other.pk, "staff": d.other.pk}, format="json"
    ).status_code in (400, 403)
    # Taking a planned person off.
    assert client.delete(f"/api/v1/roster-assignments/{ok.json()['id']}/").status_code == 204
    assert not Assignment.objects.filter(shift=shift).exists()


def test_check_in_and_out_through_the_api_by_the_person_on_duty(cast, d):
    row = d.on(d.shift(start=hours_from_now(0.2)), d.volunteer)
    assert (
        api(cast.community_officer).post(f"/api/v1/roster-assignments/{row.pk}/check-in/").status_code == 403
    )
    assert api(d.other_user).post(f"/api/v1/roster-assignments/{row.pk}/check-in/").status_code == 404
    mine = api(d.volunteer_user)
    answer = mine.post(f"/api/v1/roster-assignments/{row.pk}/check-in/")
    assert answer.status_code == 200 and answer.json()["status"] == "on_duty" and not answer.json()["late"]
    assert (
        mine.post(f"/api/v1/roster-assignments/{row.pk}/check-in/").json()["checked_in_at"]
        == answer.json()["checked_in_at"]
    )
    assert mine.post(f"/api/v1/roster-assignments/{row.pk}/check-out/").json()["status"] == "done"


def test_gaps_through_the_api_are_scoped(cast, d):
    a = d.shift(d.post_a, start=hours_from_now(2))
    d.on(a, d.volunteer)
    d.shift(d.post_b, start=hours_from_now(3))
    rows = api(cast.community_officer).get("/api/v1/roster-shifts/gaps/").json()
    assert {(r["post_name"], r["gap"]) for r in rows} == {(d.post_a.name, 1), (d.post_b.name, 2)}
    rows = api(cast.grid_worker).get("/api/v1/roster-shifts/gaps/").json()
    assert [(r["post_name"], r["gap"]) for r in rows] == [(d.post_a.name, 1)]
    rows = api(cast.commander).get(f"/api/v1/roster-shifts/gaps/?area={cast.grid_b.code}").json()
    assert [r["post_name"] for r in rows] == [d.post_b.name]
    listed = api(cast.community_officer).get(f"/api/v1/roster-shifts/{a.pk}/").json()
    assert (listed["needed"], listed["assigned"]) == (2, 1)
