"""The demo's supervision items: every state, two overdue and escalated (one on to the street),
one sent back, evidence photos; the demo roles see them, the grid worker has their items."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.supervision.models import Item


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_items_in_every_state(demo):
    counts = demo["counts"]["supervision"]
    assert set(counts["items"]) == {s.value for s in Item.Status}
    assert counts["overdue"] == 2 == counts["escalated"] and counts["sent_back"] == 1
    assert counts["photos"] >= 5
    levels = sorted(Item.objects.filter(escalation_level__gt=0).values_list("escalation_level", flat=True))
    assert levels == [1, 2]
    for item in Item.objects.filter(status="signed_off"):
        assert item.signed_off_by != item.responsible and item.photos.filter(kind="evidence").exists()


@pytest.mark.parametrize(
    "username", ["demo_commander", "demo_street", "demo_community", "demo_grid", "demo_auditor"]
)
def test_the_demo_roles_see_the_items(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    for url in ("/supervision/", "/supervision/stats/"):
        assert client.get(url).status_code == 200
    page = client.get("/supervision/?overdue=true").content.decode()
    assert "小区出入口无人值守" in page


def test_the_grid_worker_has_their_items_on_the_phone_page(demo):
    client = Client()
    client.force_login(User.objects.get(username="demo_grid"))
    page = client.get("/supervision/mine/").content.decode()
    assert page.count('data-testid="my-item"') == 6
