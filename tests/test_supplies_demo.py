"""The demo's supplies: stock at posts with one below its minimum, requisitions in every state
(one received with a discrepancy), donations of money and goods with allocations, a money donation
partly spent on goods received into a store; the demo roles open the pages, the keeper only their
stores."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.supplies import services
from epigrid.supplies.models import DonationLine, Requisition, StockLevel, Store


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_supplies_at_every_stage(demo):
    counts = demo["counts"]["supplies"]
    assert counts["below_minimum"] == 1
    assert all(counts["requisitions"][s] >= 1 for s in Requisition.Status.values), counts["requisitions"]
    assert counts["discrepancies"] == 1 and counts["allocations"] >= 4
    assert counts["money_received"] > 0 and counts["goods_value"] > 0
    for level in StockLevel.objects.all():
        assert level.on_hand == services.balance_from_ledger(level.store, level.item)
    rows = services.allocation_table(DonationLine.objects.all())
    assert any(r["allocated"] for r in rows) and any(r["in_stock"] for r in rows)
    for row in rows:
        assert row["received"] == row["allocated"] + row["spent"] + row["in_stock"]


def test_the_demo_spends_part_of_a_money_donation_on_goods_received_into_a_store(demo):
    counts = demo["counts"]["supplies"]
    assert counts["purchases"]["received"] == 1 and counts["purchases"]["submitted"] == 1
    (row,) = [r for r in services.allocation_table(DonationLine.objects.all()) if r["purchases"]]
    assert 0 < row["spent"] < row["received"] and row["in_stock"] > 0  # partly spent
    assert counts["money_spent"] == float(row["spent"])
    (bought,) = row["purchases"]
    # The goods came into the store as ledger rows linked to the purchase lines.
    for line in bought.purchase.lines.all():
        (receipt,) = line.movements.all()
        assert receipt.kind == "purchase_in" and receipt.store == bought.purchase.store
        assert receipt.quantity == line.received == line.quantity


@pytest.mark.parametrize(
    "username",
    ["demo_commander", "demo_street", "demo_community", "demo_grid", "demo_auditor", "demo_warehouse_keeper"],
)
def test_the_demo_roles_open_the_supplies_pages(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    for url in ("/supplies/", "/supplies/stores/", "/supplies/requisitions/", "/supplies/movements/"):
        assert client.get(url).status_code == 200, url
    # Who sees the donations sees what their money bought; the others see neither.
    donations = client.get("/supplies/donations/").status_code
    assert donations in (200, 403) and client.get("/supplies/purchases/").status_code == donations


def test_the_demo_keeper_sees_only_their_stores(demo):
    keeper = User.objects.get(username="demo_warehouse_keeper")
    kept = set(keeper.kept_stores.values_list("pk", flat=True))
    assert kept and set(Store.objects.restrict(keeper).values_list("pk", flat=True)) == kept
