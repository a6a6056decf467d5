"""The demo district's shops and markets 保供稳价: the showcase community's monitored outlets with
two weeks of daily supply-and-price reports sent through the report forms, baselines that are the
mean of the first week, one price spike (pork at the supermarket today) and one short stock (eggs
at the farmers' market today); two live-poultry points closed, one re-inspected and kept closed,
one re-inspected and reopened; inspections; shop staff taken from the registry; the wildlife
ledger (the seed's 5 sites and 57 animals).

Every step goes through `markets.services` with the dates it would have had. Deterministic: prices
follow a fixed pattern, no randomness."""

import datetime
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from epigrid.areas.models import Area
from epigrid.markets import reporting, services
from epigrid.markets.models import (
    Baseline,
    Closure,
    Commodity,
    Inspection,
    Outlet,
    PriceAlert,
    ShopStaff,
    WildlifeCheck,
)
from epigrid.people.models import Person

DAYS = 14
# Base prices (yuan per unit), daily supply and stock days of a large outlet.
BASE = {
    "rice": ("2.80", 900, 30),
    "flour": ("2.50", 700, 30),
    "oil": ("14.00", 300, 28),
    "pork": ("13.80", 600, 6),
    "beef": ("38.00", 150, 5),
    "mutton": ("40.00", 120, 5),
    "chicken": ("11.00", 300, 5),
    "eggs": ("5.20", 500, 8),
    "milk": ("9.00", 250, 6),
    "veg": ("3.20", 1500, 3),
    "fruit": ("5.50", 800, 4),
}
# (name, kind, grid index, address, operator, contact, phone, size factor)
OUTLETS = [
    (
        "九州大润发超市",
        "supermarket",
        0,
        "九州大道88号",
        "大润发商业有限公司",
        "王经理",
        "+8613800138001",
        "1.0",
    ),
    (
        "华联生活超市",
        "supermarket",
        1,
        "北滨河路126号",
        "华联超市有限公司",
        "刘店长",
        "+8613800138002",
        "0.6",
    ),
    (
        "九州农贸市场",
        "farmers_market",
        0,
        "九州中路20号",
        "九州市场管理有限公司",
        "张主任",
        "+8613800138003",
        "1.4",
    ),
    (
        "城关蔬菜批发市场",
        "wholesale",
        1,
        "雁滩路300号",
        "城关农产品批发有限公司",
        "赵经理",
        "+8613800138004",
        "4.0",
    ),
    ("社区便民店", "shop", 0, "九州小区3号楼底商", "个体户李某", "李老板", "+8613800138005", "0.2"),
]
POULTRY = [
    ("九州活禽交易点", 0, "九州农贸市场东侧"),
    ("北滨河活禽销售点", 1, "北滨河路菜市场内"),
]
WILDLIFE = [
    ("九州特种养殖场", "梅花鹿", 12),
    ("九州孔雀养殖户", "孔雀", 9),
    ("北山养殖合作社", "雉鸡", 20),
    ("皋兰山竹鼠养殖场", "竹鼠", 8),
    ("城关观赏动物园", "猕猴", 8),
]


def _value(base, day_index, code, factor):
    """A price with a small weekly ripple (±2 %), supply scaled by the outlet's size."""
    price, supply, stock = BASE[code]
    ripple = Decimal((day_index % 5) - 2) / Decimal(100)
    return (
        str((Decimal(supply) * Decimal(factor)).quantize(Decimal("1"))),
        str((Decimal(price) * (1 + ripple) * base).quantize(Decimal("0.01"))),
        str(stock),
    )


def _values(outlet_index, factor, day_index, codes):
    # Wholesale a little cheaper, a small shop a little dearer: within the alerts' thresholds.
    base = {0: Decimal("1"), 1: Decimal("1.01"), 2: Decimal("0.99"), 3: Decimal("0.97"), 4: Decimal("1.02")}[
        outlet_index
    ]
    values = {}
    for code in codes:
        supply, price, stock = _value(base, day_index, code, factor)
        values.update({f"{code}_supply": supply, f"{code}_price": price, f"{code}_stock_days": stock})
    return values


def build_markets(showcase, users, today=None, now=None):
    """`showcase`: the showcase community (its grids get the outlets)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    officer, inspector = users.get("community_officer"), users.get("market_inspector")
    grids = list(Area.objects.filter(parent=showcase).order_by("path")[:2]) or [showcase]
    outlets = []
    for name, kind, grid, address, operator, contact, phone, factor in OUTLETS:
        outlet, _created = services.save_outlet(
            None,
            name=name,
            kind=kind,
            area=grids[grid % len(grids)],
            address=address,
            operator=operator,
            contact=contact,
            phone=phone,
        )
        outlets.append((outlet, factor))
    _reports(outlets, officer, today, now)
    _baselines(showcase.parent.parent if showcase.parent and showcase.parent.parent else showcase, today)
    services.evaluate_day(today, [o for o, _f in outlets])
    _closures(grids, inspector, today)
    _inspections(outlets, inspector, today)
    _staff(outlets, showcase)
    for site, species, count in WILDLIFE:
        services.record_wildlife(
            inspector,
            area=grids[0],
            site=site,
            species=species,
            count=count,
            check_date=today - datetime.timedelta(days=2),
            checker="城关区市场监管局 刘检查",
        )
    return [o for o, _f in outlets]


def _reports(outlets, officer, today, now):
    if reporting.report_form() is None:
        return
    codes = [c.code for c in Commodity.objects.filter(active=True)]
    for back in range(DAYS - 1, -1, -1):
        day = today - datetime.timedelta(days=back)
        sent = min(timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 30))), now)
        for index, (outlet, factor) in enumerate(outlets):
            values = _values(index, factor, DAYS - back, codes)
            if back == 0 and index == 0:
                values["pork_price"] = "17.80"  # the spike: +18 % on the supermarket's pork today
            if back == 0 and index == 2:
                values["eggs_stock_days"] = "1.5"  # the short stock: the market's eggs
            if back == 0 and index == 4:
                continue  # the small shop has not reported today
            reporting.submit(officer, outlet, day, values, now=sent)


def _baselines(district, today):
    """Per item, the district's baseline: the mean price of the first week of reports."""
    start = today - datetime.timedelta(days=DAYS - 1)
    for item in Commodity.objects.filter(active=True):
        try:
            services.set_baseline(
                None,
                item,
                district,
                period_from=start,
                period_to=start + datetime.timedelta(days=6),
                note="第一周均价",
            )
        except Exception:
            continue


def _closures(grids, inspector, today):
    d = datetime.timedelta
    points = []
    for name, grid, address in POULTRY:
        outlet, _created = services.save_outlet(
            None,
            name=name,
            kind="live_poultry",
            area=grids[grid % len(grids)],
            address=address,
            monitored=False,
        )
        points.append(outlet)
    kept = services.record_inspection(
        inspector,
        points[0],
        "closed",
        findings="活禽交易点按疫情防控要求暂停营业",
        inspected_on=today - d(10),
        reinspect_due=today - d(3),
    )
    closure = Closure.objects.get(outlet=kept.outlet, status="closed")
    services.reinspect(
        inspector,
        closure,
        "笼舍未彻底清洗消毒，环境样本待检",
        reopen=False,
        reason="消毒不到位，环境检测结果未出",
        on=today - d(3),
        next_due=today + d(1),
    )
    services.close_outlet(
        inspector,
        points[1],
        "环境样本检出阳性，立即关停消杀",
        closed_on=today - d(8),
        reinspect_due=today - d(2),
    )
    reopened = Closure.objects.get(outlet=points[1], status="closed")
    services.reinspect(
        inspector,
        reopened,
        "已全面消毒，两次环境样本阴性",
        reopen=True,
        reason="符合恢复营业条件",
        on=today - d(2),
    )


def _inspections(outlets, inspector, today):
    d = datetime.timedelta
    services.record_inspection(
        inspector, outlets[0][0], "compliant", findings="顾客间距1.5米标识齐全", inspected_on=today - d(1)
    )
    services.record_inspection(
        inspector,
        outlets[2][0],
        "rectify",
        findings="部分摊主未佩戴口罩，已当场督促",
        inspected_on=today - d(1),
        masks_ok=False,
    )


def _staff(outlets, showcase):
    persons = list(
        Person.objects.filter(area__path__startswith=showcase.path, merged_into__isnull=True).order_by("pk")[
            :8
        ]
    )
    positions = ["店长", "收银员", "理货员", "保洁员"]
    for i, person in enumerate(persons):
        outlet = outlets[i % 3][0]
        services.add_staff(
            None,
            outlet,
            person.doc_type,
            person.doc_number,
            position=positions[i % len(positions)],
            last_contact_on=timezone.localdate(),
        )


def markets_counts():
    """Outlets by kind, reports, alerts by kind and status, closures by status, staff, wildlife."""
    kinds = dict(Outlet.objects.values_list("kind").order_by().annotate(n=Count("pk")))
    alerts = dict(
        PriceAlert.objects.filter(status="open").values_list("kind").order_by().annotate(n=Count("pk"))
    )
    closures = dict(Closure.objects.values_list("status").order_by().annotate(n=Count("pk")))
    form = reporting.report_form()
    return {
        "outlets": {k: kinds.get(k, 0) for k in Outlet.Kind.values},
        "reports": form.submissions.count() if form else 0,
        "baselines": Baseline.objects.count(),
        "open_alerts": {k: alerts.get(k, 0) for k in PriceAlert.Kind.values},
        "closures": {k: closures.get(k, 0) for k in Closure.Status.values},
        "inspections": Inspection.objects.count(),
        "staff": ShopStaff.objects.count(),
        "wildlife_sites": WildlifeCheck.objects.values("site").distinct().count(),
        "wildlife_animals": sum(WildlifeCheck.objects.values_list("count", flat=True)),
    }
