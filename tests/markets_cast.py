"""Shops-and-markets additions to the cast (no tests here): a supermarket in grid A and a farmers'
market in grid B, a live-poultry point in grid A, a market inspector of the community, the shipped
catalogue and outlet daily form (reloaded in a flushed database), and a helper to send reports."""

import datetime
from decimal import Decimal

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.markets import services
from epigrid.markets.models import Commodity, Outlet
from epigrid.reports.models import ReportForm
from tests.scoping import PASSWORD


def day(n):
    """n days before today (the reports cannot be sent for a day to come)."""
    return timezone.localdate() - datetime.timedelta(days=n)


def prices(**items):
    """Report values: prices(pork=(supply, price, stock_days), ...)."""
    values = {}
    for code, (supply, price, stock) in items.items():
        values[f"{code}_supply"] = supply
        values[f"{code}_price"] = price
        values[f"{code}_stock_days"] = stock
    return values


class Markets:
    def __init__(self, cast):
        self.cast = cast
        if not Commodity.objects.exists():
            services.load_catalogue()
        if not ReportForm.objects.filter(code="outlet_daily").exists():
            from epigrid.markets.reporting import FORM_FILE
            from epigrid.reports.services import load_shipped_forms

            load_shipped_forms(directory=FORM_FILE.parent)
        self.form = ReportForm.objects.get(code="outlet_daily")
        self.supermarket = Outlet.objects.create(
            name="九州大润发超市",
            kind="supermarket",
            area=cast.grid_a,
            address="九州大道88号",
            operator="大润发商业有限公司",
            contact="王经理",
            phone="+8613811112222",
        )
        self.market = Outlet.objects.create(
            name="二网格农贸市场", kind="farmers_market", area=cast.grid_b, phone="+8613833334444"
        )
        self.poultry = Outlet.objects.create(
            name="九州活禽交易点",
            kind="live_poultry",
            area=cast.grid_a,
            monitored=False,
            phone="+8613855556666",
        )
        self.inspector = User.objects.create_user("inspector", password=PASSWORD)
        Grant.objects.create(user=self.inspector, role="market_inspector", area=cast.community)
        self.pork = Commodity.objects.get(code="pork")
        cast.markets = self

    def send(self, outlet, when, values, user=None):
        return services.submit_report(user or self.cast.community_officer, outlet, when, values)


def markets(cast):
    return getattr(cast, "markets", None) or Markets(cast)


PORK_NORMAL = prices(pork=(500, "14.00", 5), eggs=(300, "5.00", 4))
D = Decimal
