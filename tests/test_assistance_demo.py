"""The demo's assistance requests: one half answered (the found persons in the key-person ledger
with the 协查 cleared, one "no such person"), one overdue on today's work; the demo roles see them."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.assistance.models import AssistPerson, AssistRequest


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_a_request_half_answered_and_one_overdue(demo):
    counts = demo["counts"]["assistance"]
    assert counts["requests"] == {"open": 2, "answered": 0} and counts["overdue"] == 1
    assert counts["persons"]["found"] == 2 == counts["key_persons"]
    assert counts["persons"]["no_such_person"] == 1 and counts["persons"]["pending"] == 5
    half = AssistRequest.objects.get(in_province=True)
    rows = list(half.persons.all())
    answered = [r for r in rows if r.is_answered]
    assert len(answered) * 2 == len(rows)
    for row in half.persons.filter(status="found"):
        entry = row.key_person
        assert entry.source == "assistance" and entry.assistance_cleared_at is not None
        assert entry.assistance_received_at == half.received_at


@pytest.mark.parametrize("username", ["demo_commander", "demo_street", "demo_community", "demo_grid"])
def test_the_demo_roles_see_the_requests(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    body = client.get("/assistance/persons/").content.decode()
    assert "暂无记录" not in body and "No records yet" not in body
    if username != "demo_grid":
        half = AssistRequest.objects.get(in_province=True)
        assert client.get(half.get_absolute_url()).status_code in (200, 404)
    today = client.get("/control/today/").content.decode()
    if username == "demo_grid":
        assert 'data-testid="assist-overdue"' in today


def test_the_demo_grid_worker_can_answer_a_pending_row(demo):
    worker = User.objects.get(username="demo_grid")
    row = AssistPerson.objects.restrict(worker, "change").filter(status="pending").order_by("pk").first()
    client = Client()
    client.force_login(worker)
    client.post(f"/assistance/persons/{row.pk}/answer/", {"answer": "found", "note": "已核实"})
    row.refresh_from_db()
    assert row.status in ("found", "not_traced")
