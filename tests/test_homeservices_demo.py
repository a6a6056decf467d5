"""The demo's resident services: special groups in the sealed building with today's checks,
requests of every kind in every state, one overdue, one added to; the volunteer's phone page."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.homeservices.kinds import Kind
from epigrid.homeservices.models import ServiceRequest


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_requests_of_every_kind_and_state(demo):
    counts = demo["counts"]["homeservices"]
    assert counts["kinds"] == len(Kind.values)
    assert set(counts["requests"]) == {s.value for s in ServiceRequest.Status}
    assert counts["overdue"] >= 1 and counts["added_to"] == 1
    assert counts["special_groups"] == 5 and counts["checks"] >= 5
    assert ServiceRequest.objects.filter(source="proactive", kind="hospital").exists()


def test_the_demo_volunteer_sees_their_requests_on_the_phone(demo):
    client = Client()
    client.force_login(User.objects.get(username="demo_volunteer"))
    page = client.get("/homeservices/mine/").content.decode()
    assert page.count('data-testid="my-request"') >= 2
    assert client.get("/homeservices/special/").status_code == 403
