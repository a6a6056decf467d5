"""Shops-and-markets pages: the generic scope tests for outlets, baselines, the staff ledger,
inspections and the wildlife ledger; the outlet's masked phone and its reveal; the outlet page with
its report history and alerts; handling an alert; the trend; the inspector's phone page recording
an inspection that closes a point and the re-inspection that reopens it; the catalogue."""

from decimal import Decimal as D

import pytest
from django.utils import translation

from epigrid.audit.models import ObjectChange
from epigrid.markets import services
from epigrid.markets.models import Baseline, Closure, Inspection, Outlet, PriceAlert, ShopStaff, WildlifeCheck
from tests.markets_cast import PORK_NORMAL, day, markets, prices
from tests.scoping import ScopedViewTests, make_person

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def m(cast):
    return markets(cast)


def _outlet(cast, grid):
    m = markets(cast)
    return m.supermarket if grid == cast.grid_a else m.market


class TestOutletPages(ScopedViewTests):
    model = Outlet
    list_url = "/markets/"

    def make_object(self, cast, grid):
        return _outlet(cast, grid)

    def list_text(self, obj):
        return obj.name

    def edit_data(self, cast, obj):
        return {
            "name": obj.name,
            "kind": obj.kind,
            "area": obj.area.pk,
            "phone": obj.masked_phone,
            "monitored": "on",
        }


class TestBaselinePages(ScopedViewTests):
    model = Baseline
    list_url = "/markets/baselines/"

    def make_object(self, cast, grid):
        markets(cast)
        return Baseline.objects.create(commodity=markets(cast).pork, area=grid, price=D("13.50"))

    def list_text(self, obj):
        return "13.50"

    def edit_data(self, cast, obj):
        return {"commodity": obj.commodity.pk, "area": obj.area.pk, "price": "13.80"}


class TestShopStaffPages(ScopedViewTests):
    model = ShopStaff
    list_url = "/markets/staff/"

    def make_object(self, cast, grid):
        household = cast.household_a if grid == cast.grid_a else cast.household_b
        person = make_person(household=household, name="钱店员", phone="+8613700007777")
        return ShopStaff.objects.create(outlet=_outlet(cast, grid), person=person, position="理货员")

    def list_text(self, obj):
        return obj.outlet.name

    def edit_data(self, cast, obj):
        return {"position": "店长", "health": "normal", "active": "on"}


class TestInspectionPages(ScopedViewTests):
    model = Inspection
    list_url = "/markets/inspections/"

    def make_object(self, cast, grid):
        return Inspection.objects.create(
            outlet=_outlet(cast, grid), findings="顾客间距不足1.5米", result="rectify"
        )

    def list_text(self, obj):
        return obj.outlet.name

    def edit_data(self, cast, obj):
        return {"inspected_on": obj.inspected_on.isoformat(), "findings": "已整改"}


class TestWildlifeCheckPages(ScopedViewTests):
    model = WildlifeCheck
    list_url = "/markets/wildlife/"

    def make_object(self, cast, grid):
        return WildlifeCheck.objects.create(
            area=grid, site=f"{grid.name}养殖场", species="梅花鹿", count=5, checker="李四"
        )

    def list_text(self, obj):
        return obj.site

    def edit_data(self, cast, obj):
        return {
            "area": obj.area.pk,
            "site": obj.site,
            "species": obj.species,
            "count": 6,
            "check_date": obj.check_date.isoformat(),
            "checker": "李四",
        }


def test_the_outlet_phone_is_masked_and_revealed_with_a_reason(m, cast):
    body = cast.client_for(cast.grid_worker).get(m.supermarket.get_absolute_url()).content.decode()
    assert "138****2222" in body and "13811112222" not in body
    assert "13811112222" not in cast.client_for(cast.grid_worker).get("/markets/").content.decode()
    client = cast.client_for(cast.community_officer)
    url = f"/markets/outlets/{m.supermarket.pk}/reveal/"
    assert client.post(url, {"reason_choice": "", "reason": ""}).status_code == 400
    response = client.post(url, {"reason_choice": "", "reason": "核实供应情况"})
    assert "138 1111 2222" in response.content.decode() or "13811112222" in response.content.decode()
    assert ObjectChange.objects.filter(action="reveal", object_id=m.supermarket.pk).exists()
    assert cast.client_for(cast.grid_worker).post(url, {"reason": "看看"}).status_code == 403


def test_the_outlet_page_shows_its_reports_changes_and_alerts(m, cast):
    m.send(m.supermarket, day(2), PORK_NORMAL)
    m.send(m.supermarket, day(1), prices(pork=(500, "16.00", 5), eggs=(300, "5.00", 1)))
    with translation.override("en"):
        body = cast.client_for(cast.grid_worker).get(m.supermarket.get_absolute_url(), **EN).content.decode()
    assert "14.3%" in body
    assert body.count('data-testid="alert"') == 2
    assert "not reported" in body
    assert 'data-testid="completeness"' in body
    assert 'data-testid="send-report"' not in body  # a grid worker does not send reports
    officer = cast.client_for(cast.community_officer).get(m.supermarket.get_absolute_url()).content.decode()
    assert f"/reports/outlet_daily/s/{m.supermarket.pk}/" in officer
    fill = f"/reports/outlet_daily/s/{m.supermarket.pk}/{day(0).isoformat()}/"
    assert "猪肉价格" in cast.client_for(cast.community_officer).get(fill).content.decode()


def test_an_officer_handles_an_alert_from_its_page(m, cast):
    m.send(m.supermarket, day(1), prices(pork=(500, "14.00", 1)))
    alert = PriceAlert.objects.get()
    client = cast.client_for(cast.community_officer)
    assert (
        client.post(f"/markets/alerts/{alert.pk}/handle/", {"action_taken": "已协调补货"}).status_code == 302
    )
    alert.refresh_from_db()
    assert alert.status == "handled"
    assert (
        cast.client_for(cast.auditor)
        .post(f"/markets/alerts/{alert.pk}/handle/", {"action_taken": "x"})
        .status_code
        == 403
    )
    assert cast.client_for(cast.grid_worker_b).get(alert.get_absolute_url()).status_code == 404


def test_the_alerts_list_filters_open_alerts(m, cast):
    m.send(m.supermarket, day(1), prices(pork=(500, "14.00", 1)))
    body = cast.client_for(cast.grid_worker).get("/markets/alerts/?status=open").content.decode()
    assert m.supermarket.name in body
    assert (
        m.supermarket.name not in cast.client_for(cast.grid_worker_b).get("/markets/alerts/").content.decode()
    )


def test_the_trend_shows_the_mean_price_per_day_against_the_baseline(m, cast):
    services.set_baseline(cast.commander, m.pork, cast.district, price=D("12.00"))
    m.send(m.supermarket, day(1), prices(pork=(500, "15.00", 5)))
    body = cast.client_for(cast.commander).get("/markets/trend/?item=pork").content.decode()
    assert "15.00" in body and "25.0%" in body


def test_the_inspector_closes_a_point_and_reopens_it_from_the_phone_page(m, cast):
    client = cast.client_for(m.inspector)
    assert client.get("/markets/inspect/").status_code == 200
    response = client.post(
        "/markets/inspect/",
        {
            "outlet": m.poultry.pk,
            "inspected_on": day(2).isoformat(),
            "result": "closed",
            "findings": "违规销售活禽",
            "reinspect_due": day(0).isoformat(),
        },
    )
    assert response.status_code == 302
    closure = Closure.objects.get(outlet=m.poultry)
    assert 'data-testid="closure-card"' in client.get("/markets/inspect/").content.decode()
    response = client.post(
        f"/markets/closures/{closure.pk}/reinspect/",
        {"findings": "已消毒，无活禽", "reopen": "1", "reason": "符合条件", "next": "inspect"},
    )
    assert response.status_code == 302 and response["Location"].endswith("/markets/inspect/")
    closure.refresh_from_db()
    assert closure.status == "reopened"


def test_closing_needs_a_reason_on_the_phone_page(m, cast):
    response = cast.client_for(m.inspector).post(
        "/markets/inspect/", {"outlet": m.poultry.pk, "inspected_on": day(0).isoformat(), "result": "closed"}
    )
    assert response.status_code == 200
    assert not Closure.objects.exists()


def test_a_grid_worker_has_no_inspection_page(m, cast):
    assert cast.client_for(cast.grid_worker).get("/markets/inspect/").status_code == 403


def test_staff_are_added_by_document(m, cast):
    person = make_person(household=cast.household_a, name="孙理货")
    client = cast.client_for(cast.community_officer)
    response = client.post(
        "/markets/staff/add/",
        {"outlet": m.supermarket.pk, "doc_type": "111", "doc_number": person.doc_number, "health": "normal"},
    )
    assert response.status_code == 302
    assert ShopStaff.objects.get().person == person
    response = client.post(
        "/markets/staff/add/",
        {
            "outlet": m.supermarket.pk,
            "doc_type": "111",
            "doc_number": "11010519491231002X",
            "health": "normal",
        },
    )
    assert response.status_code == 200 and ShopStaff.objects.count() == 1


def test_the_catalogue_is_shown_and_edited_by_the_administrator(m, cast):
    assert "猪肉" in cast.client_for(cast.grid_worker).get("/markets/catalogue/").content.decode()
    assert cast.client_for(cast.grid_worker).get(f"/markets/catalogue/{m.pork.pk}/edit/").status_code == 403
    response = cast.client_for(cast.admin).post(
        f"/markets/catalogue/{m.pork.pk}/edit/",
        {
            "name": "猪肉",
            "unit": "斤",
            "spike_percent": "8",
            "short_stock_days": "3",
            "order": 4,
            "active": "on",
        },
    )
    assert response.status_code == 302
    m.pork.refresh_from_db()
    assert (m.pork.code, m.pork.spike_percent) == ("pork", D("8.0"))
