"""Checkpoints 卡口 (decision 0027): posts at the city's and districts' road entries and at community
and enterprise gates, their shifts, and every passage through them — each person (逢人必测) and each
vehicle (逢车必检) — with what the system knew, what it suggested and what the staff decided.

Writes go through `checkpoints.services`. A checkpoint's staff (role `checkpoint_staff`, bound to
the posts they staff) reach only their posts' rows; officials reach the checkpoints of their area."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet

POST_BINDING = {"checkpoint_staff": "staff"}
ROW_BINDING = {"checkpoint_staff": "checkpoint__staff"}


class Checkpoint(ChangeLoggedModel):
    class Kind(models.TextChoices):
        CITY_ENTRY = "city_entry", _("City road entry")
        DISTRICT_ENTRY = "district_entry", _("District road entry")
        COMMUNITY_GATE = "community_gate", _("Community gate")
        ENTERPRISE_GATE = "enterprise_gate", _("Enterprise gate")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DISTRICT_ENTRY)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("filed under")
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="checkpoints", verbose_name=_("checkpoint staff")
    )
    is_active = models.BooleanField(_("in operation"), default=True)

    scope_lookup = "area__path"
    scope_binding = POST_BINDING
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("checkpoints:checkpoint_detail", args=[self.pk])

    @property
    def is_entry(self):
        """Road entries classify arrivals from outside; gates let residents in and out."""
        return self.kind in (self.Kind.CITY_ENTRY, self.Kind.DISTRICT_ENTRY)


class Shift(ChangeLoggedModel):
    """A shift on duty at a checkpoint (the seeds' three shifts a day 三班倒)."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("checkpoint")
    )
    day = models.DateField(_("day"))
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("to"))
    leader = models.CharField(_("shift leader"), max_length=64, blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("on duty")
    )

    scope_lookup = "checkpoint__area__path"
    scope_binding = ROW_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["-day", "starts", "id"]

    def __str__(self):
        return f"{self.checkpoint.name} {self.day} {self.starts:%H:%M}–{self.ends:%H:%M}"

    def get_absolute_url(self):
        return reverse("checkpoints:checkpoint_detail", args=[self.checkpoint_id]) + "#shifts"


class Direction(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class Decision(models.TextChoices):
    # In context: "Pass" is also the household pass 出入证.
    PASS = "pass", pgettext_lazy("checkpoint decision", "Pass")
    REFUSE = "refuse", pgettext_lazy("checkpoint decision", "Refuse")
    TESTING = "testing", _("Send to testing")
    ISOLATION = "isolation", _("Send to isolation")
    COMMUNITY = "community", _("Hand to community")


class VehicleCheck(ChangeLoggedModel):
    """One vehicle through a checkpoint; its persons are passages pointing at it."""

    class Kind(models.TextChoices):
        CAR = "car", _("Car")
        BUS = "bus", _("Bus")
        TRUCK = "truck", _("Truck")
        OTHER = "other", _("Other")

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("checkpoint")
    )
    client_id = models.UUIDField(_("client id"), unique=True)
    at = models.DateTimeField(_("time"), db_index=True)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.IN
    )
    plate = models.CharField(_("plate"), max_length=10, db_index=True)
    kind = models.CharField(_("vehicle kind"), max_length=8, choices=Kind.choices, default=Kind.CAR)
    origin = models.CharField(_("coming from"), max_length=100, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PASS)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    scope_lookup = "checkpoint__area__path"
    scope_binding = ROW_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("vehicle check")
        verbose_name_plural = _("vehicle checks")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["checkpoint", "at"], name="vehicle_checkpoint_at")]

    def __str__(self):
        return self.plate


class Passage(ChangeLoggedModel):
    """One person through a checkpoint: who, from where to where, temperature and health code, what
    the rules suggested from the ledger, zones and tests, and what the staff decided (an override
    needs a reason)."""

    class HealthCode(models.TextChoices):
        GREEN = "green", _("Green")
        YELLOW = "yellow", _("Yellow")
        RED = "red", _("Red")
        UNKNOWN = "unknown", _("Not shown")

    class OriginRisk(models.TextChoices):
        NONE = "none", _("Not from a risk area")
        LOW = "low", _("Low-risk area")
        MEDIUM = "medium", _("Medium-risk area")
        HIGH = "high", _("High-risk area")

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="passages", verbose_name=_("checkpoint")
    )
    client_id = models.UUIDField(_("client id"), unique=True)
    at = models.DateTimeField(_("time"))
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.IN
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    vehicle = models.ForeignKey(
        VehicleCheck,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="passengers",
        verbose_name=_("vehicle"),
    )
    origin = models.CharField(_("coming from"), max_length=100, blank=True)
    origin_risk = models.CharField(
        _("origin risk"), max_length=8, choices=OriginRisk.choices, default=OriginRisk.NONE
    )
    destination = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("destination"),
    )
    temperature = models.DecimalField(
        _("temperature"),
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(34), MaxValueValidator(43)],
    )
    health_code = models.CharField(
        _("health code"), max_length=8, choices=HealthCode.choices, default=HealthCode.UNKNOWN
    )
    suggested = models.CharField(
        _("suggested"), max_length=10, choices=Decision.choices, default=Decision.PASS
    )
    # Why the rules suggested it (open measure, zone, test validity, code, fever, origin), as shown.
    findings = models.JSONField(_("findings"), default=list, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PASS)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # An arrival handed to its destination community: the ledger entry made, or just the area told.
    key_person = models.ForeignKey(
        "control.KeyPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key-person entry"),
    )
    handed_to = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed to"),
    )
    received_at = models.DateTimeField(_("received by the community at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    scope_lookup = "checkpoint__area__path"
    scope_binding = ROW_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("passage")
        verbose_name_plural = _("passages")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["checkpoint", "at"], name="passage_checkpoint_at"),
            models.Index(fields=["at"], name="passage_at"),
            models.Index(fields=["handed_to", "received_at"], name="passage_handed_to"),
        ]

    def __str__(self):
        return f"{self.person.name} {self.get_direction_display()}"

    def get_absolute_url(self):
        return reverse("checkpoints:passage_detail", args=[self.pk])
