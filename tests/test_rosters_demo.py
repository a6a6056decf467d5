"""The demo's rosters: cadres and volunteers in the showcase community, teams (a 五包一 team linked
to a ledger entry), posts at the demo's checkpoints, sampling points, isolation site and duty room,
three shifts a day this week, past check-ins with one late, one absent and one forgotten check-out,
and a gap tonight; the demo roles see them, the duty staff their own shifts."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.rosters.models import Assignment, Post, Team


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_staff_posts_shifts_check_ins_and_a_gap_tonight(demo):
    counts = demo["counts"]["rosters"]
    assert counts["staff"]["cadre"] == 16 and counts["staff"]["volunteer"] == 18
    assert counts["posts"]["community"] == 1 and counts["posts"]["checkpoint"] >= 1
    assert counts["posts"]["sampling"] >= 1 and counts["posts"]["isolation"] == 1
    assert counts["shifts"] >= 7 * 3 * sum(counts["posts"].values())
    assert counts["assignments"]["absent"] == 1 and counts["late"] == 1 and counts["forgotten"] == 1
    assert counts["gap_tonight"] >= 1
    assert counts["five_for_one"] == 1
    team = Team.objects.get(kind="five_for_one")
    assert team.key_person is not None and team.members.count() == 5
    assert set(Post.objects.exclude(kind="community").values_list("place_type", flat=True)) == {
        "checkpoints.checkpoint",
        "testing.samplingpoint",
        "isolation.site",
    }


@pytest.mark.parametrize(
    "username", ["demo_commander", "demo_street", "demo_community", "demo_grid", "demo_auditor"]
)
def test_the_demo_roles_see_the_roster(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    for url in (
        "/rosters/",
        "/rosters/staff/",
        "/rosters/posts/",
        "/rosters/assignments/",
        "/rosters/hours/",
    ):
        assert client.get(url).status_code == 200, url


def test_the_demo_duty_staff_sees_their_own_shifts(demo):
    user = User.objects.get(username="demo_duty_staff")
    client = Client()
    client.force_login(user)
    page = client.get("/rosters/my/")
    assert page.status_code == 200
    mine = Assignment.objects.filter(staff__user=user)
    assert mine.exists()
    assert client.get("/rosters/assignments/").status_code == 200
    others = Assignment.objects.exclude(staff__user=user).first()
    assert client.get(others.shift.get_absolute_url()).status_code in (200, 404)
    assert client.get(f"/rosters/staff/{others.staff_id}/").status_code == 404
