"""The demo's shops and markets: outlets with two weeks of reports through the report forms, one
price spike and one short stock open today, a live-poultry point re-inspected and kept closed and
one reopened, shop staff from the registry, the wildlife ledger's 5 sites and 57 animals."""

import io

import pytest
from django.core.management import call_command

from epigrid.markets.models import Closure, Outlet, PriceAlert, ShopStaff
from epigrid.markets.reporting import report_form

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    import json

    with django_db_blocker.unblock():
        out = io.StringIO()
        call_command("demo", residents=300, seed=7, json=True, stdout=out)
        yield json.loads(out.getvalue())
        from tests.test_demo import wipe

        wipe()


def test_it_builds_outlets_with_two_weeks_of_reports(demo):
    counts = demo["counts"]["markets"]
    assert counts["outlets"]["supermarket"] == 2 and counts["outlets"]["live_poultry"] == 2
    assert counts["reports"] == report_form().submissions.count() >= 5 * 13
    assert report_form().submissions.values("day").distinct().count() == 14


def test_it_leaves_one_spike_and_one_short_stock_open(demo):
    open_alerts = set(PriceAlert.objects.filter(status="open").values_list("commodity__code", "kind"))
    assert open_alerts == {("pork", "day_spike"), ("pork", "baseline_spike"), ("eggs", "short_stock")}


def test_it_closes_poultry_points_and_reinspects_them(demo):
    assert set(Closure.objects.values_list("status", flat=True)) == {"kept_closed", "reopened"}
    assert not Outlet.objects.get(name="九州活禽交易点").is_open
    assert demo["counts"]["markets"]["wildlife_animals"] == 57
    assert ShopStaff.objects.count() == 8
