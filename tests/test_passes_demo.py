"""The demo's household passes: a controlled zone's households hold passes, with a few days of exits
and returns, one refusal (the window's exit was used), one person still out, a medical-visit pass,
and pages that show them to the demo's community officer and gate staff."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.control.services import zone_households
from epigrid.passes import services
from epigrid.passes.models import HouseholdPass, PassUse, PassWindow
from tests.scoping import assert_no_full_numbers


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_passes_for_a_controlled_zone_with_exits_and_returns(demo):
    counts = demo["counts"]["passes"]
    household_passes = HouseholdPass.objects.filter(kind="household")
    zone = household_passes.first().zone
    assert services.zone_is_controlled(zone)
    assert household_passes.count() == zone_households(zone).count() == counts["kinds"]["household"]
    assert counts["kinds"]["medical"] == 1
    assert counts["uses"]["exit_allowed"] > 5 and counts["uses"]["return_allowed"] > 5
    assert counts["refusals"] == {"quota_used": 1}
    assert counts["out_now"] <= 1
    # The windows never hold more exits than the rule allows.
    for window in PassWindow.objects.select_related("household_pass"):
        assert window.used <= window.household_pass.persons_per_window
        exits = PassUse.objects.filter(
            household_pass=window.household_pass, window_starts_on=window.starts_on, outcome="allowed"
        )
        assert exits.count() == window.used


def test_the_demo_prints_its_passes(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, stdout=out)
    assert "household passes" in out.getvalue()


@pytest.mark.parametrize("username", ["demo_community", "demo_commander", "demo_auditor"])
def test_every_pass_page_shows_data_to_the_demo_roles(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    household_pass = HouseholdPass.objects.filter(uses__isnull=False).first()
    for url in ("/passes/", "/passes/uses/", household_pass.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        if username == "demo_auditor":
            assert_no_full_numbers(body)
