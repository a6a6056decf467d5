"""Sample transport 样本转运: labs, boxes of sealed tubes carried from a sampling point to a lab, and
the custody chain of every box (docs/decisions/0020-sample-transport.md).

Writes go through `transport.services`: a box is opened at a point, tubes are scanned in, it is
sealed with its tube count, picked up by a courier and received at its lab, where the tubes found
in it are reconciled against its list. Each step is a `BoxEvent`, signed by the logged-in user who
scanned it."""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel


class Lab(ChangeLoggedModel):
    """A testing lab 检测机构 that receives boxes. Filed under the area that administers it; seen from
    below (a lab of the city is offered to every point in it). Its `staff` are the users posted
    there: a lab_staff grant reaches only the boxes heading to the labs its user staffs."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="labs", verbose_name=_("filed under")
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="labs", verbose_name=_("lab staff")
    )
    is_active = models.BooleanField(_("receiving boxes"), default=True)

    scope_lookup = "area__path"
    scope_upward = True
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains", "code__startswith")

    class Meta:
        verbose_name = _("lab")
        verbose_name_plural = _("labs")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("transport:lab_detail", args=[self.pk])


class Box(WorkflowModel, ChangeLoggedModel):
    """One trip of a transport box 转运箱 from a point to a lab. The barcode is the box's own; a
    barcode is in use from opening to receipt, and a received box's barcode may start a new trip
    (a new row): cold boxes are reused all day (decision 0020)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Packing")
        SEALED = "sealed", _("Sealed, awaiting pick-up")
        IN_TRANSIT = "in_transit", _("In transit")
        RECEIVED = "received", _("Received")
        DISCARDED = "discarded", _("Discarded")

    TRANSITIONS = {
        Status.OPEN: {Status.SEALED, Status.DISCARDED},
        # Received without a pick-up scan when the courier could not scan: the lab notes why.
        Status.SEALED: {Status.IN_TRANSIT, Status.RECEIVED},
        Status.IN_TRANSIT: {Status.RECEIVED},
    }
    IN_USE = (Status.OPEN, Status.SEALED, Status.IN_TRANSIT)

    barcode = models.CharField(_("box barcode"), max_length=32)
    # Cascades: a round, a point or a tube is deleted only while nothing was sampled into it
    # (samples protect them), so only an empty box can go with it.
    campaign = models.ForeignKey(
        "testing.Campaign", on_delete=models.CASCADE, related_name="boxes", verbose_name=_("testing round")
    )
    point = models.ForeignKey(
        "testing.SamplingPoint", on_delete=models.CASCADE, related_name="boxes", verbose_name=_("point")
    )
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="boxes", verbose_name=_("lab"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    sealed_at = models.DateTimeField(_("sealed"), null=True, blank=True)
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    tube_count = models.PositiveIntegerField(_("tubes at sealing"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up"), null=True, blank=True)
    picked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("courier"),
    )
    # When the lab scanned the box and began checking its tubes: the box was at the lab then, so
    # the receipt confirmed minutes later is dated from it (the deadline is about arriving).
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("received by"),
        db_index=False,
    )
    missing_count = models.PositiveIntegerField(_("missing tubes"), default=0)
    extra_count = models.PositiveIntegerField(_("extra tubes"), default=0)
    receipt_note = models.CharField(_("receipt note"), max_length=300, blank=True)
    # The earliest scan of a sample in the box's tubes, and the deadline it sets (the round's
    # transport_hours later); kept by the services as tubes go in and out, read by the board.
    first_sample_at = models.DateTimeField(_("first sample"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at the lab"), null=True, blank=True)

    scope_lookup = "point__area__path"
    # Samplers reach the boxes of the points they staff, a lab's staff the boxes heading to it.
    scope_binding = {"sampler": "point__staff", "lab_staff": "lab__staff"}
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("transport box")
        verbose_name_plural = _("transport boxes")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # A barcode in use cannot be opened again (the database has the last word).
            models.UniqueConstraint(
                fields=["barcode"],
                condition=models.Q(status__in=["open", "sealed", "in_transit"]),
                name="box_barcode_in_use",
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "due_at"], name="box_campaign_status_due"),
            models.Index(fields=["barcode"], name="box_barcode"),
            models.Index(fields=["lab", "status"], name="box_lab_status"),
        ]

    def __str__(self):
        return self.barcode

    def get_absolute_url(self):
        return reverse("transport:box_detail", args=[self.pk])

    @property
    def in_use(self):
        return self.status in self.IN_USE

    def is_late(self, now=None):
        """Late: received after the deadline, or not received and the deadline has passed. Exactly
        at the deadline is on time."""
        if self.due_at is None:
            return False
        if self.status == self.Status.RECEIVED:
            return self.received_at > self.due_at
        if self.status == self.Status.DISCARDED:
            return False
        return (now or timezone.now()) > self.due_at

    def minutes_left(self, now=None):
        if self.due_at is None or not self.in_use:
            return None
        # Floored: half a minute past the deadline is "1 min over", not "0 min left".
        return (self.due_at - (now or timezone.now())) // datetime.timedelta(minutes=1)


class BoxTube(models.Model):
    """A tube in a box, and what the lab found. Read only through its box (already scoped), so it
    has no scope of its own. A tube is in one box at a time: packed or found (constraint); a tube
    missing at the receipt may travel again in another box."""

    class State(models.TextChoices):
        PACKED = "packed", _("In the box")
        FOUND = "found", _("Found at the lab")
        MISSING = "missing", _("Missing at the lab")
        EXTRA = "extra", _("Extra: not on the box's list")

    box = models.ForeignKey(Box, on_delete=models.CASCADE, related_name="tubes", verbose_name=_("box"))
    # Null for an extra barcode the lab scanned that no round knows.
    tube = models.ForeignKey(
        "testing.Tube",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="box_entries",
        verbose_name=_("tube"),
    )
    barcode = models.CharField(_("tube barcode"), max_length=32)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PACKED)
    added_at = models.DateTimeField(_("scanned"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    checked_at = models.DateTimeField(_("checked at the lab"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("tube in a box")
        verbose_name_plural = _("tubes in boxes")
        ordering = ["box", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["box", "barcode"], name="box_tube_once"),
            models.UniqueConstraint(
                fields=["tube"],
                condition=models.Q(state__in=["packed", "found"]),
                name="tube_in_one_box",
            ),
        ]

    def __str__(self):
        return self.barcode


class BoxEvent(models.Model):
    """A custody event 交接记录 of a box: who scanned what, when and where. Append-only: these rows
    are the custody chain and the audit of the steps, never changed (save refuses an update)."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        TUBE_ADDED = "tube_added", _("Tube added")
        TUBE_REMOVED = "tube_removed", _("Tube removed")
        SEALED = "sealed", _("Sealed")
        PICKED_UP = "picked_up", _("Picked up")
        ARRIVED = "arrived", _("Scanned at the lab")
        RECEIVED = "received", _("Received")
        REROUTED = "rerouted", _("Sent to another lab")
        DISCARDED = "discarded", _("Discarded")

    box = models.ForeignKey(Box, on_delete=models.CASCADE, related_name="events", verbose_name=_("box"))
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("signed by"),
        db_index=False,
    )
    point = models.ForeignKey(
        "testing.SamplingPoint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    lab = models.ForeignKey(
        Lab, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    barcode = models.CharField(_("tube barcode"), max_length=32, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["box", "at"], name="boxevent_box_at")]

    def __str__(self):
        return f"{self.box_id} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Custody events are append-only.")
        super().save(*args, **kwargs)
