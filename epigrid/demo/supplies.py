"""The demo district's supplies and donations 物资与捐赠.

- The catalogue, filed at the city: the medical protective mask to GB 19083 and the KN95 to GB 2626
  as two items, surgical masks, protective suits, goggles, gloves, 84 disinfectant, antigen kits.
- Stores: the showcase street's warehouse, the showcase community's store, and one at each of the
  community's checkpoints, its first sampling point and the district's first isolation site (linked
  generically to their place, as rosters' posts are); `demo_warehouse_keeper` keeps the community's
  store and the first checkpoint's.
- Stock with daily use and min/max in days, opened by a count and moved since: the first
  checkpoint's masks are below their minimum (about a day and a half of cover).
- Requisitions in every state: awaiting approval (from the low checkpoint), approved, rejected,
  delivered, received as delivered, received with a discrepancy (a damaged box), cancelled.
- Donations: an enterprise's masks and suits, a chamber of commerce's money, a directed gift of
  KN95 masks to the community's store, an anonymous individual's money; allocations with their
  approver and reason, one line still in stock — the public table shows received = allocated + in
  stock for every line.
- Purchases with donated money 采购: part of the chamber of commerce's money buys antigen kits and
  84 disinfectant, approved by the district and received into the community's store (the public
  table and the certificate show what it bought); a purchase from the undirected money for the low
  checkpoint awaits approval.

Every step goes through `supplies.services`, as the pages do. Deterministic: fixed orders and
quantities, no randomness."""

import datetime
import decimal

from django.db.models import Count, Sum
from django.utils import timezone

from epigrid.checkpoints.models import Checkpoint
from epigrid.isolation.models import Site
from epigrid.supplies import services
from epigrid.supplies.models import (
    Allocation,
    Donation,
    DonationLine,
    Item,
    Movement,
    Purchase,
    Requisition,
    StockLevel,
    Store,
    below_min_q,
)
from epigrid.testing.models import SamplingPoint

D = decimal.Decimal
H = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)

CATALOGUE = (
    ("MASK-GB19083", "医用防护口罩", "GB 19083-2010", "ppe", "只"),
    ("MASK-KN95", "KN95口罩", "GB 2626-2019 KN95", "ppe", "只"),
    ("MASK-SURG", "医用外科口罩", "YY 0469-2011", "ppe", "只"),
    ("SUIT-GB19082", "医用一次性防护服", "GB 19082-2009", "ppe", "套"),
    ("GOGGLES", "护目镜", "GB 14866-2006", "ppe", "副"),
    ("GLOVES", "一次性医用检查手套", "GB 10213-2006", "ppe", "副"),
    ("DISINF-84", "84消毒液", "500ml/瓶 有效氯5%", "disinfectant", "瓶"),
    ("AG-KIT", "新冠病毒抗原检测试剂", "胶体金法 1人份/盒", "testing", "人份"),
)
# (item code, opening count, daily use, min days, max days) at a post's store.
POST_STOCK = (
    ("MASK-GB19083", 400, 60, 3, 7),
    ("MASK-SURG", 1200, 150, 3, 7),
    ("SUIT-GB19082", 60, 8, 3, 7),
    ("DISINF-84", 40, 4, 5, 14),
)
WAREHOUSE_STOCK = (
    ("MASK-GB19083", 6000, 0, 0, 0),
    ("MASK-KN95", 3000, 0, 0, 0),
    ("MASK-SURG", 20000, 0, 0, 0),
    ("SUIT-GB19082", 800, 0, 0, 0),
    ("GOGGLES", 300, 0, 0, 0),
    ("GLOVES", 5000, 0, 0, 0),
    ("DISINF-84", 400, 0, 0, 0),
    ("AG-KIT", 10000, 0, 0, 0),
)


def build_supplies(district, community, users, now=None):
    now = now or timezone.now()
    commander, street_officer = users.get("district_commander"), users.get("street_officer")
    keeper, community_officer = users.get("warehouse_keeper"), users.get("community_officer")
    if None in (commander, street_officer, community_officer):
        return
    street = community.parent
    items = _catalogue(district.parent or district)
    warehouse = Store.objects.create(
        code=f"W-{street.code}", name=f"{street.name}物资储备库", kind="warehouse", area=street
    )
    posts = _stores(district, community)
    if keeper is not None:
        for store in posts[:2]:
            store.keepers.add(keeper)
    opened = now - 6 * DAY
    for code, count, *_levels in WAREHOUSE_STOCK:
        services.count(None, warehouse, items[code], count, at=opened)
    for index, store in enumerate(posts):
        for code, count, daily, low, high in POST_STOCK:
            services.count(None, store, items[code], count, at=opened)
            services.set_levels(None, store, items[code], daily, low, high)
            # Days of use since the count; the first store used more and is now under its minimum.
            used = daily * (5 if index == 0 and code == "MASK-GB19083" else 2)
            services.issue(None, store, items[code], min(used, count), reason="岗位领用", at=now - 2 * DAY)
    _requisitions(items, warehouse, posts, users, now)
    _donations(items, warehouse, posts, street, users, now)


def _catalogue(city):
    return {
        code: Item.objects.create(code=code, name=name, spec=spec, category=category, unit=unit, area=city)
        for code, name, spec, category, unit in CATALOGUE
    }


def _stores(district, community):
    stores = [
        Store.objects.create(
            code=f"S-{community.code}", name=f"{community.name}物资点", kind="community", area=community
        )
    ]
    gates = Checkpoint.objects.filter(area__path__startswith=community.path).order_by("id")[:2]
    for cp in gates:
        stores.insert(0, _store(cp, "checkpoint", "checkpoints.checkpoint", f"{cp.name}物资柜"))
    point = SamplingPoint.objects.filter(area__path__startswith=community.path).order_by("id").first()
    if point is not None:
        stores.append(_store(point, "sampling", "testing.samplingpoint", f"{point.name}物资柜"))
    site = Site.objects.filter(area__path__startswith=district.path).order_by("id").first()
    if site is not None:
        stores.append(_store(site, "isolation", "isolation.site", f"{site.name}物资库"))
    return stores


def _store(place, kind, place_type, name):
    return Store.objects.create(
        code=f"S-{kind[:3].upper()}-{place.pk}",
        name=name[:100],
        kind=kind,
        area=place.area,
        place_type=place_type,
        place_id=place.pk,
        place_label=place.name[:200],
    )


def _requisitions(items, warehouse, posts, users, now):
    street, commander, community = (
        users["street_officer"],
        users["district_commander"],
        users["community_officer"],
    )
    keeper = users.get("warehouse_keeper")
    kept = [p for p in posts if keeper is not None and p.keepers.filter(pk=keeper.pk).exists()]
    low = posts[0]
    home = next(p for p in posts if p.kind == "community")
    second = kept[1] if len(kept) > 1 else home
    mask, surg, suit, disinf = (items[c] for c in ("MASK-GB19083", "MASK-SURG", "SUIT-GB19082", "DISINF-84"))

    def ask(store, lines, hours_ago, purpose):
        user = keeper if store in kept else community
        return services.request(user, store, lines, purpose=purpose, at=now - hours_ago * H)

    def by(store):
        return keeper if store in kept else community

    # Awaiting approval: the low checkpoint asks for a week of masks.
    ask(low, [(mask, 420), (suit, 20)], 3, "防护口罩不足两天用量，申请补足一周")
    approved = ask(home, [(surg, 600)], 20, "核酸采样点加开一组")
    services.approve(street, approved, warehouse, note="明早随车发放", at=now - 18 * H)
    rejected = ask(home, [(items["GOGGLES"], 100)], 40, "护目镜更换")
    services.reject(street, rejected, "护目镜可重复消毒使用，现有数量够用", at=now - 36 * H)
    delivered = ask(second, [(disinf, 30)], 30, "环境消杀")
    services.approve(street, delivered, warehouse, at=now - 28 * H)
    services.deliver(street, delivered, carrier="甘A·D3721 李师傅", at=now - 4 * H)
    received = ask(home, [(mask, 200), (surg, 500)], 100, "常规补充")
    services.approve(commander, received, warehouse, at=now - 96 * H)
    services.deliver(street, received, carrier="甘A·D3721 李师傅", at=now - 80 * H)
    services.receive(by(home), received, at=now - 78 * H)
    short = ask(second, [(suit, 40)], 70, "防护服补充")
    line = short.lines.get()
    services.approve(street, short, warehouse, at=now - 66 * H)
    services.deliver(street, short, carrier="甘A·D3721 李师傅", at=now - 50 * H)
    services.receive(by(second), short, {line.pk: (38, "一箱外包装破损，2套污染")}, at=now - 49 * H)
    cancelled = ask(home, [(mask, 100)], 60, "重复提交")
    services.cancel(community, cancelled, "与上一单重复，撤销")


def _donations(items, warehouse, posts, street, users, now):
    officer, commander = users["street_officer"], users["district_commander"]
    day = timezone.localdate(now)
    # Not the low checkpoint: its request for masks still awaits approval on the board.
    home = next(p for p in posts if p.kind == "community")

    def register(number, donor, kind, days_ago, lines, **extra):
        donation, _created = services.register_donation(
            officer,
            number=number,
            donor_name=donor,
            donor_kind=kind,
            received_on=day - datetime.timedelta(days=days_ago),
            area=street,
            recipient_unit=f"{street.name}疫情防控指挥部",
            store=warehouse,
            lines=lines,
            at=now - days_ago * DAY,
            **extra,
        )
        return donation

    goods = register(
        f"JZ-{day:%Y}-001",
        "甘肃某医疗器械有限公司",
        "enterprise",
        5,
        [
            {"kind": "goods", "item": items["MASK-GB19083"], "quantity": 5000, "value": 17500},
            {"kind": "goods", "item": items["SUIT-GB19082"], "quantity": 300, "value": 24000},
        ],
    )
    money = register(
        f"JZ-{day:%Y}-002", "兰州市某商会", "organisation", 4, [{"kind": "money", "quantity": 200000}]
    )
    directed = register(
        f"JZ-{day:%Y}-003",
        "某科技有限公司",
        "enterprise",
        3,
        [{"kind": "goods", "item": items["MASK-KN95"], "quantity": 2000, "value": 6000}],
        directed=True,
        directed_to=posts[-1].name if len(posts) > 1 else posts[0].name,
    )
    register(
        f"JZ-{day:%Y}-004", "刘某某", "individual", 2, [{"kind": "money", "quantity": 5000}], anonymous=True
    )
    masks, suits = goods.lines.order_by("id")
    services.allocate(officer, masks, 1200, "", "社区物资点储备", recipient_store=home, at=now - 4 * DAY)
    services.allocate(commander, masks, 1500, "城关区集中隔离点", "隔离点医护防护", at=now - 3 * DAY)
    services.allocate(
        officer, suits, 120, "", "核酸采样点采样人员", recipient_store=posts[-1], at=now - 3 * DAY
    )
    services.allocate(
        commander, money.lines.get(), 80000, "城关区疫情防控指挥部", "统一采购抗原检测试剂", at=now - 2 * DAY
    )
    services.allocate(
        officer,
        directed.lines.get(),
        1500,
        "",
        "按捐赠方意愿定向",
        recipient_store=posts[-1],
        at=now - 2 * DAY,
    )
    _purchases(items, money.lines.get(), home, posts[0], street, users, now)


def _purchases(items, money, home, low, street, users, now):
    """Part of the chamber of commerce's money buys antigen kits and disinfectant, approved by the
    district and received into the community's store; a purchase from the undirected money for
    the low checkpoint awaits approval; one priced above the district's rate was rejected."""
    officer, commander = users["street_officer"], users["district_commander"]
    day = timezone.localdate(now)
    bought = services.propose_purchase(
        officer,
        area=street,
        supplier="兰州某医药有限公司",
        invoice=f"CG-{day:%Y}-001",
        purchased_on=day - datetime.timedelta(days=2),
        reason="社区物资点抗原试剂和消毒液不足，用商会捐款统一采购",
        store=home,
        lines=[(items["AG-KIT"], 2000, D("6.50")), (items["DISINF-84"], 300, D("12"))],
        funding=[(money, D("16600"))],
        at=now - 2 * DAY - 6 * H,
    )
    services.approve_purchase(commander, bought, note="已比对三家报价", at=now - 2 * DAY)
    services.receive_purchase(users["community_officer"], bought, at=now - DAY)
    services.propose_purchase(
        officer,
        area=street,
        supplier="某劳保用品商店",
        purchased_on=day,
        reason="卡口防护服补充",
        store=low,
        lines=[(items["SUIT-GB19082"], 40, D("75"))],
        pooled=True,
        at=now - 3 * H,
    )
    # Refused by the district with its reason: nothing paid, the money untouched.
    refused = services.propose_purchase(
        officer,
        area=street,
        supplier="某电子商贸公司",
        purchased_on=day - datetime.timedelta(days=1),
        reason="社区零星补充抗原试剂",
        store=home,
        lines=[(items["AG-KIT"], 100, D("9.80"))],
        funding=[(money, D("980"))],
        at=now - DAY - 5 * H,
    )
    services.reject_purchase(commander, refused, "单价高于区统一采购价，请按统一价重新询价", at=now - DAY - 2 * H)


def supplies_counts():
    statuses = dict(Requisition.objects.values_list("status").order_by().annotate(n=Count("pk")))
    money = DonationLine.objects.filter(kind="money").aggregate(n=Sum("quantity"))["n"] or D(0)
    goods = DonationLine.objects.filter(kind="goods").aggregate(n=Sum("value"))["n"] or D(0)
    spent = DonationLine.objects.filter(kind="money").aggregate(n=Sum("spent"))["n"] or D(0)
    purchases = dict(Purchase.objects.values_list("status").order_by().annotate(n=Count("pk")))
    return {
        "items": Item.objects.count(),
        "stores": Store.objects.count(),
        "stock_levels": StockLevel.objects.count(),
        "below_minimum": StockLevel.objects.filter(below_min_q()).count(),
        "movements": Movement.objects.count(),
        "requisitions": {k: statuses.get(k, 0) for k in Requisition.Status.values},
        "discrepancies": Requisition.objects.filter(has_discrepancy=True).count(),
        "donations": Donation.objects.count(),
        "money_received": float(money),
        "goods_value": float(goods),
        "allocations": Allocation.objects.count(),
        "purchases": {k: purchases.get(k, 0) for k in Purchase.Status.values},
        "money_spent": float(spent),
    }
