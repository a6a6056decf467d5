"""Disinfection 消杀 (decision 0036): sites per area node, rules (site type × zone level × times a
day) that generate rounds with one due task per site, completion of a task with its evidence,
teams with a leader (bound role `disinfection_leader`), vehicles with trips and tonnage handed over,
and terminal disinfection 终末消毒 of a case's home and places with the residents' notices.

Writes go through `disinfection.services`. Everything is filed under an area path, so each level
sees its subtree; a team leader reaches only the rows of the teams they lead (`scope_binding`)."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.control.models import ZONE_LEVEL_LABELS
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.plates import normalise_plate
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

LEADER = "disinfection_leader"


class SiteType(models.TextChoices):
    COMPOUND = "compound", _("Residential compound")
    ROAD = "road", _("Road")
    PARK = "park", _("Park or square")
    TOILET = "toilet", _("Public toilet")
    BIN = "bin", _("Garbage point")
    COMMON_AREA = "common_area", _("Building common area")
    SAMPLING = "sampling", _("Sampling point")
    SUPPLY = "supply", _("Supply point")
    PARCEL = "parcel", _("Parcel point")


# "" = no zone over the site; otherwise a level of the protocols' zones (control).
NO_ZONE = ""
ZONE_CHOICES = [(NO_ZONE, _("No zone")), *ZONE_LEVEL_LABELS.items()]


def _area_text(area):
    return area.full_label() if area is not None else ""


class Team(ChangeLoggedModel):
    """A disinfection team 消杀队 of an area with its leader (an account: the bound role
    `disinfection_leader` reaches only the rounds, tasks, vehicles and terminal disinfections of
    the teams they lead)."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    name = models.CharField(_("name"), max_length=100)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team leader"),
    )
    members = models.PositiveSmallIntegerField(_("members"), default=1)
    active = models.BooleanField(_("active"), default=True)

    scope_lookup = "area__path"
    scope_binding = {LEADER: "leader"}
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("disinfection team")
        verbose_name_plural = _("disinfection teams")
        ordering = ["area__path", "name"]
        # Held by team leaders only: their phone page heads their menu.
        permissions = [("lead_team", "Can lead a disinfection team")]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="disinfection_team_name")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("disinfection:team_detail", args=[self.pk])


class Site(ChangeLoggedModel):
    """A place to disinfect 消杀点位, filed under an area node (a community or grid), with its size.
    Natural key for the ledger: the area's code and the site's name."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    name = models.CharField(_("name"), max_length=100)
    site_type = models.CharField(_("site type"), max_length=16, choices=SiteType.choices, db_index=True)
    building = models.ForeignKey(
        "areas.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    size_m2 = models.DecimalField(
        _("size (m²)"), max_digits=10, decimal_places=1, validators=[MinValueValidator(Decimal("0"))]
    )
    active = models.BooleanField(_("in use"), default=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("disinfection site")
        verbose_name_plural = _("disinfection sites")
        ordering = ["area__path", "site_type", "name"]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="disinfection_site_name")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("disinfection:site_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.building_id and self.area_id and not self.building.area.path.startswith(self.area.path):
            raise ValidationError({"building": _("The building is not inside the site's area.")})


class Rule(ChangeLoggedModel):
    """How often a type of site is disinfected under a zone level: site type × zone level × times
    a day, for the sites of the rule's area (an officer's street or district). Rounds are
    generated from the rules in force."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    site_type = models.CharField(_("site type"), max_length=16, choices=SiteType.choices)
    zone_level = models.CharField(_("zone level"), max_length=16, choices=ZONE_CHOICES, blank=True)
    per_day = models.PositiveSmallIntegerField(
        _("times a day"), default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="rules", verbose_name=_("team")
    )
    disinfectant = models.CharField(_("disinfectant"), max_length=60, blank=True)
    concentration = models.PositiveIntegerField(_("concentration (mg/L)"), null=True, blank=True)
    contact_minutes = models.PositiveSmallIntegerField(_("contact time (min)"), null=True, blank=True)
    active = models.BooleanField(_("in force"), default=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("disinfection rule")
        verbose_name_plural = _("disinfection rules")
        ordering = ["area__path", "site_type", "zone_level"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "site_type", "zone_level"], name="disinfection_rule_unique"
            )
        ]

    def __str__(self):
        zone = dict(ZONE_CHOICES).get(self.zone_level, self.zone_level)
        return f"{self.get_site_type_display()} · {zone} · {self.per_day}/d"

    def get_absolute_url(self):
        return reverse("disinfection:rule_detail", args=[self.pk])


class Round(ChangeLoggedModel):
    """One period of one rule on one day over the rule's area: a due task per matching site."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="rounds", verbose_name=_("rule"))
    date = models.DateField(_("date"), db_index=True)
    period = models.PositiveSmallIntegerField(_("period"), default=1)
    site_type = models.CharField(_("site type"), max_length=16, choices=SiteType.choices)
    zone_level = models.CharField(_("zone level"), max_length=16, choices=ZONE_CHOICES, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="rounds", verbose_name=_("team")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("generated at"), default=timezone.now)

    scope_lookup = "area__path"
    scope_binding = {LEADER: "team__leader"}
    # A street's round is seen by the communities whose sites it covers (their tasks only count).
    scope_upward = True
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("disinfection round")
        verbose_name_plural = _("disinfection rounds")
        ordering = ["-date", "period", "area__path", "site_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "rule", "date", "period"], name="disinfection_round_unique"
            )
        ]

    def __str__(self):
        return f"{self.date:%m-%d} #{self.period} {self.get_site_type_display()}"

    def get_absolute_url(self):
        return reverse("disinfection:round_detail", args=[self.pk])


def _photo_path(instance, filename):
    # Never a name or place in the path: the round, the task and a random part.
    ext = "png" if filename.lower().endswith(".png") else "jpg"
    return f"disinfection/{instance.round_id}/{instance.pk or 'new'}-{uuid.uuid4().hex}.{ext}"


class Task(ChangeLoggedModel):
    """One site due in one round, and its completion: when, by whom, with what, how long, how much,
    the photo and where the phone was. Filed under the site's area (copied) for coverage by area."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        DONE = "done", _("Done")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("round"))
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("site"))
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("area")
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DUE)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    disinfectant = models.CharField(_("disinfectant"), max_length=60, blank=True)
    concentration = models.PositiveIntegerField(_("concentration (mg/L)"), null=True, blank=True)
    contact_minutes = models.PositiveSmallIntegerField(_("contact time (min)"), null=True, blank=True)
    area_treated_m2 = models.DecimalField(
        _("area treated (m²)"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    photo = models.ImageField(_("photo"), upload_to=_photo_path, max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    scope_binding = {LEADER: "round__team__leader"}
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("disinfection task")
        verbose_name_plural = _("disinfection tasks")
        ordering = ["round", "status", "site__name"]
        constraints = [models.UniqueConstraint(fields=["round", "site"], name="disinfection_task_unique")]
        indexes = [
            # Coverage: a round's tasks grouped by area, done counted (an index-only scan).
            models.Index(fields=["round", "area", "status"], name="disinfection_task_cover"),
            models.Index(fields=["area", "round"], name="disinfection_task_area"),
        ]

    def __str__(self):
        return f"{self.site} · {self.round}"

    def get_absolute_url(self):
        return reverse("disinfection:task_detail", args=[self.pk])


class VehicleKind(models.TextChoices):
    SPRAY = "spray", _("Spray vehicle")
    ROAD = "road", _("Road cleaning vehicle")
    MEDICAL = "medical", _("Medical-waste truck")
    GARBAGE_LARGE = "garbage_large", _("Large garbage truck")
    GARBAGE_SMALL = "garbage_small", _("Small garbage truck")


class Vehicle(ChangeLoggedModel):
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    plate = models.CharField(_("plate"), max_length=10, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=VehicleKind.choices)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="vehicles",
        verbose_name=_("team"),
    )
    active = models.BooleanField(_("in use"), default=True)

    scope_lookup = "area__path"
    scope_binding = {LEADER: "team__leader"}
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("plate__contains",)

    class Meta:
        verbose_name = _("disinfection vehicle")
        verbose_name_plural = _("disinfection vehicles")
        ordering = ["area__path", "kind", "plate"]

    def __str__(self):
        return self.plate

    def get_absolute_url(self):
        return reverse("disinfection:vehicle_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.plate:
            self.plate = normalise_plate(self.plate)


class WasteKind(models.TextChoices):
    NONE = "none", _("No waste (spraying or cleaning)")
    MEDICAL = "medical", _("Medical waste")
    HOUSEHOLD = "household", _("Household waste")


class Trip(ChangeLoggedModel):
    """A vehicle's trip 趟次 with the tonnage it carried and, for waste, its handover at the
    destination: handed by (the account that records it) and received by (the receiver's name
    and unit, with the time), both kept."""

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, related_name="trips", verbose_name=_("vehicle")
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("area")
    )
    date = models.DateField(_("date"), db_index=True)
    started_at = models.DateTimeField(_("started at"))
    waste_kind = models.CharField(_("load"), max_length=10, choices=WasteKind.choices, default=WasteKind.NONE)
    tonnage = models.DecimalField(
        _("tonnage (t)"),
        max_digits=7,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(Decimal("0"))],
    )
    destination = models.CharField(_("destination"), max_length=100, blank=True)
    handed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed over by"),
    )
    handed_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    received_by = models.CharField(_("received by"), max_length=50, blank=True)
    received_unit = models.CharField(_("receiving unit"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    scope_binding = {LEADER: "vehicle__team__leader"}
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("vehicle trip")
        verbose_name_plural = _("vehicle trips")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["area", "date"], name="disinfection_trip_area_date")]

    def __str__(self):
        return f"{self.vehicle} {timezone.localtime(self.started_at):%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("disinfection:trip_detail", args=[self.pk])

    @property
    def handed_over(self):
        return self.handed_at is not None


class Terminal(ChangeLoggedModel, WorkflowModel):
    """Terminal disinfection 终末消毒 of one address of a case (home or a place of the trajectory):
    the residents told before (告知), the disinfection recorded as a task is, the notice posted
    after (公示); each step with its time and who."""

    class Kind(models.TextChoices):
        HOME = "home", _("Home")
        PLACE = "place", _("Place visited")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        NOTIFIED = "notified", _("Residents told")
        DISINFECTED = "disinfected", _("Disinfected")
        CLOSED = "closed", _("Notice posted")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.PLANNED: {Status.NOTIFIED, Status.CANCELLED},
        Status.NOTIFIED: {Status.DISINFECTED, Status.CANCELLED},
        Status.DISINFECTED: {Status.CLOSED},
    }

    case = models.ForeignKey(
        "tracing.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    case_label = models.CharField(_("case"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    building = models.ForeignKey(
        "areas.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    address = models.CharField(_("address"), max_length=200)
    # The place's own key from the trajectory (its date): one terminal disinfection per address.
    source_key = models.CharField(max_length=60, blank=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="terminals",
        verbose_name=_("team"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # When the team will come: the residents' notice before says it (set by `schedule_terminal`).
    planned_at = models.DateTimeField(_("planned for"), null=True, blank=True)
    # How long the rooms are aired after the contact time before anyone goes back in (both notices).
    ventilation_minutes = models.PositiveSmallIntegerField(
        _("ventilation before re-entry (min)"),
        default=30,
        validators=[MinValueValidator(0), MaxValueValidator(24 * 60)],
    )
    notified_at = models.DateTimeField(_("residents told at"), null=True, blank=True)
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("residents told by"),
    )
    done_at = models.DateTimeField(_("disinfected at"), null=True, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    disinfectant = models.CharField(_("disinfectant"), max_length=60, blank=True)
    concentration = models.PositiveIntegerField(_("concentration (mg/L)"), null=True, blank=True)
    # Planned with the time (the notice before says how long to keep away), then as recorded.
    contact_minutes = models.PositiveSmallIntegerField(_("contact time (min)"), null=True, blank=True)
    area_treated_m2 = models.DecimalField(
        _("area treated (m²)"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    posted_at = models.DateTimeField(_("notice posted at"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notice posted by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    scope_binding = {LEADER: "team__leader"}
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("terminal disinfection")
        verbose_name_plural = _("terminal disinfections")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "source_key"],
                condition=Q(case__isnull=False),
                name="disinfection_terminal_per_address",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.address}"

    def get_absolute_url(self):
        return reverse("disinfection:terminal_detail", args=[self.pk])
