"""Purchases 采购 paid from donated money: proposal → approval (pays) → receipt into a store, the
goods traced back to the donor's money; for money, received = allocated + spent + balance, never
overspent (also under concurrent approvals and allocations, on PostgreSQL); directed money buys for
its recipient only; the public table, the certificate, the exports; the pages and the API, scoped
through the generic mixins."""

import datetime
import decimal
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from epigrid.audit.models import ObjectChange
from epigrid.audit.services import history
from epigrid.jobs.exports import EXPORTS
from epigrid.supplies import services
from epigrid.supplies.models import DonationLine, Movement, Purchase, PurchaseFunding
from epigrid.supplies.pdf import certificate
from tests.scoping import ScopedAPITests, ScopedViewTests
from tests.supplies_cast import supplies
from tests.test_control_pdf import text_of
from tests.test_supplies_services import _race, postgres_only

D = decimal.Decimal
P = Purchase.Status
pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def identity_holds(line):
    """received = allocated + spent + balance for a donation line, from the ledger and its counters."""
    (row,) = services.allocation_table(DonationLine.objects.filter(pk=line.pk))
    line = row["line"]
    assert row["received"] == row["allocated"] + row["spent"] + row["in_stock"], row
    assert (line.allocated, line.spent) == (row["allocated"], row["spent"]), row
    return row


# -- the workflow ---------------------------------------------------------------------------------


def test_a_purchase_is_paid_on_approval_received_into_the_store_and_traced_to_the_donor(cast):
    s = supplies(cast)
    money = s.money(amount=20000)
    purchase = s.purchase(
        funding=[(money, D("3600"))],
        lines=[(s.mask, 1000, D("3.2")), (s.gown, 10, 40)],
        invoice="FP-0012",
    )
    assert purchase.status == P.SUBMITTED and purchase.total == D("3600")
    assert identity_holds(money)["spent"] == 0  # proposing pays nothing

    purchase = services.approve_purchase(s.street_b, purchase, note="三家比价")
    row = identity_holds(money)
    assert (row["spent"], row["in_stock"]) == (D("3600"), D("16400"))
    payment = Movement.objects.get(purchase=purchase, kind="purchase_payment")
    assert payment.quantity == D("-3600") and payment.donation_line == money and payment.store is None

    purchase = services.receive_purchase(s.keeper, purchase)
    assert purchase.status == P.RECEIVED and not purchase.has_discrepancy
    assert services.balance_from_ledger(s.gate, s.mask) == D("1000")
    # The masks at the gate lead back, row by row, to the chamber of commerce's money.
    goods = Movement.objects.get(store=s.gate, item=s.mask)
    assert goods.kind == "purchase_in" and goods.value == D("3200")
    assert [f.line.donation for f in goods.purchase_line.purchase.funding.all()] == [money.donation]
    # The public table shows what the money bought and where it went.
    (bought,) = identity_holds(money)["purchases"]
    assert bought.amount == D("3600") and bought.purchase.store == s.gate
    assert {(pl.item, pl.goods) for pl in bought.purchase.lines.all()} == {
        (s.mask, D("1000")),
        (s.gown, D("10")),
    }
    assert [h.target for h in history(purchase).order_by("pk")] == ["submitted", "approved", "received"]


def test_a_purchase_and_its_lines_are_in_the_change_log_filed_under_its_unit(cast):
    s = supplies(cast)
    purchase = services.approve_purchase(s.street_b, s.purchase(funding=[(s.money(), 300)]))
    changes = ObjectChange.objects.filter(
        content_type__model__in=("purchase", "purchaseline", "purchasefunding")
    )
    assert {c.content_type.model for c in changes} == {"purchase", "purchaseline", "purchasefunding"}
    assert {c.area_path for c in changes} == {cast.street.path}
    last = changes.filter(content_type__model="purchase", object_id=purchase.pk).order_by("pk").last()
    assert last.prechange_data["status"] == "submitted" and last.postchange_data["status"] == "approved"


def test_money_is_never_spent_twice_by_purchases_and_allocations(cast):
    s = supplies(cast)
    money = s.money(amount=10000)
    services.allocate(cast.street_officer, money, 4000, "九州社区", "发放防疫补贴")
    with pytest.raises(ValidationError) as over:  # 6,000 left
        s.purchase(funding=[(money, 7000)], lines=[(s.mask, 1000, 7)])
    assert over.value.code == "over"
    first = s.purchase(funding=[(money, 5000)], lines=[(s.mask, 1000, 5)])
    second = s.purchase(funding=[(money, 5000)], lines=[(s.kn95, 1000, 5)])
    services.approve_purchase(s.street_b, first)
    # Both fitted when proposed; only one fits when paid.
    with pytest.raises(ValidationError) as late:
        services.approve_purchase(s.street_b, second)
    assert late.value.code == "over"
    second.refresh_from_db()
    assert second.status == P.SUBMITTED and not second.movements.exists()
    with pytest.raises(ValidationError):  # 1,000 left: the allocation cannot take 1,001
        services.allocate(cast.street_officer, money, 1001, "九州社区", "再次补贴")
    row = identity_holds(money)
    assert (row["allocated"], row["spent"], row["in_stock"]) == (D("4000"), D("5000"), D("1000"))


def test_directed_money_buys_only_for_its_recipient(cast):
    s = supplies(cast)
    directed = s.money(number="JZ-D", amount=5000, directed_to="九州社区物资点")
    with pytest.raises(ValidationError) as refused:  # bought for the gate, not the community
        s.purchase(funding=[(directed, 300)])
    assert refused.value.code == "directed" and "九州社区物资点" in refused.value.messages[0]
    purchase = s.purchase(funding=[(directed, 300)], store=s.post)
    assert purchase.recipient_name == "九州社区物资点"
    services.approve_purchase(s.street_b, purchase)
    # Undirected money only is drawn for a pooled purchase: the directed gift stays its recipient's.
    pooled = s.purchase()
    with pytest.raises(ValidationError) as short:
        services.approve_purchase(s.street_b, pooled)
    assert short.value.code == "over"
    assert identity_holds(directed)["spent"] == D("300")


def test_a_pooled_purchase_draws_undirected_money_oldest_gift_first(cast):
    s = supplies(cast)
    newer = s.money(number="JZ-2", amount=10000, received_on=datetime.date(2026, 12, 5))
    older = s.money(number="JZ-1", amount=3000, received_on=datetime.date(2026, 12, 1))
    directed = s.money(
        number="JZ-3", amount=9000, directed_to="第一网格卡口", received_on=datetime.date(2026, 11, 1)
    )
    services.allocate(cast.street_officer, older, 1000, "九州社区", "补贴")
    purchase = s.purchase(lines=[(s.mask, 1000, 5)])  # 5,000 yuan, pooled
    assert purchase.pooled and not purchase.funding.exists()
    services.approve_purchase(cast.commander, purchase)
    drawn = dict(PurchaseFunding.objects.filter(purchase=purchase).values_list("line", "amount"))
    assert drawn == {older.pk: D("2000"), newer.pk: D("3000")}
    assert identity_holds(older)["in_stock"] == 0 and identity_holds(directed)["spent"] == 0


def test_the_proposer_never_approves_and_a_rejection_needs_a_reason(cast):
    s = supplies(cast)
    purchase = s.purchase(funding=[(s.money(), 300)])
    with pytest.raises(PermissionDenied):
        services.approve_purchase(cast.street_officer, purchase)
    with pytest.raises(PermissionDenied):  # no right to approve purchases
        services.approve_purchase(cast.community_officer, purchase)
    with pytest.raises(ValidationError):
        services.reject_purchase(s.street_b, purchase, " . ")
    purchase = services.reject_purchase(s.street_b, purchase, "单价高于市场价")
    assert purchase.status == P.REJECTED and purchase.decision_note == "单价高于市场价"
    with pytest.raises(ValidationError):
        services.approve_purchase(s.street_b, purchase)
    assert not Movement.objects.filter(kind="purchase_payment").exists()


def test_cancelling_a_paid_purchase_gives_the_money_back(cast):
    s = supplies(cast)
    money = s.money(amount=1000)
    purchase = services.approve_purchase(s.street_b, s.purchase(funding=[(money, 300)]))
    with pytest.raises(PermissionDenied):  # the keeper receives; they do not cancel
        services.cancel_purchase(s.keeper, purchase, "供应商缺货")
    with pytest.raises(ValidationError):
        services.cancel_purchase(s.street_b, purchase, "")
    purchase = services.cancel_purchase(s.street_b, purchase, "供应商缺货，无法供货")
    row = identity_holds(money)
    assert (row["spent"], row["in_stock"], row["purchases"]) == (0, D("1000"), [])
    rows = list(purchase.movements.order_by("id").values_list("quantity", "reason"))
    assert rows == [(D("-300"), "卡口口罩不足"), (D("300"), "供应商缺货，无法供货")]
    with pytest.raises(ValidationError):
        services.receive_purchase(s.keeper, purchase)


def test_a_receipt_other_than_ordered_needs_its_reason(cast):
    s = supplies(cast)
    purchase = services.approve_purchase(s.street_b, s.purchase(funding=[(s.money(), 300)]))
    line = purchase.lines.get()
    with pytest.raises(ValidationError):
        services.receive_purchase(s.keeper, purchase, {line.pk: (90, "")})
    assert not Movement.objects.filter(store=s.gate).exists()
    purchase = services.receive_purchase(s.keeper, purchase, {line.pk: (90, "一箱受潮")})
    line.refresh_from_db()
    assert purchase.has_discrepancy and line.received == D("90") and line.discrepancy_reason == "一箱受潮"
    assert services.balance_from_ledger(s.gate, s.mask) == D("90")


def test_only_the_keepers_of_the_store_receive_and_only_once_paid(cast):
    s = supplies(cast)
    purchase = s.purchase(funding=[(s.money(), 300)])
    with pytest.raises(ValidationError):  # not approved yet
        services.receive_purchase(s.keeper, purchase)
    services.approve_purchase(s.street_b, purchase)
    with pytest.raises(PermissionDenied):
        services.receive_purchase(s.keeper_b, purchase)
    services.receive_purchase(s.keeper, purchase)


@pytest.mark.parametrize(
    "change, code",
    [
        ({"funding": "short"}, "funding"),  # 200 named for 300
        ({"funding": "goods"}, "funding"),  # donated goods do not pay
        ({"funding": "elsewhere"}, "funding"),  # a grid's money for the street? received outside
        ({"funding": "both"}, "funding"),  # named money and the pool at once
        ({"lines": "twice"}, "lines"),
        ({"lines": "free"}, "quantity"),
        ({"supplier": ""}, "supplier"),
    ],
)
def test_bad_proposals_are_refused_whole(cast, change, code):
    s = supplies(cast)
    money = s.money()
    fields = {"funding": [(money, 300)], "area": cast.street}
    if change.get("funding") == "short":
        fields["funding"] = [(money, 200)]
    elif change.get("funding") == "goods":
        fields["funding"] = [(s.donation(number="JZ-G").lines.get(), 300)]
    elif change.get("funding") == "elsewhere":
        fields["area"] = cast.grid_a
    elif change.get("funding") == "both":
        fields["pooled"] = True
    if change.get("lines") == "twice":
        fields["lines"] = [(s.mask, 50, 3), (s.mask, 50, 3)]
    elif change.get("lines") == "free":
        fields["lines"] = [(s.mask, 100, 0)]
    if "supplier" in change:
        fields["supplier"] = change["supplier"]
    with pytest.raises(ValidationError) as refused:
        s.purchase(**fields)
    assert refused.value.code == code
    assert not Purchase.objects.exists() and not PurchaseFunding.objects.exists()


def test_the_certificate_lists_the_goods_bought_with_the_donors_money(cast):
    s = supplies(cast)
    money = s.money(amount=10000)
    purchase = s.purchase(funding=[(money, 300)], store=s.post)
    services.approve_purchase(s.street_b, purchase)
    services.receive_purchase(cast.community_officer, purchase)
    text = text_of(PdfReader(io.BytesIO(certificate(money.donation))))
    assert "您捐赠的资金采购的物资" in text
    assert "医用防护口罩" in text and "已入库九州社区物资点" in text and "300" in text


# -- concurrency (PostgreSQL) ---------------------------------------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_purchase_approvals_never_overspend_and_keep_the_identity(cast):
    s = supplies(cast)
    money = s.money(amount=10000)
    # Six purchases of 3,000 yuan (one drawn from the undirected pool), proposed by the system so
    # any officer may approve them; at most three fit.
    purchases = [
        s.purchase(funding=[(money, 3000)], lines=[(s.mask, 1000, 3)], by=None) for _n in range(5)
    ] + [s.purchase(lines=[(s.mask, 1000, 3)], by=None)]
    officers = [cast.street_officer, s.street_b, cast.commander]

    def approve(n):
        return lambda: services.approve_purchase(officers[n % 3], Purchase.objects.get(pk=purchases[n].pk))

    outcomes = _race([approve(n) for n in range(6)])
    paid = [o for o in outcomes if isinstance(o, Purchase)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(paid) == 3 and len(refused) == 3, outcomes
    assert {e.code for e in refused} == {"over"}
    row = identity_holds(money)
    assert (row["spent"], row["in_stock"]) == (D("9000"), D("1000"))
    assert Purchase.objects.filter(status=P.APPROVED).count() == 3
    assert Movement.objects.filter(kind="purchase_payment").count() == 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_purchases_and_cash_allocations_share_the_money_without_overspending(cast):
    s = supplies(cast)
    money = s.money(amount=10000)
    purchases = [s.purchase(funding=[(money, 3000)], lines=[(s.mask, 1000, 3)], by=None) for _n in range(4)]
    officers = [cast.street_officer, s.street_b, cast.commander]

    def approve(n):
        return lambda: services.approve_purchase(officers[n % 3], Purchase.objects.get(pk=purchases[n].pk))

    def allocate(n):
        return lambda: services.allocate(
            officers[n % 3], DonationLine.objects.get(pk=money.pk), 2500, f"第{n}社区", "并发补贴"
        )

    demands = [D("3000")] * 4 + [D("2500")] * 3
    outcomes = _race([approve(n) for n in range(4)] + [allocate(n) for n in range(3)])
    assert all(not isinstance(o, Exception) or o.code == "over" for o in outcomes), outcomes
    taken = sum((d for d, o in zip(demands, outcomes, strict=True) if not isinstance(o, Exception)), D(0))
    row = identity_holds(money)
    assert row["allocated"] + row["spent"] == taken <= D("10000")
    # Every refusal was right: what it asked no longer fitted in what was left.
    assert all(
        d > row["in_stock"] for d, o in zip(demands, outcomes, strict=True) if isinstance(o, Exception)
    )


# -- pages ----------------------------------------------------------------------------------------


class TestPurchasePages(ScopedViewTests):
    """Purchases are seen by their unit's officers and by the keepers of the store receiving the
    goods (bound): keeper_a keeps grid A's gate, keeper_b grid B's."""

    model = Purchase
    list_url = "/supplies/purchases/"
    viewer = unrevealing = "keeper_a"
    outsider = "keeper_b"

    def make_object(self, cast, grid):
        s = supplies(cast)
        cast.keeper_a, cast.keeper_b = s.keeper, s.keeper_b
        store = s.gate if grid == cast.grid_a else s.store(grid, code=f"P-{grid.code}")
        return s.purchase(store=store, area=grid, by=None, supplier=f"{grid.name}供应商")

    def list_text(self, obj):
        return obj.supplier

    def edit_data(self, cast, obj):
        return {"supplier": obj.supplier, "invoice": "FP-2026-0099", "purchased_on": "2026-12-02"}


def test_a_purchase_through_the_pages_from_the_donation_to_the_store(cast):
    s = supplies(cast)
    money = s.money(amount=20000)
    street = cast.client_for(cast.street_officer)
    page = street.get(money.donation.get_absolute_url(), **EN).content.decode()
    assert f"/supplies/purchases/add/?line={money.pk}" in page
    form = street.get(f"/supplies/purchases/add/?line={money.pk}").content.decode()
    assert f'<option value="{money.pk}" selected' in form
    response = street.post(
        "/supplies/purchases/add/",
        {
            "area": cast.street.pk,
            "supplier": "兰州某医药有限公司",
            "purchased_on": "2026-12-03",
            "store": s.gate.pk,
            "reason": "卡口口罩不足",
            "item_1": s.mask.pk,
            "quantity_1": "500",
            "price_1": "3",
            "fund_1": money.pk,
            "fund_amount_1": "1500",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    purchase = Purchase.objects.get()
    line = purchase.lines.get()
    # The proposer sees no approve button; another officer does and pays.
    assert 'data-testid="approve"' not in street.get(purchase.get_absolute_url()).content.decode()
    keeper = cast.client_for(s.keeper)
    assert keeper.post(f"/supplies/purchases/{purchase.pk}/approve/").status_code == 403
    other = cast.client_for(s.street_b)
    assert "1 purchase to approve" in other.get("/supplies/purchases/", **EN).content.decode()
    assert 'data-testid="to-decide"' not in street.get("/supplies/purchases/").content.decode()
    assert 'data-testid="approve"' in other.get(purchase.get_absolute_url()).content.decode()
    other.post(f"/supplies/purchases/{purchase.pk}/approve/", {"note": "同意"})
    page = keeper.get(purchase.get_absolute_url()).content.decode()
    assert 'data-testid="receive"' in page
    keeper.post(
        f"/supplies/purchases/{purchase.pk}/receive/",
        {f"received_{line.pk}": "480", f"reason_{line.pk}": "一箱破损"},
    )
    purchase.refresh_from_db()
    assert purchase.status == P.RECEIVED and purchase.has_discrepancy
    assert services.balance_from_ledger(s.gate, s.mask) == D("480")
    table = street.get("/supplies/allocations/table/", **EN).content.decode()
    assert "Spent on purchases" in table and "医用防护口罩（GB 19083-2010） 480只 → 第一网格卡口" in table
    detail = street.get(money.donation.get_absolute_url()).content.decode()
    assert purchase.get_absolute_url() in detail


def test_a_refusal_comes_back_as_a_message_and_writes_nothing(cast):
    s = supplies(cast)
    money = s.money(amount=1000)
    purchase = s.purchase(funding=[(money, 300)])
    services.allocate(cast.street_officer, money, 800, "九州社区", "补贴")  # 200 left
    client = cast.client_for(s.street_b)
    response = client.post(f"/supplies/purchases/{purchase.pk}/approve/", follow=True, **EN)
    assert "Only 200 yuan of the money of JZ-M1 is left." in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.status == P.SUBMITTED and not purchase.movements.exists()


def test_a_half_filled_purchase_form_is_refused_whole(cast):
    s = supplies(cast)
    money = s.money()
    response = cast.client_for(cast.street_officer).post(
        "/supplies/purchases/add/",
        {
            "area": cast.street.pk,
            "supplier": "某公司",
            "purchased_on": "2026-12-03",
            "store": s.gate.pk,
            "reason": "卡口口罩不足",
            "item_1": s.mask.pk,
            "quantity_1": "100",
            "price_1": "3",
            "item_2": s.kn95.pk,  # no quantity
            "fund_1": money.pk,
            "fund_amount_1": "300",
        },
    )
    assert response.status_code == 200 and not Purchase.objects.exists()


@pytest.mark.parametrize(
    "url", ["/supplies/purchases/", "/supplies/purchases/add/", "/supplies/purchases/?to_decide=true"]
)
def test_the_purchase_pages_open_for_the_street_officer(cast, url):
    s = supplies(cast)
    s.purchase(funding=[(s.money(), 300)], by=None)
    assert cast.client_for(cast.street_officer).get(url).status_code == 200


def test_grid_workers_see_no_purchases(cast):
    supplies(cast).purchase(by=None)
    client = cast.client_for(cast.grid_worker)
    assert client.get("/supplies/purchases/").status_code == 403
    assert client.get("/supplies/purchases/add/").status_code == 403


# -- API ------------------------------------------------------------------------------------------


class TestPurchaseAPI(ScopedAPITests):
    model = Purchase
    api_list_url = "/api/v1/purchases/"
    write_action = "reject"
    viewer = unrevealing = "keeper_a"
    outsider = "keeper_b"

    def make_object(self, cast, grid):
        return TestPurchasePages().make_object(cast, grid)

    def write_data(self, cast, obj):
        return {"reason": "单价过高"}


def test_a_purchase_through_the_api(cast):
    s = supplies(cast)
    money = s.money(amount=5000)
    api = TestPurchaseAPI().api_client
    response = api(cast.street_officer).post(
        "/api/v1/purchases/",
        {
            "area": cast.street.code,
            "supplier": "兰州某医药有限公司",
            "reason": "卡口口罩不足",
            "store": s.gate.code,
            "lines": [{"item": s.mask.code, "quantity": "200", "unit_price": "3"}],
            "funding": [{"line": money.pk, "amount": "600"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert (
        api(cast.street_officer).post(f"/api/v1/purchases/{pk}/approve/", {}, format="json").status_code
        == 403
    )
    approved = api(s.street_b).post(f"/api/v1/purchases/{pk}/approve/", {"note": "同意"}, format="json")
    assert approved.json()["status"] == "approved"
    line = approved.json()["lines"][0]["id"]
    received = api(s.keeper).post(
        f"/api/v1/purchases/{pk}/receive/",
        {"lines": [{"line": line, "quantity": "200"}]},
        format="json",
    )
    assert received.status_code == 200 and received.json()["status"] == "received"
    (row,) = [
        r for r in api(cast.street_officer).get("/api/v1/donations/table/").json() if r["line"] == money.pk
    ]
    assert D(row["spent"]) == D("600") and D(row["in_stock"]) == D("4400")
    assert row["purchases"][0]["goods"] == [{"item": s.mask.code, "quantity": "200.00", "received": "200.00"}]
    over = api(cast.street_officer).post(
        "/api/v1/purchases/",
        {
            "area": cast.street.code,
            "supplier": "某公司",
            "reason": "再买一批",
            "store": s.gate.code,
            "lines": [{"item": s.mask.code, "quantity": "2000", "unit_price": "3"}],
            "funding": [{"line": money.pk, "amount": "6000"}],
        },
        format="json",
    )
    assert over.status_code == 400 and Purchase.objects.count() == 1


# -- exports --------------------------------------------------------------------------------------


def test_the_purchase_exports_write_the_goods_and_the_money_that_paid(cast):
    s = supplies(cast)
    money = s.money(amount=5000)
    purchase = services.approve_purchase(s.street_b, s.purchase(funding=[(money, 300)]))
    services.receive_purchase(s.keeper, purchase)
    export = EXPORTS["supplies-purchases"](cast.street_officer)
    (row,) = export.rows(export.queryset(f"donation={money.donation.number}"))
    assert len(row) == len(export.headers)
    assert row[9:16] == ["MASK-19083", "医用防护口罩", "GB 19083-2010", "只", 100.0, 3.0, 300.0]
    assert row[18] == "JZ-M1 ¥300" and row[8] == "已入库"
    table = EXPORTS["supplies-allocation-table"](cast.street_officer)
    (money_row,) = list(table.rows(table.queryset("kind=money")))
    assert len(money_row) == len(table.headers)
    assert money_row[-3] == 300.0 and "医用防护口罩（GB 19083-2010） 100只 → 第一网格卡口" in money_row[-2]
    assert money_row[-1] == 4700.0
