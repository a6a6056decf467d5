"""Shops and markets 保供稳价 (decision 0035).

What is watched: `Outlet` (a supermarket, farmers' market, wholesale market, shop or live-poultry
point in an area node, with its operator and a phone masked unless revealed). What is reported:
the outlet's daily supply-and-price report goes through the report forms of `reports` (the form
"outlet_daily", sent by outlets); `Commodity` is the catalogue of its items with each item's
alert thresholds, `Baseline` a price per item and area to compare with, `PriceAlert` what a
report raised (a spike against yesterday or the baseline, short stock) until someone handles it.
Who works there: `ShopStaff` (经营性门店人员管理台账) links an outlet to registry persons. What the
market inspector records: `Inspection`, `Closure` of a live-poultry point with its re-inspection
(closed → re-inspected → reopened or kept closed) and `WildlifeCheck` (野生动物 ledger).

Writes go through `markets.services`; every row is filed under its outlet's or its own area."""

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.core import identity
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

ITEM_CODE = r"^[a-z][a-z0-9]{0,19}$"


class Commodity(ChangeLoggedModel):
    """An item of the daily report (not scoped: the catalogue is the same everywhere). Its code
    names the report's fields `<code>_supply`, `<code>_price`, `<code>_stock_days`."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("name in English"), max_length=60, blank=True)
    unit = models.CharField(
        _("unit"), max_length=10, default="斤", help_text=_("Of supply and price, e.g. 斤, 公斤, 升.")
    )
    spike_percent = models.DecimalField(
        _("spike threshold (%)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("500"))],
        help_text=_("A price this many percent above yesterday's or the baseline raises an alert."),
    )
    short_stock_days = models.DecimalField(
        _("minimum stock (days)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("3"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("365"))],
        help_text=_("Stock below this many days of sales raises an alert."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("markets:commodity_edit", args=[self.pk])

    def clean(self):
        super().clean()
        if self.code and not re.match(ITEM_CODE, self.code):
            raise ValidationError({"code": _("Lower-case letters and digits, starting with a letter.")})


class Outlet(identity.PhoneFields, ChangeLoggedModel):
    class Kind(models.TextChoices):
        SUPERMARKET = "supermarket", _("Supermarket")
        FARMERS_MARKET = "farmers_market", _("Farmers' market")
        WHOLESALE = "wholesale", _("Wholesale market")
        SHOP = "shop", _("Shop")
        LIVE_POULTRY = "live_poultry", _("Live-poultry point")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SUPERMARKET)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    operator = models.CharField(_("operator"), max_length=100, blank=True)
    contact = models.CharField(_("contact person"), max_length=64, blank=True)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    monitored = models.BooleanField(
        _("daily supply report"),
        default=True,
        help_text=_("The outlet sends the daily supply-and-price report."),
    )
    is_open = models.BooleanField(_("open"), default=True, editable=False)
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    personal_fields = ("phone",)
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("outlet")
        verbose_name_plural = _("outlets")
        ordering = ["area__path", "name", "id"]
        constraints = [
            # The natural key of the import: one outlet of a name in an area node.
            models.UniqueConstraint(
                fields=["area", "name"],
                name="markets_outlet_area_name_unique",
                violation_error_message=_("An outlet of this name is already registered in this area."),
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("markets:outlet_detail", args=[self.pk])



class Baseline(ChangeLoggedModel):
    """The price an item is compared with in an area and below it (the nearest area up the tree
    with a baseline wins): typed, or the mean of a reference period's reports."""

    commodity = models.ForeignKey(
        Commodity, on_delete=models.PROTECT, related_name="baselines", verbose_name=_("item")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    price = models.DecimalField(
        _("baseline price"), max_digits=9, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    period_from = models.DateField(_("reference period from"), null=True, blank=True)
    period_to = models.DateField(_("reference period to"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("baseline price")
        verbose_name_plural = _("baseline prices")
        ordering = ["area__path", "commodity__order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["commodity", "area"],
                name="markets_baseline_once_per_area",
                violation_error_message=_("This item already has a baseline in this area."),
            )
        ]

    def __str__(self):
        return f"{self.commodity.name} · {self.area.name}"

    def get_absolute_url(self):
        return reverse("markets:baseline_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.period_from and self.period_to and self.period_to < self.period_from:
            raise ValidationError({"period_to": _("The period ends before it starts.")})


class PriceAlert(ChangeLoggedModel, WorkflowModel):
    class Kind(models.TextChoices):
        DAY_SPIKE = "day_spike", _("Price spike against yesterday")
        BASELINE_SPIKE = "baseline_spike", _("Price spike against the baseline")
        SHORT_STOCK = "short_stock", _("Short stock")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("alert", "Open")
        HANDLED = "handled", pgettext_lazy("alert", "Handled")
        CLEARED = "cleared", pgettext_lazy("alert", "Cleared by a corrected report")

    # A corrected report that no longer shows the alert clears it; a later correction may raise it again.
    TRANSITIONS = {
        Status.OPEN: {Status.HANDLED, Status.CLEARED},
        Status.CLEARED: {Status.OPEN},
    }

    outlet = models.ForeignKey(
        Outlet, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("outlet")
    )
    commodity = models.ForeignKey(
        Commodity, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    day = models.DateField(_("report day"), db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.DecimalField(_("reported"), max_digits=11, decimal_places=2)
    reference = models.DecimalField(
        _("compared with"), max_digits=11, decimal_places=2, null=True, blank=True
    )
    change_pct = models.DecimalField(_("change (%)"), max_digits=8, decimal_places=1, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    action_taken = models.CharField(_("action taken"), max_length=300, blank=True)

    scope_lookup = "outlet__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("price alert")
        verbose_name_plural = _("price alerts")
        ordering = ["-day", "outlet__name", "commodity__order", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "commodity", "day", "kind"], name="markets_alert_once_per_report"
            )
        ]

    def __str__(self):
        return f"{self.outlet.name} {self.commodity.name} {self.get_kind_display()} {self.day:%m-%d}"

    def get_absolute_url(self):
        return reverse("markets:pricealert_detail", args=[self.pk])


class ShopStaff(ChangeLoggedModel):
    """A row of 经营性门店人员管理台账: a registry person working at an outlet, with the daily
    phone/WeChat contact and health status; test and key-person status come live from results and
    control."""

    class Health(models.TextChoices):
        NORMAL = "normal", _("Normal")
        FEVER = "fever", _("Fever or symptoms")
        ISOLATED = "isolated", _("Under isolation")
        UNKNOWN = "unknown", _("Not reached")

    outlet = models.ForeignKey(
        Outlet, on_delete=models.PROTECT, related_name="staff", verbose_name=_("outlet")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    position = models.CharField(_("position"), max_length=40, blank=True)
    health = models.CharField(
        _("health status"), max_length=10, choices=Health.choices, default=Health.NORMAL
    )
    last_contact_on = models.DateField(_("last contacted"), null=True, blank=True)
    active = models.BooleanField(_("working there"), default=True)
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    scope_lookup = "outlet__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("shop staff")
        verbose_name_plural = _("shop staff ledger")
        ordering = ["outlet__name", "person__name_key", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "person"],
                name="markets_staff_once_per_outlet",
                violation_error_message=_("This person is already on this outlet's staff."),
            )
        ]

    def __str__(self):
        return f"{self.person.name} · {self.outlet.name}"

    def get_absolute_url(self):
        return reverse("markets:shopstaff_detail", args=[self.pk])


class Inspection(ChangeLoggedModel):
    """A market inspector's visit: the 1.5 m distance, masks, disinfection, and what followed."""

    class Result(models.TextChoices):
        COMPLIANT = "compliant", _("Compliant")
        RECTIFY = "rectify", _("To rectify")
        CLOSED = "closed", _("Closed")

    outlet = models.ForeignKey(
        Outlet, on_delete=models.CASCADE, related_name="inspections", verbose_name=_("outlet")
    )
    inspected_on = models.DateField(_("inspected on"), default=datetime.date.today)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inspector"),
    )
    distancing_ok = models.BooleanField(_("customers 1.5 m apart"), default=True)
    masks_ok = models.BooleanField(_("staff and customers masked"), default=True)
    disinfection_ok = models.BooleanField(_("disinfection recorded"), default=True)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.COMPLIANT)
    findings = models.CharField(_("findings"), max_length=500, blank=True)

    scope_lookup = "outlet__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-inspected_on", "-id"]

    def __str__(self):
        return f"{self.outlet.name} {self.inspected_on:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("markets:inspection_detail", args=[self.pk])


class Closure(ChangeLoggedModel, WorkflowModel):
    """The closure of a live-poultry point (or any outlet) until a re-inspection reopens it."""

    class Status(models.TextChoices):
        CLOSED = "closed", pgettext_lazy("closure", "Closed")
        REINSPECTED = "reinspected", pgettext_lazy("closure", "Re-inspected")
        REOPENED = "reopened", pgettext_lazy("closure", "Reopened")
        KEPT_CLOSED = "kept_closed", pgettext_lazy("closure", "Kept closed")

    TRANSITIONS = {
        Status.CLOSED: {Status.REINSPECTED},
        Status.REINSPECTED: {Status.REOPENED, Status.KEPT_CLOSED},
        Status.KEPT_CLOSED: {Status.REINSPECTED},
    }
    OPEN_STATES = (Status.CLOSED, Status.REINSPECTED, Status.KEPT_CLOSED)

    outlet = models.ForeignKey(
        Outlet, on_delete=models.PROTECT, related_name="closures", verbose_name=_("outlet")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.CLOSED, db_index=True
    )
    reason = models.CharField(_("reason for closing"), max_length=300)
    closed_on = models.DateField(_("closed on"), default=datetime.date.today)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    reinspect_due = models.DateField(_("re-inspection due"), null=True, blank=True)
    reinspected_on = models.DateField(_("re-inspected on"), null=True, blank=True)
    reinspection_findings = models.CharField(_("re-inspection findings"), max_length=500, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=300, blank=True)
    reinspections = models.PositiveSmallIntegerField(_("re-inspections"), default=0)
    reopened_on = models.DateField(_("reopened on"), null=True, blank=True)

    scope_lookup = "outlet__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["-closed_on", "-id"]
        constraints = [
            # One closure in force per outlet: closing a closed point again is refused.
            models.UniqueConstraint(
                fields=["outlet"],
                condition=Q(status__in=["closed", "reinspected", "kept_closed"]),
                name="markets_one_open_closure",
            )
        ]

    def __str__(self):
        return f"{self.outlet.name} {self.closed_on:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("markets:closure_detail", args=[self.pk])


class WildlifeCheck(ChangeLoggedModel):
    """A row of the wildlife ledger: a breeding or holding site, the species and the count found
    on a check."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    site = models.CharField(_("site"), max_length=100)
    species = models.CharField(_("species"), max_length=60)
    count = models.PositiveIntegerField(_("count"), validators=[MaxValueValidator(10_000_000)])
    check_date = models.DateField(_("check date"), default=datetime.date.today)
    checker = models.CharField(_("checked by"), max_length=64)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("wildlife check")
        verbose_name_plural = _("wildlife ledger")
        ordering = ["-check_date", "site", "species", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "site", "species", "check_date"],
                name="markets_wildlife_once_per_check",
                violation_error_message=_("This species at this site is already recorded for this date."),
            )
        ]

    def __str__(self):
        return f"{self.site} · {self.species} · {self.check_date:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("markets:wildlifecheck_detail", args=[self.pk])
