"""The demo's shops and markets: outlets with two weeks of reports through the report forms, one
price spike and one short stock open today, a live-poultry point re-inspected and kept closed and
one reopened, shop staff from the registry, the wildlife ledger's 5 sites and 57 animals; the
market inspector's demo login sees its phone page."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.markets.models import Closure, Outlet, PriceAlert, ShopStaff
from epigrid.markets.reporting import report_form


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=300, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_outlets_prices_alerts_closures_staff_and_wildlife(demo):
    counts = demo["counts"]["markets"]
    assert counts["outlets"]["supermarket"] == 2 and counts["outlets"]["live_poultry"] == 2
    assert counts["reports"] == report_form().submissions.count() >= 5 * 13
    assert report_form().submissions.values("day").distinct().count() == 14
    assert not report_form().submissions.filter(late=True).exists()
    open_alerts = set(PriceAlert.objects.filter(status="open").values_list("commodity__code", "kind"))
    assert open_alerts == {("pork", "day_spike"), ("pork", "baseline_spike"), ("eggs", "short_stock")}
    assert set(Closure.objects.values_list("status", flat=True)) == {"kept_closed", "reopened"}
    assert not Outlet.objects.get(name="九州活禽交易点").is_open
    assert counts["wildlife_sites"] == 5 and counts["wildlife_animals"] == 57
    assert ShopStaff.objects.count() == 8
    client = Client()
    client.force_login(User.objects.get(username="demo_market"))
    body = client.get("/markets/inspect/").content.decode()
    assert "九州活禽交易点" in body
