"""Supervision 督导 to sign-off 销号 (decision 0030): a problem found becomes an item with an area,
a responsible person and a deadline, moving through one workflow — assigned → rectifying →
submitted with evidence → signed off, or sent back — and escalating up the area tree when its
deadline passes.

Writes go through `supervision.services`. An item is filed under its area, so every level above
sees it by the usual subtree scoping; `escalated_to` says which level it now weighs on."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel


class Category(models.TextChoices):
    CHECKPOINT = "checkpoint", _("Checkpoint")
    SAMPLING = "sampling", _("Sampling")
    KEY_PERSONS = "key_persons", _("Key-person management")
    ISOLATION = "isolation", _("Isolation")
    DISINFECTION = "disinfection", _("Disinfection")
    SUPPLIES = "supplies", _("Supplies")
    REPORTING = "reporting", _("Reporting")
    OTHER = "other", _("Other")


# Problems one can see on site need a photo of the fix; a late report or a ledger gap is shown
# fixed by the record itself, and a photo of a screen would be the 过度留痕 the seeds complain of.
PHOTO_REQUIRED = frozenset(
    {Category.CHECKPOINT, Category.SAMPLING, Category.ISOLATION, Category.DISINFECTION, Category.SUPPLIES}
)


class FoundBy(models.TextChoices):
    INSPECTION = "inspection", _("Inspection")
    REPORT = "report", _("Report")
    COMPLAINT = "complaint", _("Complaint")
    SYSTEM = "system", _("System")


class Item(ChangeLoggedModel, WorkflowModel):
    """One problem found, to be fixed by its responsible person and signed off by someone else."""

    class Status(models.TextChoices):
        NEW = "new", _("To assign")
        ASSIGNED = "assigned", _("Assigned")
        RECTIFYING = "rectifying", _("Rectifying")
        SUBMITTED = "submitted", _("Submitted for sign-off")
        SIGNED_OFF = "signed_off", _("Signed off")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.NEW, Status.ASSIGNED, Status.RECTIFYING, Status.SUBMITTED)
    # Signing off from an earlier state is the system's alone (resolve_source: the source's
    # condition cleared); services refuse it to people with a message saying what comes first.
    TRANSITIONS = {
        Status.NEW: {Status.ASSIGNED, Status.SIGNED_OFF, Status.CANCELLED},
        Status.ASSIGNED: {Status.RECTIFYING, Status.SIGNED_OFF, Status.CANCELLED},
        Status.RECTIFYING: {Status.SUBMITTED, Status.SIGNED_OFF, Status.CANCELLED},
        Status.SUBMITTED: {Status.SIGNED_OFF, Status.RECTIFYING, Status.CANCELLED},
    }

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    # The level that raised it: its officers, or those above, sign it off.
    raised_in = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by the level of")
    )
    title = models.CharField(_("problem"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(
        pgettext_lazy("supervision", "category"), max_length=16, choices=Category.choices
    )
    found_by = models.CharField(
        _("found by"), max_length=16, choices=FoundBy.choices, default=FoundBy.INSPECTION
    )
    # A generic link to the record the item was raised from (a missing report, a late box).
    source_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source type"),
    )
    source_id = models.BigIntegerField(_("source id"), null=True, blank=True)
    source_label = models.CharField(_("source"), max_length=200, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    due_at = models.DateTimeField(pgettext_lazy("supervision", "deadline"), db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    started_at = models.DateTimeField(_("rectification started"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    evidence_note = models.TextField(_("what was done"), blank=True)
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed off by"),
    )
    signoff_note = models.TextField(_("sign-off note"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times sent back"), default=0)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    escalated_to = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalated to"),
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("title__contains",)

    class Meta:
        verbose_name = _("supervision item")
        verbose_name_plural = _("supervision items")
        ordering = ["-raised_at", "-id"]
        permissions = [("signoff_item", "Can sign off supervision items")]
        constraints = [
            # One open item per source record: raise_item called twice (or by two processes at
            # once) for the same missing report finds the first.
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=Q(
                    source_type__isnull=False, status__in=["new", "assigned", "rectifying", "submitted"]
                ),
                name="supervision_item_open_source_unique",
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="supervision_item_status_due"),
            models.Index(fields=["escalated_to", "status"], name="supervision_item_escalated"),
            models.Index(fields=["responsible", "status"], name="supervision_item_responsible"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}" if self.pk else self.title

    def get_absolute_url(self):
        return reverse("supervision:item_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in self.OPEN

    def is_overdue(self, now=None):
        return self.is_open and (now or timezone.now()) > self.due_at

    @property
    def on_time(self):
        """Signed off by its deadline (None while not signed off)."""
        if self.status != self.Status.SIGNED_OFF or self.signed_off_at is None:
            return None
        return self.signed_off_at <= self.due_at

    @property
    def photo_required(self):
        return self.category in PHOTO_REQUIRED


def _photo_path(instance, filename):
    # Never a name or place in the path: the item and a random part only.
    ext = "png" if filename.lower().endswith(".png") else "jpg"
    return f"supervision/{instance.item_id}/{uuid.uuid4().hex}.{ext}"


class ItemPhoto(ChangeLoggedModel):
    """A photo of the problem as found, or of the fix (evidence); served only through the item's
    scoped view, never from a public media URL."""

    class Kind(models.TextChoices):
        PROBLEM = "problem", _("Problem")
        EVIDENCE = "evidence", _("Evidence of the fix")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="photos", verbose_name=_("item"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    image = models.ImageField(_("photo"), upload_to=_photo_path, max_length=200)
    # The submission round it belongs to (0 = first): a sent-back item needs fresh evidence.
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    scope_lookup = "item__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervision photo")
        verbose_name_plural = _("supervision photos")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.item_id}/{self.pk}"

    def get_absolute_url(self):
        return reverse("supervision:photo", args=[self.pk])
