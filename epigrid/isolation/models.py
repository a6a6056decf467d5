"""Centralized isolation sites 集中隔离点 (decision 0024): a site's rooms and the stays of the
persons put in them, where control's centralized measure 集中隔离医学观察 is carried out.

Writes go through `isolation.services`: a room is allocated to a person (one person a room, a
companion aside), the person checks in and out, the room is cleaned and free again. Every row is
filed under the site's area; a site's staff (role `isolation_staff`) reach only the sites they
staff, officials the sites of their area subtree."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.control.models import FEVER_FROM
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

# A body temperature, as control's check-ins take it (control.serializers; a test keeps the two
# equal). Not imported from there: control's serializers load models, which a models module cannot.
TEMPERATURE_MIN, TEMPERATURE_MAX = Decimal("34.0"), Decimal("43.0")

# Staff are posted at sites: their grants reach only the sites (and its rooms and stays) they staff.
SITE_BINDING = {"isolation_staff": "staff"}
ROW_BINDING = {"isolation_staff": "site__staff"}


class Site(ChangeLoggedModel):
    """An isolation site: a requisitioned hotel or a purpose-built facility (方舱/隔离点)."""

    class Kind(models.TextChoices):
        HOTEL = "hotel", _("Hotel")
        PURPOSE_BUILT = "purpose_built", _("Purpose-built")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.HOTEL)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("filed under")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Persons the site may hold (beds in use), as agreed with the command centre; rooms may hold
    # more beds than that (staff rooms, reserves), so it is not derived from them.
    capacity = models.PositiveIntegerField(_("capacity (persons)"))
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="isolation_sites", verbose_name=_("site staff")
    )
    is_active = models.BooleanField(_("taking persons"), default=True)
    # What one night costs (yuan), as agreed with the hotel or set by the command centre; empty
    # until agreed (no fee is shown rather than a fee of zero).
    daily_rate = models.DecimalField(
        _("daily rate (yuan)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )

    scope_lookup = "area__path"
    scope_binding = SITE_BINDING
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("isolation site")
        verbose_name_plural = _("isolation sites")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("isolation:site_detail", args=[self.pk])


class Room(WorkflowModel, ChangeLoggedModel):
    """A room of a site. Its status follows its stays (services): allocated or lived in → occupied,
    left → cleaning, cleaned → free; out of service by hand."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("Single")
        MULTI = "multi", _("Multi-bed")
        ACCESSIBLE = "accessible", _("Accessible")

    class Status(models.TextChoices):
        FREE = "free", _("Free")
        OCCUPIED = "occupied", _("Occupied")
        CLEANING = "cleaning", _("To be cleaned")
        OUT_OF_SERVICE = "out_of_service", _("Out of service")

    TRANSITIONS = {
        Status.FREE: {Status.OCCUPIED, Status.OUT_OF_SERVICE},
        # Back to free without cleaning only when an allocation was cancelled before anyone came.
        Status.OCCUPIED: {Status.CLEANING, Status.FREE},
        Status.CLEANING: {Status.FREE, Status.OUT_OF_SERVICE},
        Status.OUT_OF_SERVICE: {Status.FREE},
    }

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rooms", verbose_name=_("site"))
    number = models.CharField(_("room number"), max_length=16)
    floor = models.SmallIntegerField(_("floor"), default=1)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SINGLE)
    beds = models.PositiveSmallIntegerField(_("beds"), default=1)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.FREE)

    scope_lookup = "site__area__path"
    scope_binding = ROW_BINDING
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("number__startswith",)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["site", "floor", "number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="isolation_room_number_unique")
        ]
        # Free rooms per site (services.with_availability) without reading the rooms.
        indexes = [models.Index(fields=["site", "status"], name="isolation_room_site_status")]

    def __str__(self):
        return f"{self.site.name} {self.number}"

    def get_absolute_url(self):
        return reverse("isolation:room_detail", args=[self.pk])


class Stay(WorkflowModel, ChangeLoggedModel):
    """One person's stay in one room: allocated → checked in → checked out, or transferred to another
    room (a new stay), or taken to hospital 转院就医 (the room is given up; the return is a new stay
    pointing back at this one). A companion 陪护 of a minor, an elderly or a disabled person shares
    the room and points at the stay they accompany."""

    class Status(models.TextChoices):
        ALLOCATED = "allocated", _("Allocated")
        CHECKED_IN = "checked_in", _("Checked in")
        TRANSFERRED = "transferred", _("Transferred")
        CHECKED_OUT = "checked_out", _("Checked out")
        # A stay's own word (转院就医), not the ward's "in hospital" of other pages.
        HOSPITAL = "hospital", pgettext_lazy("isolation stay status", "In hospital")

    TRANSITIONS = {
        # Checked out straight from allocated: the person never came (the allocation is cancelled).
        Status.ALLOCATED: {Status.CHECKED_IN, Status.CHECKED_OUT, Status.TRANSFERRED},
        # To hospital only from a room: a person on their way goes to hospital from home, not here.
        Status.CHECKED_IN: {Status.CHECKED_OUT, Status.TRANSFERRED, Status.HOSPITAL},
    }
    ACTIVE = (Status.ALLOCATED, Status.CHECKED_IN)

    class Payer(models.TextChoices):
        GOVERNMENT = "government", _("Government")
        SELF = "self", _("Self-paid")
        EMPLOYER = "employer", _("Employer")

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    # The centralized step of the person's key-person entry this stay carries out, when there is one
    # (a companion has none).
    measure = models.ForeignKey(
        "control.ControlMeasure",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("centralized isolation measure"),
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="stays", verbose_name=_("site"))
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="stays", verbose_name=_("room"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ALLOCATED)
    companion_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="companions",
        verbose_name=_("companion of"),
    )
    allocated_at = models.DateTimeField(_("allocated"))
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Who pays for the nights (decision 0024, addendum: fees); the employer's name when it is one.
    payer = models.CharField(_("payer"), max_length=16, choices=Payer.choices, default=Payer.GOVERNMENT)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    # The step of the plan the person went home to (home isolation / monitoring), started by the
    # check-out; until the community confirms the arrival, the stay heads its today's work.
    home_step = models.ForeignKey(
        "control.ControlMeasure",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("next step at home"),
    )
    # The hospital stay this one returned from (services.back_from_hospital): one return per stay
    # taken to hospital, so a repeated "back" finds the first return instead of making a second.
    from_hospital = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="return_stay",
        verbose_name=_("back from hospital"),
    )
    home_received_at = models.DateTimeField(_("received at home"), null=True, blank=True)
    home_received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    scope_lookup = "site__area__path"
    scope_binding = ROW_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("stay")
        verbose_name_plural = _("stays")
        ordering = ["-allocated_at", "-id"]
        constraints = [
            # One bed at a time: a second allocation of the same person loses to this, even under
            # concurrent officers (the room lock does not cover two different rooms).
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["allocated", "checked_in"]),
                name="isolation_one_active_stay_per_person",
            )
        ]
        indexes = [
            models.Index(fields=["site", "status"], name="isolation_stay_site_status"),
            # The communities' "returned home, to receive": only the few not yet received.
            models.Index(
                fields=["home_step"],
                condition=Q(home_step__isnull=False, home_received_at__isnull=True),
                name="isolation_stay_home_due",
            ),
        ]

    def __str__(self):
        return f"{self.person.name} · {self.room.number}"

    def get_absolute_url(self):
        return reverse("isolation:stay_detail", args=[self.pk])

    @property
    def is_active(self):
        return self.status in self.ACTIVE


class Reading(ChangeLoggedModel):
    """A temperature check taken by the site's staff, one per stay, day and slot (morning and
    afternoon: twice a day, as control's measures ask). The site takes these itself: its persons
    are behind doors the grid worker does not reach. Fever is control's threshold (FEVER_FROM), so
    the site and the key-person lists never disagree on what a fever is."""

    class Slot(models.TextChoices):
        MORNING = "morning", _("Morning")
        AFTERNOON = "afternoon", _("Afternoon")

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="readings", verbose_name=_("stay"))
    day = models.DateField(_("date"))
    slot = models.CharField(_("check"), max_length=16, choices=Slot.choices)
    temperature = models.DecimalField(
        _("temperature (°C)"),
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(TEMPERATURE_MIN), MaxValueValidator(TEMPERATURE_MAX)],
    )
    symptoms = models.CharField(_("symptoms"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    scope_lookup = "stay__site__area__path"
    scope_binding = {"isolation_staff": "stay__site__staff"}
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("temperature reading")
        verbose_name_plural = _("temperature readings")
        ordering = ["-day", "-slot", "-id"]
        constraints = [
            # A retried submit (a phone on a weak signal) finds the row and does not add a second.
            models.UniqueConstraint(fields=["stay", "day", "slot"], name="isolation_reading_per_slot"),
        ]
        indexes = [
            # The site's fever flags read today's fevers only.
            models.Index(fields=["day", "temperature"], name="isolation_reading_day_temp"),
        ]

    def __str__(self):
        return f"{self.temperature}°C"

    @property
    def is_fever(self):
        return Decimal(str(self.temperature)) >= FEVER_FROM


class WasteHandover(ChangeLoggedModel):
    """A handover of the site's medical waste 医疗废物交接 to the licensed collecting company: bags
    and weight, signed by the site's staff member who handed it over (on recording) and by the
    collector (on the staff's phone, when they take it). Scoped and bound like the site."""

    # The records go with their site, as its rooms do (a site that held anyone is kept by its stays).
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="waste_handovers", verbose_name=_("site")
    )
    handed_over_at = models.DateTimeField(_("handed over at"))
    bags = models.PositiveIntegerField(_("bags"), validators=[MinValueValidator(1)])
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    company = models.CharField(_("collecting company"), max_length=100)
    collector_name = models.CharField(_("collector"), max_length=50)
    # The staff's signature: who recorded the handover, when.
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        verbose_name=_("handed over by"),
    )
    staff_signed_at = models.DateTimeField(_("signed by the site at"))
    # The collector's signature: taken on the staff's phone when the bags leave (the collector has
    # no account); empty until then.
    collector_signed_at = models.DateTimeField(_("signed by the collector at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "site__area__path"
    scope_binding = ROW_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("medical-waste handover")
        verbose_name_plural = _("medical-waste handovers")
        ordering = ["-handed_over_at", "-id"]
        indexes = [models.Index(fields=["site", "handed_over_at"], name="isolation_waste_site_time")]

    def __str__(self):
        return f"{self.site.name} {self.bags} · {self.weight_kg} kg"
