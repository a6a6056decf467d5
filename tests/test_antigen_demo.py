"""The demo's antigen part: a round with kits for most households, reports in every state, two
positives with their follow-up and key-person entry, and data on every page of the demo roles."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.antigen.models import AntigenFollowUp, AntigenReport, AntigenRound, KitDistribution
from epigrid.areas.models import Household
from epigrid.control.models import KeyPerson


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_kits_reports_in_every_state_and_two_positives(demo):
    counts = demo["counts"]["antigen"]
    assert counts["rounds"] == 1
    assert (
        counts["households_with_kits"]
        >= 0.8 * Household.objects.filter(members__isnull=False).distinct().count()
    )
    assert counts["reports"]["negative"] > 50 and counts["reports"]["invalid"] >= 1
    assert counts["reports"]["positive"] == 2
    assert counts["follow_ups"] == {"open": 1, "sampled": 1, "done": 0, "cancelled": 0}
    for follow in AntigenFollowUp.objects.all():
        entry = KeyPerson.objects.get(pk=follow.key_person_id)
        assert (entry.person_id, entry.category, entry.status) == (follow.person_id, "suspected", "open")
    assert AntigenReport.objects.filter(result="invalid", retest_requested_at__isnull=False).exists()
    assert KitDistribution.objects.count() == counts["households_with_kits"]


@pytest.mark.parametrize("username", ["demo_grid", "demo_community", "demo_street", "demo_commander"])
def test_every_antigen_page_shows_data_to_the_demo_roles(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    rnd = AntigenRound.objects.get()
    for url in (
        "/antigen/",
        rnd.get_absolute_url(),
        f"/antigen/rounds/{rnd.pk}/completion/",
        "/antigen/reports/",
        "/antigen/kits/",
        "/antigen/followups/",
    ):
        response = client.get(url)
        assert response.status_code == 200, (username, url)
        body = response.content.decode()
        assert "暂无记录" not in body and "No records yet" not in body, (username, url)
    assert 'data-testid="follow-up-row"' in client.get("/antigen/").content.decode()


def test_the_demo_antigen_part_is_deterministic(db):
    def build():
        out = io.StringIO()
        call_command("demo", residents=300, seed=11, json=True, stdout=out)
        return json.loads(out.getvalue())["counts"]["antigen"]

    first = build()
    rows = sorted(AntigenReport.objects.values_list("person__doc_number", "result"))
    from tests.test_demo import wipe

    wipe()
    assert build() == first
    assert sorted(AntigenReport.objects.values_list("person__doc_number", "result")) == rows
