"""Pooled-positive follow-up 混阳处置 and single-tube retests 单管复核
(docs/decisions/0023-pooled-positive-follow-up.md).

A tube whose result turns pooled positive (or invalid) gets one `PoolFollowUp`, opened in the very
transaction that stored the result (results.signals.results_changed), and one `RetestTask` per
person sampled into it, for the person's grid worker: hold in place 原地管控, then a single-tube
retest 单管复核 whose result releases the person or registers them as a key person and proposes
their building as a risk zone (`ZoneProposal`, confirmed by the street). An invalid tube asks for
a resample 重采 of everyone in it. Everything is written through `retests.services`."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

# Hours from the pooled-positive result to the single-tube retest (and from an invalid result to
# the resample): the national guidance's "6 hours" for a pooled positive's retest. Settings may
# override it with RETEST_DUE_HOURS.
DEFAULT_DUE_HOURS = 6


class Kind(models.TextChoices):
    POOLED_POSITIVE = "pooled_positive", _("Pooled positive")
    INVALID = "invalid", _("Invalid (resample)")


class PoolFollowUp(WorkflowModel, ChangeLoggedModel):
    """The follow-up of one flagged tube: open while any of its tasks is."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.OPEN: {Status.DONE, Status.CANCELLED},
        # A correction undone (the tube flagged again) or a task reopened.
        Status.CANCELLED: {Status.OPEN},
        Status.DONE: {Status.OPEN},
    }

    tube = models.ForeignKey(
        "testing.Tube", on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("tube")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The tube's sampling point's area (scoping); the persons' grid workers reach it by their tasks.
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_by = models.DateTimeField(_("due by"))
    due_hours = models.PositiveSmallIntegerField(_("hours allowed"), default=DEFAULT_DUE_HOURS)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pooled-tube follow-up")
        verbose_name_plural = _("pooled-tube follow-ups")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tube", "kind"], name="retests_one_follow_up_per_tube")
        ]
        indexes = [models.Index(fields=["status", "due_by"], name="retests_followup_due")]

    def __str__(self):
        return f"{self.tube.barcode} · {self.get_kind_display()}"

    def get_absolute_url(self):
        return reverse("retests:poolfollowup_detail", args=[self.pk])

    def is_late(self, now=None):
        return self.status == self.Status.OPEN and self.due_by < (now or timezone.now())


class RetestTask(WorkflowModel, ChangeLoggedModel):
    """One person of a flagged tube, for their grid worker. Pooled positive: open → held (原地管控)
    → sampled (单管复核, the retest tube's barcode) → released (negative) / positive (key person).
    Invalid: open → sampled (重采) → done. Any open step may be cancelled (a correction)."""

    class Status(models.TextChoices):
        OPEN = "open", _("To hold")
        HELD = "held", _("Held in place")
        SAMPLED = "sampled", _("Retest sampled")
        RELEASED = "released", _("Released (negative)")
        POSITIVE = "positive", _("Retest positive")
        DONE = "done", _("Resampled")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.OPEN: {Status.HELD, Status.SAMPLED, Status.CANCELLED},
        Status.HELD: {Status.SAMPLED, Status.CANCELLED},
        Status.SAMPLED: {Status.RELEASED, Status.POSITIVE, Status.DONE, Status.CANCELLED},
        Status.CANCELLED: {Status.OPEN},
    }
    ACTIVE = (Status.OPEN, Status.HELD, Status.SAMPLED)

    follow_up = models.ForeignKey(
        PoolFollowUp, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("follow-up")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sample = models.ForeignKey(
        "testing.Sample", on_delete=models.CASCADE, related_name="+", verbose_name=_("sample"), db_index=False
    )
    # None for a person sampled unregistered (a find): listed by name until registered.
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )
    name = models.CharField(_("full name"), max_length=64, blank=True)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    household = models.ForeignKey(
        "areas.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("household"),
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    due_by = models.DateTimeField(_("due by"))
    held_at = models.DateTimeField(_("held in place"), null=True, blank=True, editable=False)
    sampled_at = models.DateTimeField(_("retest sampled"), null=True, blank=True, editable=False)
    retest_barcode = models.CharField(_("retest tube"), max_length=32, blank=True, editable=False)
    retest_tube = models.ForeignKey(
        "testing.Tube",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("retest tube"),
        editable=False,
        db_index=False,
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, editable=False)
    key_person = models.ForeignKey(
        "control.KeyPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key-person entry"),
        editable=False,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("retest task")
        verbose_name_plural = _("retest tasks")
        ordering = ["due_by", "id"]
        constraints = [
            models.UniqueConstraint(fields=["follow_up", "sample"], name="retests_one_task_per_sample")
        ]
        indexes = [models.Index(fields=["status", "due_by"], name="retests_task_due")]

    def __str__(self):
        return f"{self.name}: {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("retests:retesttask_detail", args=[self.pk])

    def is_late(self, now=None):
        if self.status not in (self.Status.OPEN, self.Status.HELD):
            return False
        return self.due_by < (now or timezone.now())


class ZoneProposal(WorkflowModel, ChangeLoggedModel):
    """A building proposed as a risk zone after a positive retest, for the street to confirm (the
    zone itself is then drawn through control's zone pages)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    TRANSITIONS = {Status.PROPOSED: {Status.CONFIRMED, Status.DISMISSED}}

    building = models.ForeignKey(
        "areas.Building", on_delete=models.PROTECT, related_name="+", verbose_name=_("building")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    # The proposal stands on its task's positive retest: it goes with the task (only ever deleted
    # with its round's tubes), rather than outliving it and holding its building and area.
    task = models.ForeignKey(
        RetestTask, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("task")
    )
    reason = models.CharField(_("reason"), max_length=200)
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    # The zone drawn when the street confirmed the proposal (control's zone, with its lifting).
    zone = models.ForeignKey(
        "control.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("risk zone"),
        editable=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("zone proposal")
        verbose_name_plural = _("zone proposals")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["building"],
                condition=Q(status="proposed"),
                name="retests_one_open_proposal_per_building",
            )
        ]

    def __str__(self):
        return f"{self.building} · {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("retests:zoneproposal_detail", args=[self.pk])
