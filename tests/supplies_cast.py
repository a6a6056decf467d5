"""Supplies additions to the cast (no tests here): two masks of different standards, a street
warehouse, a community post's store, a grid checkpoint's store with its warehouse keeper (bound),
and a keeper of grid B's store who must see nothing of grid A's."""

import datetime
import decimal

from epigrid.accounts.models import Grant, User
from epigrid.supplies import services
from epigrid.supplies.models import DonationLine, Item, Store

D = decimal.Decimal


class Supplies:
    def __init__(self, cast):
        self.cast = cast
        self.mask = Item.objects.create(
            code="MASK-19083", name="医用防护口罩", spec="GB 19083-2010", unit="只", area=cast.city
        )
        self.kn95 = Item.objects.create(
            code="MASK-KN95", name="KN95口罩", spec="GB 2626-2019", unit="只", area=cast.city
        )
        self.gown = Item.objects.create(
            code="GOWN", name="医用防护服", spec="GB 19082-2009", unit="套", area=cast.city
        )
        self.warehouse = Store.objects.create(
            code="W-STREET", name="九州街道物资库", kind=Store.Kind.WAREHOUSE, area=cast.street
        )
        self.post = Store.objects.create(code="S-COMM", name="九州社区物资点", area=cast.community)
        self.gate = self.store(cast.grid_a, "S-GATE-A", "第一网格卡口")
        self.keeper = User.objects.create_user("keeper_a", password="x")
        Grant.objects.create(user=self.keeper, role="warehouse_keeper", area=cast.street)
        self.gate.keepers.add(self.keeper)
        self.keeper_b = User.objects.create_user("keeper_b", password="x")
        Grant.objects.create(user=self.keeper_b, role="warehouse_keeper", area=cast.street)
        self.street_b = User.objects.create_user("street_b", password="x")
        Grant.objects.create(user=self.street_b, role="street_officer", area=cast.street)

    def store(self, grid, code=None, name=None):
        """A checkpoint's store in `grid`, kept by keeper_b when it is grid B's."""
        store = Store.objects.create(
            code=code or f"S-{grid.code}",
            name=name or f"{grid.name}卡口",
            kind=Store.Kind.CHECKPOINT,
            area=grid,
        )
        keeper_b = getattr(self, "keeper_b", None)
        if grid == self.cast.grid_b and keeper_b is not None:
            store.keepers.add(keeper_b)
        return store

    def stocked(self, store=None, item=None, on_hand=100, daily_use=20, min_days=3, max_days=7):
        store, item = store or self.gate, item or self.mask
        services.receive_stock(None, store, item, on_hand, reason="首批")
        return services.set_levels(None, store, item, daily_use, min_days, max_days)

    def requisition(self, store=None, quantity=200, by=None):
        store = store or self.gate
        return services.request(by or self.keeper, store, [(self.mask, quantity)], purpose="卡口三天用量")

    def donation(self, number="JZ-001", quantity=1000, money=None, directed_to="", **fields):
        cast = self.cast
        lines = [
            {"kind": DonationLine.Kind.GOODS, "item": self.mask, "quantity": quantity, "value": quantity * 5}
        ]
        if money:
            lines.append({"kind": DonationLine.Kind.MONEY, "quantity": money})
        donation, _created = services.register_donation(
            cast.street_officer,
            number=number,
            donor_name=fields.pop("donor_name", "兰州某医疗器械有限公司"),
            received_on=datetime.date(2026, 12, 1),
            area=cast.street,
            recipient_unit="九州街道疫情防控指挥部",
            store=self.warehouse,
            directed=bool(directed_to),
            directed_to=directed_to,
            lines=lines,
            **fields,
        )
        return donation

    def money(self, number="JZ-M1", amount=10000, directed_to="", received_on=None, area=None, **fields):
        """A gift of money only; its money line."""
        cast = self.cast
        donation, _created = services.register_donation(
            cast.street_officer,
            number=number,
            donor_name=fields.pop("donor_name", "兰州市某商会"),
            donor_kind=fields.pop("donor_kind", "organisation"),
            received_on=received_on or datetime.date(2026, 12, 1),
            area=area or cast.street,
            recipient_unit="九州街道疫情防控指挥部",
            directed=bool(directed_to),
            directed_to=directed_to,
            lines=[{"kind": DonationLine.Kind.MONEY, "quantity": amount}],
            **fields,
        )
        return donation.lines.get()

    def purchase(self, funding=None, lines=None, store=None, by="street_officer", area=None, **fields):
        """A purchase of masks (100 at 3 yuan by default) into grid A's gate, proposed by `by` (a
        cast name, a user, or None for the system): paid from `funding` [(money line, yuan)], or
        from undirected money if none."""
        cast = self.cast
        lines = lines or [(self.mask, 100, 3)]
        if funding is None:
            fields.setdefault("pooled", True)
        return services.propose_purchase(
            getattr(cast, by) if isinstance(by, str) else by,
            area=area or cast.street,
            supplier=fields.pop("supplier", "兰州某医疗器械有限公司"),
            reason=fields.pop("reason", "卡口口罩不足"),
            store=store or self.gate,
            lines=lines,
            funding=funding,
            **fields,
        )


def supplies(cast):
    found = getattr(cast, "supplies", None)
    if found is None:
        found = cast.supplies = Supplies(cast)
    return found
