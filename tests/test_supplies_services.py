"""Supplies services: days of cover, the ledger equal to the balance, requisitions approved by the
level above only, receipts with discrepancies, donations and allocations (received = allocated +
in stock), the certificate PDF."""

import decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from epigrid.audit.services import history
from epigrid.supplies import services
from epigrid.supplies.models import DonationLine, Movement, Requisition, StockLevel, days_of_cover
from epigrid.supplies.pdf import certificate
from tests.supplies_cast import supplies

D = decimal.Decimal
S = Requisition.Status
pytestmark = pytest.mark.django_db


def test_it_computes_days_of_cover_as_on_hand_over_daily_use():
    assert days_of_cover(D("100"), D("30")) == D("3.3")
    assert days_of_cover(D("100"), D("0")) is None


def test_it_flags_a_store_below_its_minimum_in_days(cast):
    s = supplies(cast)
    level = s.stocked(on_hand=50, daily_use=20, min_days=3, max_days=7)
    assert level.days_of_cover == D("2.5") and level.below_min
    assert level.to_order == D("90")  # up to 7 days × 20
    assert list(services.below_minimum(cast.commander)) == [level]
    services.receive_stock(None, s.gate, s.mask, 10)
    assert not StockLevel.objects.get(pk=level.pk).below_min
    assert not services.below_minimum(cast.commander).exists()


def test_the_balance_is_the_sum_of_the_ledger(cast):
    s = supplies(cast)
    s.stocked(on_hand=100)
    services.issue(s.keeper, s.gate, s.mask, 30, reason="早班")
    services.transfer(None, s.gate, s.post, s.mask, 20, reason="支援")
    services.count(s.keeper, s.gate, s.mask, 45, reason="盘点少5只")
    level = StockLevel.objects.get(store=s.gate, item=s.mask)
    assert level.on_hand == D("45") == services.balance_from_ledger(s.gate, s.mask)
    assert services.balance_from_ledger(s.post, s.mask) == D("20")
    kinds = list(Movement.objects.filter(store=s.gate).order_by("id").values_list("kind", flat=True))
    assert kinds == ["receipt", "issue", "transfer_out", "adjustment"]


def test_it_refuses_to_issue_more_than_on_hand(cast):
    s = supplies(cast)
    s.stocked(on_hand=10)
    with pytest.raises(ValidationError):
        services.issue(s.keeper, s.gate, s.mask, 11)
    assert services.balance_from_ledger(s.gate, s.mask) == D("10")


def test_a_count_that_differs_needs_a_reason_and_one_that_agrees_writes_nothing(cast):
    s = supplies(cast)
    s.stocked(on_hand=10)
    with pytest.raises(ValidationError):
        services.count(s.keeper, s.gate, s.mask, 8, reason="")
    assert services.count(s.keeper, s.gate, s.mask, 10) is None


def test_a_keeper_moves_stock_only_at_their_own_store(cast):
    s = supplies(cast)
    s.stocked(store=s.post)
    with pytest.raises(PermissionDenied):
        services.issue(s.keeper, s.post, s.mask, 1)
    with pytest.raises(PermissionDenied):
        services.issue(cast.grid_worker, s.gate, s.mask, 1)


# -- requisitions ---------------------------------------------------------------------------------


def test_a_requisition_goes_from_request_to_receipt_writing_the_ledger(cast):
    s = supplies(cast)
    s.stocked(on_hand=40)
    s.stocked(store=s.warehouse, on_hand=1000, daily_use=0)
    req = s.requisition(quantity=200)
    line = req.lines.get()
    assert line.on_hand_then == D("40") and line.cover_then == D("2.0")
    req = services.approve(cast.street_officer, req, s.warehouse, {line.pk: 150}, note="先发三天")
    assert req.status == S.APPROVED and req.supplier == s.warehouse and req.approver == cast.street_officer
    req = services.deliver(cast.street_officer, req, carrier="甘A·12345 王师傅")
    assert services.balance_from_ledger(s.warehouse, s.mask) == D("850")
    req = services.receive(s.keeper, req)
    assert req.status == S.RECEIVED and not req.has_discrepancy
    assert services.balance_from_ledger(s.gate, s.mask) == D("190")
    kinds = list(req.movements.order_by("id").values_list("kind", flat=True))
    assert kinds == ["delivery", "requisition_in"]
    assert [h.target for h in history(req).order_by("pk")] == [
        "submitted",
        "approved",
        "delivered",
        "received",
    ]


def test_only_the_level_above_approves(cast):
    s = supplies(cast)
    s.stocked(store=s.warehouse, on_hand=1000)
    community_req = services.request(cast.community_officer, s.post, [(s.mask, 10)])
    # The street's own officer approves the community's post; the community officer (no right) not.
    with pytest.raises(PermissionDenied):
        services.approve(cast.community_officer, community_req, s.warehouse)
    street_req = services.request(cast.street_officer, s.warehouse, [(s.mask, 10)])
    with pytest.raises(PermissionDenied):  # the street's own store: the district approves it
        services.approve(s.street_b, street_req, s.post)
    services.approve(cast.commander, street_req, s.post)
    services.approve(cast.street_officer, community_req, s.warehouse)


def test_nobody_approves_their_own_requisition(cast):
    s = supplies(cast)
    req = services.request(cast.street_officer, s.post, [(s.mask, 10)])
    with pytest.raises(PermissionDenied):
        services.approve(cast.street_officer, req, s.warehouse)
    services.approve(s.street_b, req, s.warehouse)


def test_a_rejection_needs_a_reason_and_ends_the_requisition(cast):
    s = supplies(cast)
    req = s.requisition()
    with pytest.raises(ValidationError):
        services.reject(cast.street_officer, req, " ")
    req = services.reject(cast.street_officer, req, "库存已下发，先调剂")
    assert req.status == S.REJECTED
    with pytest.raises(ValidationError):
        services.approve(cast.street_officer, req, s.warehouse)


def test_a_receipt_with_a_discrepancy_needs_its_reason_and_shows_in_the_ledger(cast):
    s = supplies(cast)
    s.stocked(store=s.warehouse, on_hand=1000)
    req = s.requisition(quantity=100)
    line = req.lines.get()
    services.approve(cast.street_officer, req, s.warehouse)
    services.deliver(cast.street_officer, req)
    with pytest.raises(ValidationError):
        services.receive(s.keeper, req, {line.pk: (90, "")})
    req = services.receive(s.keeper, req, {line.pk: (90, "一箱破损")})
    line.refresh_from_db()
    assert req.has_discrepancy and line.difference == D("-10") and line.discrepancy_reason == "一箱破损"
    rows = list(req.movements.filter(store=s.gate).order_by("id").values_list("kind", "quantity", "reason"))
    assert rows == [("requisition_in", D("100"), ""), ("discrepancy", D("-10"), "一箱破损")]
    assert services.balance_from_ledger(s.gate, s.mask) == D("90")


def test_a_delivery_cannot_pass_the_approved_quantity_or_the_supplier_stock(cast):
    s = supplies(cast)
    s.stocked(store=s.warehouse, on_hand=50)
    req = s.requisition(quantity=100)
    line = req.lines.get()
    services.approve(cast.street_officer, req, s.warehouse, {line.pk: 80})
    with pytest.raises(ValidationError):
        services.deliver(cast.street_officer, req, {line.pk: 90})
    with pytest.raises(ValidationError):  # only 50 in the warehouse
        services.deliver(cast.street_officer, req)
    req.refresh_from_db()
    assert req.status == S.APPROVED and not req.movements.exists()


def test_a_keeper_sees_requisitions_of_the_stores_they_keep(cast):
    s = supplies(cast)
    own = s.requisition()
    other = services.request(cast.community_officer, s.post, [(s.mask, 5)])
    assert list(Requisition.objects.restrict(s.keeper)) == [own]
    assert other in Requisition.objects.restrict(cast.street_officer)


# -- donations ------------------------------------------------------------------------------------


def test_a_donation_of_goods_and_money_enters_the_ledger_reserved(cast):
    s = supplies(cast)
    donation = s.donation(quantity=1000, money=50000)
    level = StockLevel.objects.get(store=s.warehouse, item=s.mask)
    assert level.on_hand == level.reserved == D("1000")
    money = donation.lines.get(kind=DonationLine.Kind.MONEY)
    assert money.movements.get().quantity == D("50000")
    # Donated goods not yet allocated do not leave by an ordinary issue.
    with pytest.raises(ValidationError):
        services.issue(None, s.warehouse, s.mask, 1)


def test_registering_the_same_number_again_changes_nothing(cast):
    s = supplies(cast)
    first = s.donation()
    again = s.donation()
    assert again == first and Movement.objects.filter(kind="donation_in").count() == 1


def test_allocations_keep_received_equal_to_allocated_plus_in_stock(cast):
    s = supplies(cast)
    donation = s.donation(quantity=1000, money=20000)
    goods = donation.lines.get(kind="goods")
    money = donation.lines.get(kind="money")
    services.allocate(cast.street_officer, goods, 300, "", "卡口缺口罩", recipient_store=s.gate)
    services.allocate(cast.street_officer, money, 5000, "九州社区", "采购消毒液")
    with pytest.raises(ValidationError):
        services.allocate(cast.street_officer, goods, 701, "九州社区", "超量")
    rows = {row["line"].pk: row for row in services.allocation_table(donation.lines.all())}
    assert (rows[goods.pk]["received"], rows[goods.pk]["allocated"], rows[goods.pk]["in_stock"]) == (
        D("1000"),
        D("300"),
        D("700"),
    )
    assert rows[money.pk]["allocated"] == D("5000") and rows[money.pk]["in_stock"] == D("15000")
    for row in rows.values():
        assert row["received"] == row["allocated"] + row["in_stock"]
    assert StockLevel.objects.get(store=s.warehouse, item=s.mask).reserved == D("700")
    assert services.balance_from_ledger(s.gate, s.mask) == D("300")
    assert rows[goods.pk]["allocations"][0].approved_by == cast.street_officer


def test_an_allocation_needs_a_reason_and_a_right_over_the_unit(cast):
    s = supplies(cast)
    goods = s.donation().lines.get()
    with pytest.raises(ValidationError):
        services.allocate(cast.street_officer, goods, 10, "九州社区", "")
    with pytest.raises(PermissionDenied):
        services.allocate(cast.community_officer, goods, 10, "九州社区", "社区需要")


def test_a_directed_donation_goes_to_its_named_recipient_only(cast):
    s = supplies(cast)
    goods = s.donation(directed_to="九州社区物资点").lines.get()
    with pytest.raises(ValidationError):
        services.allocate(cast.street_officer, goods, 100, "第一网格卡口", "就近")
    allocation = services.allocate(cast.street_officer, goods, 100, "", "定向捐赠", recipient_store=s.post)
    assert allocation.recipient_name == "九州社区物资点"


def test_the_certificate_is_a_pdf_naming_the_donor(cast):
    s = supplies(cast)
    donation = s.donation(money=10000)
    pdf = certificate(donation)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


# -- concurrency (PostgreSQL) ---------------------------------------------------------------------


def _race(workers):
    """Run the callables at once (a barrier), each on its own connection; their outcomes."""
    import threading

    from django.db import connection as conn

    barrier = threading.Barrier(len(workers))
    outcomes = [None] * len(workers)

    def run(index, fn):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = fn()
        except (ValidationError, PermissionDenied) as exc:
            outcomes[index] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


postgres_only = pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_never_over_allocate_and_keep_the_identity(cast):
    from epigrid.supplies.models import Allocation, DonationLine

    s = supplies(cast)
    donation = s.donation(quantity=1000, money=10000)
    goods = donation.lines.get(kind="goods")
    money = donation.lines.get(kind="money")
    officers = [cast.street_officer, s.street_b, cast.commander]

    def goods_to(n):
        return lambda: services.allocate(
            officers[n % 3], DonationLine.objects.get(pk=goods.pk), 300, f"第{n}卡口", "并发分配"
        )

    def money_to(n):
        return lambda: services.allocate(
            officers[n % 3], DonationLine.objects.get(pk=money.pk), 4000, f"第{n}社区", "并发分配"
        )

    outcomes = _race([goods_to(n) for n in range(6)] + [money_to(n) for n in range(4)])
    made = [o for o in outcomes if isinstance(o, Allocation)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(made) == 3 + 2 and len(refused) == 3 + 2, outcomes
    assert {e.code for e in refused} == {"over"}
    rows = {row["line"].pk: row for row in services.allocation_table(donation.lines.all())}
    assert rows[goods.pk]["allocated"] == D("900") and rows[goods.pk]["in_stock"] == D("100")
    assert rows[money.pk]["allocated"] == D("8000") and rows[money.pk]["in_stock"] == D("2000")
    for row in rows.values():
        assert row["received"] == row["allocated"] + row["in_stock"]
        assert row["line"].allocated == row["allocated"]
    level = StockLevel.objects.get(store=s.warehouse, item=s.mask)
    assert level.reserved == D("100") == level.on_hand == services.balance_from_ledger(s.warehouse, s.mask)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_cannot_take_the_same_last_boxes(cast):
    s = supplies(cast)
    s.stocked(on_hand=50)
    outcomes = _race([lambda: services.issue(s.keeper, s.gate, s.mask, 30, reason="领用") for _ in range(3)])
    assert sum(isinstance(o, Movement) for o in outcomes) == 1, outcomes
    assert StockLevel.objects.get(store=s.gate, item=s.mask).on_hand == D("20")
    assert services.balance_from_ledger(s.gate, s.mask) == D("20")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_approvers_cannot_both_decide_a_requisition(cast):
    s = supplies(cast)
    req = s.requisition()
    outcomes = _race(
        [
            lambda: services.approve(cast.street_officer, Requisition.objects.get(pk=req.pk), s.warehouse),
            lambda: services.reject(s.street_b, Requisition.objects.get(pk=req.pk), "库存不足"),
        ]
    )
    assert sum(isinstance(o, Requisition) for o in outcomes) == 1, outcomes
    assert history(Requisition.objects.get(pk=req.pk)).count() == 2
