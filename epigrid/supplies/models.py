"""Supplies and donations 物资与捐赠 (decision 0037).

What: `Item`, the catalogue — one row per item *and specification*, so a medical protective mask
to GB 19083 and a KN95 mask to GB 2626 are two items, never one "N95" (the Red Cross table's
complaint). Where: `Store`, the stock held at a post (a checkpoint, sampling point, isolation site,
a community's room or a street's warehouse), linked to its place generically as rosters' `Post`
is. How much: `StockLevel`, one balance row per store and item with the daily use and the min/max
in *days* (OpenLMIS): days of cover = on hand ÷ daily use.

Every movement is one `Movement` row — receipt, issue, transfer, delivery and receipt of a
requisition, a receipt's discrepancy, a donation in, an allocation out or in, a count's
adjustment — written by `supplies.services` in the transaction that updates the balance row it
locked, so the balance always equals the sum of the ledger. `Requisition` 申领 (a post asks, the
level above approves, a store delivers, the post receives with discrepancies) and `Donation` with
its `DonationLine`s and `Allocation`s (who approved, why) ride on that ledger: for every donation
line received = allocated + in stock, read from the ledger for the public allocation table.
`Purchase` 采购 spends donated money on goods (its `PurchaseLine`s, paid by `PurchaseFunding` rows
of money lines): for money, received = allocated + spent + balance; the goods come into a store as
ledger rows linked to the purchase line, so they lead back to the donors' money.

The bound role `warehouse_keeper` reaches only the rows of the stores they keep (`keepers`)."""

import decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

ZERO = decimal.Decimal("0")


def quantity_field(label, **kwargs):
    # Counts of pieces and boxes, litres of disinfectant, yuan: one exact type for all of them.
    return models.DecimalField(label, max_digits=14, decimal_places=2, **kwargs)


# The bound role `warehouse_keeper` (accounts.roles.BOUND_ROLES) reaches the rows of the stores
# they keep; a requisition through either store it touches (the post's and the supplier's).
STORE_BINDING = {"warehouse_keeper": "keepers"}
AT_STORE_BINDING = {"warehouse_keeper": "store__keepers"}
REQUISITION_BINDING = {"warehouse_keeper": "stores__keepers"}
DONATION_BINDING = {"warehouse_keeper": "store__keepers"}
LINE_BINDING = {"warehouse_keeper": "donation__store__keepers"}
ALLOCATION_BINDING = {"warehouse_keeper": "line__donation__store__keepers"}
# A keeper sees the purchases whose goods come into a store they keep (they receive them).
PURCHASE_BINDING = {"warehouse_keeper": "store__keepers"}
PURCHASE_PART_BINDING = {"warehouse_keeper": "purchase__store__keepers"}


class Category(models.TextChoices):
    PPE = "ppe", _("Protective equipment")
    DISINFECTANT = "disinfectant", _("Disinfectant")
    TESTING = "testing", _("Testing supplies")
    MEDICINE = "medicine", _("Medicine")
    LIVING = "living", _("Daily necessities")
    OTHER = "other", _("Other")


class Item(ChangeLoggedModel):
    """A catalogue entry: an item to one specification (standard), counted in one unit."""

    code = models.CharField(_("item code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    spec = models.CharField(
        _("specification"), max_length=100, blank=True, help_text=_("Standard or model, e.g. GB 19083-2010.")
    )
    category = models.CharField(
        pgettext_lazy("supplies", "category"), max_length=16, choices=Category.choices, default=Category.PPE
    )
    unit = models.CharField(_("unit"), max_length=16, help_text=_("只, 个, 套, 瓶, 箱 …"))
    # Filed at the level that keeps the catalogue (the city, usually): everyone below sees it.
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("kept by")
    )
    is_active = models.BooleanField(_("in use"), default=True)

    scope_lookup = "area__path"
    scope_upward = True
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains", "code__startswith", "spec__contains")

    class Meta:
        verbose_name = _("supply item")
        verbose_name_plural = _("supply items")
        ordering = ["category", "name", "spec", "id"]

    def __str__(self):
        return f"{self.name}（{self.spec}）" if self.spec else self.name

    def get_absolute_url(self):
        return reverse("supplies:item_detail", args=[self.pk])


class Store(ChangeLoggedModel):
    """Stock held at a post: where supplies are received, kept and issued."""

    class Kind(models.TextChoices):
        CHECKPOINT = "checkpoint", _("Checkpoint")
        SAMPLING = "sampling", _("Sampling point")
        ISOLATION = "isolation", _("Isolation site")
        COMMUNITY = "community", _("Community")
        WAREHOUSE = "warehouse", _("Warehouse")

    code = models.CharField(_("store code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMMUNITY)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    # The place the store stands at, generically as rosters.Post (no import of the checkpoint,
    # testing or isolation apps): which model ("checkpoints.checkpoint"), its id, a label to show.
    place_type = models.CharField(_("place type"), max_length=64, blank=True)
    place_id = models.PositiveBigIntegerField(_("place id"), null=True, blank=True)
    place_label = models.CharField(_("place"), max_length=200, blank=True)
    keepers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="kept_stores", verbose_name=_("warehouse keepers")
    )
    is_active = models.BooleanField(_("in operation"), default=True)

    scope_lookup = "area__path"
    scope_binding = STORE_BINDING
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains", "code__startswith")

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["area__path", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["place_type", "place_id"],
                condition=Q(place_id__isnull=False),
                name="supplies_store_place_unique",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("supplies:store_detail", args=[self.pk])


class StockLevel(ChangeLoggedModel):
    """The balance of one item at one store, kept by the ledger's writer in the same transaction;
    `reserved` is the donated quantity here not yet allocated (it may leave only by allocation)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="levels", verbose_name=_("store"))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    on_hand = quantity_field(_("on hand"), default=ZERO)
    reserved = quantity_field(_("donated, not yet allocated"), default=ZERO)
    daily_use = quantity_field(_("daily use"), default=ZERO)
    min_days = models.DecimalField(
        _("minimum (days)"), max_digits=6, decimal_places=1, default=decimal.Decimal("3")
    )
    max_days = models.DecimalField(
        _("maximum (days)"), max_digits=6, decimal_places=1, default=decimal.Decimal("7")
    )
    counted_at = models.DateTimeField(_("last counted"), null=True, blank=True)

    scope_lookup = "store__area__path"
    scope_binding = AT_STORE_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["store__area__path", "store__name", "item__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "item"], name="supplies_stock_store_item_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="supplies_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(reserved__lte=F("on_hand")),
                name="supplies_stock_reserved_held",
            ),
            models.CheckConstraint(
                condition=Q(max_days__gte=F("min_days")), name="supplies_stock_max_over_min"
            ),
        ]

    def __str__(self):
        return f"{self.store} · {self.item}"

    def get_absolute_url(self):
        return reverse("supplies:store_detail", args=[self.store_id])

    @property
    def available(self):
        return self.on_hand - self.reserved

    @property
    def days_of_cover(self):
        """On hand ÷ daily use, to a tenth of a day; None while no daily use is set."""
        return days_of_cover(self.on_hand, self.daily_use)

    @property
    def below_min(self):
        return self.daily_use > 0 and self.on_hand < self.daily_use * self.min_days

    @property
    def to_order(self):
        """Up to the maximum (OpenLMIS: max stock = max periods × consumption), whole units."""
        wanted = self.daily_use * self.max_days - self.on_hand
        return max(ZERO, wanted.quantize(decimal.Decimal("1"), rounding=decimal.ROUND_CEILING))


def days_of_cover(on_hand, daily_use):
    if not daily_use:
        return None
    return (decimal.Decimal(on_hand) / decimal.Decimal(daily_use)).quantize(decimal.Decimal("0.1"))


def below_min_q(prefix=""):
    """The rows (of StockLevel, or through `prefix`) under their minimum: in SQL, no division."""
    return Q(**{f"{prefix}daily_use__gt": 0}) & Q(
        **{f"{prefix}on_hand__lt": F(f"{prefix}daily_use") * F(f"{prefix}min_days")}
    )


class Requisition(ChangeLoggedModel, WorkflowModel):
    """申领: a post asks its level above for supplies."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("requisition", "Awaiting approval")
        APPROVED = "approved", pgettext_lazy("requisition", "Approved")
        REJECTED = "rejected", pgettext_lazy("requisition", "Rejected")
        DELIVERED = "delivered", pgettext_lazy("requisition", "Delivered")
        RECEIVED = "received", pgettext_lazy("requisition", "Received")
        CANCELLED = "cancelled", pgettext_lazy("requisition", "Cancelled")

    class Priority(models.TextChoices):
        NORMAL = "normal", _("Normal")
        URGENT = "urgent", _("Urgent")

    OPEN = (Status.SUBMITTED, Status.APPROVED, Status.DELIVERED)
    TRANSITIONS = {
        Status.SUBMITTED: {Status.APPROVED, Status.REJECTED, Status.CANCELLED},
        Status.APPROVED: {Status.DELIVERED, Status.CANCELLED},
        Status.DELIVERED: {Status.RECEIVED},
    }

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="requisitions", verbose_name=_("requesting store")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    supplier = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supplied_requisitions",
        verbose_name=_("supplying store"),
    )
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivered by"),
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    carrier = models.CharField(_("driver and vehicle"), max_length=100, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    has_discrepancy = models.BooleanField(_("discrepancy on receipt"), default=False)
    # The stores the requisition touches (the post's, then the supplier's): the keepers' binding.
    stores = models.ManyToManyField(Store, blank=True, related_name="+", verbose_name=_("stores"))

    scope_lookup = "store__area__path"
    scope_binding = REQUISITION_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("requisition")
        verbose_name_plural = _("requisitions")
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("approve_requisition", "Can approve requisitions of the levels below"),
            ("deliver_requisition", "Can deliver requisitions from a store"),
            ("receive_requisition", "Can receive requisitions at a store"),
        ]

    def __str__(self):
        return f"申领 #{self.pk} {self.store}" if self.pk else str(self.store)

    def get_absolute_url(self):
        return reverse("supplies:requisition_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in self.OPEN


class RequisitionLine(models.Model):
    """One item of a requisition: asked, approved, delivered, received (and why not as delivered)."""

    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    requested = quantity_field(_("requested"))
    # What the post held when it asked: the approver sees why.
    on_hand_then = quantity_field(_("on hand when requested"), default=ZERO)
    cover_then = models.DecimalField(
        _("days of cover when requested"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    approved = quantity_field(_("approved"), null=True, blank=True)
    delivered = quantity_field(_("delivered"), null=True, blank=True)
    received = quantity_field(pgettext_lazy("quantity", "received"), null=True, blank=True)
    discrepancy_reason = models.CharField(_("reason for the difference"), max_length=200, blank=True)

    scope_lookup = "requisition__store__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("requisition line")
        verbose_name_plural = _("requisition lines")
        ordering = ["requisition", "id"]
        constraints = [
            models.UniqueConstraint(fields=["requisition", "item"], name="supplies_requisition_item_once"),
            models.CheckConstraint(condition=Q(requested__gt=0), name="supplies_requisition_line_positive"),
        ]

    def __str__(self):
        return f"{self.item} × {self.requested}"

    @property
    def difference(self):
        if self.received is None or self.delivered is None:
            return None
        return self.received - self.delivered


class Donation(ChangeLoggedModel):
    """A gift of money or goods (or both) received by a unit, directed to a named recipient or not."""

    class DonorKind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        ORGANISATION = "organisation", _("Organisation")
        INDIVIDUAL = "individual", _("Individual")

    number = models.CharField(_("donation number"), max_length=32, unique=True)
    donor_name = models.CharField(_("donor"), max_length=100)
    donor_kind = models.CharField(
        _("donor kind"), max_length=16, choices=DonorKind.choices, default=DonorKind.ENTERPRISE
    )
    # The donor's wish: published as 爱心人士 in the allocation table, named on the certificate.
    anonymous = models.BooleanField(_("publish anonymously"), default=False)
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("receiving level")
    )
    recipient_unit = models.CharField(_("recipient unit"), max_length=100)
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations",
        verbose_name=_("goods kept at"),
    )
    directed = models.BooleanField(_("directed"), default=False)
    directed_to = models.CharField(_("directed to"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_lookup = "area__path"
    scope_binding = DONATION_BINDING
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("number__startswith", "donor_name__contains")

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(directed=False) | ~Q(directed_to=""), name="supplies_directed_names_recipient"
            )
        ]

    def __str__(self):
        return f"{self.number} {self.donor_name}"

    def get_absolute_url(self):
        return reverse("supplies:donation_detail", args=[self.pk])

    @property
    def public_donor(self):
        return "爱心人士" if self.anonymous else self.donor_name


class DonationLine(ChangeLoggedModel):
    """Money (the quantity is yuan) or goods of one item spec; `allocated` (and, for money, `spent`
    on purchases) is kept with the ledger under the line's row lock, so allocations and purchases
    together can never pass the quantity received."""

    class Kind(models.TextChoices):
        MONEY = "money", _("Money")
        GOODS = "goods", _("Goods")

    donation = models.ForeignKey(
        Donation, on_delete=models.CASCADE, related_name="lines", verbose_name=_("donation")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.GOODS)
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("item")
    )
    quantity = quantity_field(_("quantity"))
    value = quantity_field(_("value (yuan)"), default=ZERO)
    allocated = quantity_field(_("allocated"), default=ZERO)
    # Money paid for purchases (decision 0037, addendum): received = allocated + spent + balance.
    spent = quantity_field(_("spent on purchases"), default=ZERO)

    scope_lookup = "donation__area__path"
    scope_binding = LINE_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("donation line")
        verbose_name_plural = _("donation lines")
        ordering = ["donation", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="supplies_donation_line_positive"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("quantity") - F("spent")),
                name="supplies_donation_not_over_allocated",
            ),
            models.CheckConstraint(
                condition=Q(spent__gte=0) & (Q(kind="money") | Q(spent=0)),
                name="supplies_donation_spent_money_only",
            ),
            models.CheckConstraint(
                condition=(Q(kind="money") & Q(item__isnull=True))
                | (Q(kind="goods") & Q(item__isnull=False)),
                name="supplies_donation_line_kind_item",
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.MONEY:
            return f"{self.donation.number} 资金 ¥{self.quantity}"
        return f"{self.donation.number} {self.item} × {self.quantity}"

    @property
    def remaining(self):
        return self.quantity - self.allocated - self.spent

    @property
    def unit(self):
        return "元" if self.kind == self.Kind.MONEY else self.item.unit


class Allocation(ChangeLoggedModel):
    """Part of a donation line given to a recipient, with who approved it and why."""

    line = models.ForeignKey(
        DonationLine, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("donation line")
    )
    quantity = quantity_field(_("quantity"))
    value = quantity_field(_("value (yuan)"), default=ZERO)
    recipient_name = models.CharField(_("recipient"), max_length=100)
    recipient_store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("into store")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    reason = models.CharField(_("reason"), max_length=300)
    at = models.DateTimeField(_("allocated at"), default=timezone.now)

    scope_lookup = "line__donation__area__path"
    scope_binding = ALLOCATION_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="supplies_allocation_positive")
        ]

    def __str__(self):
        return f"{self.line} → {self.recipient_name} × {self.quantity}"

    def get_absolute_url(self):
        return reverse("supplies:donation_detail", args=[self.line.donation_id])


class Purchase(ChangeLoggedModel, WorkflowModel):
    """采购: goods bought with donated money. Paid from named money lines (`funding`) or, when
    `pooled`, from the unit's undirected money drawn at approval (oldest gift first). Approval pays
    (the money lines' `spent` and a payment row each), the store receives the goods as ledger rows
    linked to the purchase line: the goods lead back to the donors' money."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("purchase", "Awaiting approval")
        APPROVED = "approved", pgettext_lazy("purchase", "Approved and paid")
        REJECTED = "rejected", pgettext_lazy("purchase", "Rejected")
        RECEIVED = "received", pgettext_lazy("purchase", "Received")
        CANCELLED = "cancelled", pgettext_lazy("purchase", "Cancelled")

    OPEN = (Status.SUBMITTED, Status.APPROVED)
    # The money of a purchase in these states is spent (claimed at approval, returned on cancelling).
    PAID = (Status.APPROVED, Status.RECEIVED)
    TRANSITIONS = {
        Status.SUBMITTED: {Status.APPROVED, Status.REJECTED, Status.CANCELLED},
        Status.APPROVED: {Status.RECEIVED, Status.CANCELLED},
    }

    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("purchasing unit")
    )
    supplier = models.CharField(_("supplier"), max_length=100)
    invoice = models.CharField(_("invoice or contract number"), max_length=64, blank=True)
    purchased_on = models.DateField(_("purchase date"), default=timezone.localdate)
    reason = models.CharField(_("reason"), max_length=300)
    recipient_name = models.CharField(_("bought for"), max_length=100)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("received into")
    )
    pooled = models.BooleanField(_("paid from undirected money"), default=False)
    total = quantity_field(_("total (yuan)"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    requested_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    has_discrepancy = models.BooleanField(_("discrepancy on receipt"), default=False)

    scope_lookup = "area__path"
    scope_binding = PURCHASE_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("approve_purchase", "Can approve purchases paid from donated money"),
            ("receive_purchase", "Can receive purchased goods at a store"),
        ]
        constraints = [models.CheckConstraint(condition=Q(total__gt=0), name="supplies_purchase_positive")]

    def __str__(self):
        return f"采购 #{self.pk} {self.supplier}" if self.pk else self.supplier

    def get_absolute_url(self):
        return reverse("supplies:purchase_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in self.OPEN


class PurchaseLine(ChangeLoggedModel):
    """One item bought: quantity at a unit price; what the store received (and why not as ordered)."""

    purchase = models.ForeignKey(
        Purchase, on_delete=models.CASCADE, related_name="lines", verbose_name=_("purchase")
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    quantity = quantity_field(_("quantity"))
    unit_price = quantity_field(_("unit price (yuan)"))
    amount = quantity_field(_("amount (yuan)"))
    received = quantity_field(pgettext_lazy("quantity", "received"), null=True, blank=True)
    discrepancy_reason = models.CharField(_("reason for the difference"), max_length=200, blank=True)

    scope_lookup = "purchase__area__path"
    scope_binding = PURCHASE_PART_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("purchase line")
        verbose_name_plural = _("purchase lines")
        ordering = ["purchase", "id"]
        constraints = [
            models.UniqueConstraint(fields=["purchase", "item"], name="supplies_purchase_item_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(unit_price__gt=0), name="supplies_purchase_line_positive"
            ),
        ]

    def __str__(self):
        return f"{self.item} × {self.quantity}"

    @property
    def goods(self):
        """What the donors' money bought: the quantity received, or ordered while on its way."""
        return self.quantity if self.received is None else self.received


class PurchaseFunding(ChangeLoggedModel):
    """The part of a purchase paid from one money line of a donation."""

    purchase = models.ForeignKey(
        Purchase, on_delete=models.CASCADE, related_name="funding", verbose_name=_("purchase")
    )
    line = models.ForeignKey(
        DonationLine, on_delete=models.PROTECT, related_name="funding", verbose_name=_("donated money")
    )
    amount = quantity_field(_("amount (yuan)"))

    scope_lookup = "purchase__area__path"
    scope_binding = PURCHASE_PART_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("purchase funding")
        verbose_name_plural = _("purchase funding")
        ordering = ["purchase", "line"]
        constraints = [
            models.UniqueConstraint(fields=["purchase", "line"], name="supplies_purchase_line_funds_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="supplies_purchase_funding_positive"),
        ]

    def __str__(self):
        return f"{self.purchase} ← {self.line.donation.number} ¥{self.amount}"


class Movement(ChangeLoggedModel):
    """One row of the one ledger. `quantity` is signed: into the store (or the fund, for money)
    positive, out negative; `balance_after` is the store's on-hand after it (none for money).
    A purchase pays with `purchase_payment` rows on money lines (negative; positive when a paid
    purchase is cancelled) and receives with `purchase_in` rows at its store, one per line."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        ISSUE = "issue", _("Issue")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        DELIVERY = "delivery", _("Requisition delivered")
        RECEIPT_REQ = "requisition_in", _("Requisition received")
        DISCREPANCY = "discrepancy", _("Receipt discrepancy")
        DONATION_IN = "donation_in", _("Donation in")
        ALLOCATION_OUT = "allocation_out", _("Allocation out")
        ALLOCATION_IN = "allocation_in", _("Allocation in")
        ADJUSTMENT = "adjustment", _("Count adjustment")
        PURCHASE_PAYMENT = "purchase_payment", _("Purchase paid")
        PURCHASE_IN = "purchase_in", _("Purchase received")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
        verbose_name=_("store"),
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("item")
    )
    quantity = quantity_field(_("quantity"))
    balance_after = quantity_field(_("balance after"), null=True, blank=True)
    value = quantity_field(_("value (yuan)"), null=True, blank=True)
    counterpart = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("other store"),
    )
    requisition = models.ForeignKey(
        Requisition, on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    donation_line = models.ForeignKey(
        DonationLine, on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    allocation = models.ForeignKey(
        Allocation, on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    # A purchase's payment rows (money lines, no store) and receipt rows (goods, per purchase line).
    purchase = models.ForeignKey(
        Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    purchase_line = models.ForeignKey(
        PurchaseLine, on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    scope_lookup = "area__path"
    scope_binding = AT_STORE_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["store", "item", "at"], name="supplies_movement_store_item"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.item or '资金'} {self.quantity:+}"

    def get_absolute_url(self):
        if self.store_id:
            return reverse("supplies:store_detail", args=[self.store_id])
        return reverse("supplies:donation_detail", args=[self.donation_line.donation_id])
