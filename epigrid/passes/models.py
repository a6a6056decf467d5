"""Household passes 临时出入证 (decision 0028): one pass per household of a controlled zone with its
rule (N persons per M days), special passes for a named person (medical visit 就医, staff 工作人员,
supply 保供) with their own validity, and every scan at a gate as an append-only use.

Writes go through `passes.services`. A pass and its uses are filed under the household's grid;
gate staff (role `checkpoint_staff`) reach every pass of their grant's subtree (they must scan any
household around their gate) but only the uses recorded at the checkpoints they staff."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

# The seed's rule: one person of the household may go out once every two days.
DEFAULT_PERSONS = 1
DEFAULT_DAYS = 2
# A gate's staff see the uses recorded at their posts (checkpoints.Checkpoint.staff).
USE_BINDING = {"checkpoint_staff": "checkpoint__staff"}


class HouseholdPass(WorkflowModel, ChangeLoggedModel):
    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("Household pass")
        MEDICAL = "medical", _("Medical visit")
        STAFF = "staff", _("Staff")
        SUPPLY = "supply", _("Supply")

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("pass", "Active")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    TRANSITIONS = {"active": {"revoked", "expired"}}
    SPECIAL = (Kind.MEDICAL, Kind.STAFF, Kind.SUPPLY)

    household = models.ForeignKey(
        "areas.Household", on_delete=models.PROTECT, related_name="passes", verbose_name=_("household")
    )
    # The household's grid when issued: the scope, read without joining the building.
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"), editable=False
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.HOUSEHOLD)
    zone = models.ForeignKey(
        "control.Zone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued under zone"),
    )
    # Special passes name the one person who may use them.
    holder = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("holder"),
    )
    # The rule, copied onto the pass when issued: changing the zone's practice later does not
    # change the cards already handed out. Empty on a special pass = no quota.
    persons_per_window = models.PositiveSmallIntegerField(
        _("exits per window"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    # Bumped on revocation: every printed card of an older version stops scanning.
    code_version = models.PositiveIntegerField(_("code version"), default=1, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued at"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household pass")
        verbose_name_plural = _("household passes")
        ordering = ["-issued_at", "-id"]
        constraints = [
            # One household pass in force per household: issuing again for a zone keeps it.
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(kind="household", status="active"),
                name="passes_one_active_household_pass",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="passes_valid_until_after_from"
            ),
            models.CheckConstraint(
                condition=Q(persons_per_window__isnull=True, window_days__isnull=True)
                | Q(persons_per_window__isnull=False, window_days__isnull=False),
                name="passes_rule_complete",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self):
        return reverse("passes:householdpass_detail", args=[self.pk])

    @property
    def has_quota(self):
        return self.persons_per_window is not None

    @property
    def is_special(self):
        return self.kind in self.SPECIAL


class PassWindow(models.Model):
    """The exits claimed in one quota window of a pass: the counter the atomic claim updates
    (`INSERT … ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < N RETURNING used`). Internal to passes.services; the uses are the
    record people read, this row only makes two gates' claims exclusive."""

    household_pass = models.ForeignKey(HouseholdPass, on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField()
    used = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household_pass", "starts_on"], name="passes_window_unique")
        ]

    def __str__(self):
        return f"{self.household_pass_id} {self.starts_on}: {self.used}"


class PassUse(ChangeLoggedModel):
    """One scan at a gate, allowed or refused (refusals count in the checkpoints' statistics).
    Append-only: a return is its own row pointing at the exit it closes."""

    class Direction(models.TextChoices):
        EXIT = "exit", pgettext_lazy("pass", "Exit")
        RETURN = "return", pgettext_lazy("pass", "Return")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", pgettext_lazy("pass", "Allowed")
        REFUSED = "refused", pgettext_lazy("pass", "Refused")

    class Reason(models.TextChoices):
        REVOKED = "revoked", _("Pass revoked")
        EXPIRED = "expired", _("Pass expired")
        NOT_YET_VALID = "not_yet_valid", _("Pass not yet valid")
        NOT_MEMBER = "not_member", _("Not a person of this pass")
        QUOTA_USED = "quota_used", _("Exits of this window used")
        ISOLATING = "isolating", _("Under isolation")
        ZONE_LIFTED = "zone_lifted", _("Zone no longer controlled")
        ALREADY_OUT = "already_out", _("Already out")
        NOT_OUT = "not_out", _("No exit to return from")

    household_pass = models.ForeignKey(
        HouseholdPass, on_delete=models.PROTECT, related_name="uses", verbose_name=_("pass")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    outcome = models.CharField(pgettext_lazy("pass", "outcome"), max_length=8, choices=Outcome.choices, db_index=True)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices, blank=True)
    at = models.DateTimeField(_("at"), db_index=True)
    # The quota window an allowed exit was counted in (its first local day).
    window_starts_on = models.DateField(_("window from"), null=True, blank=True)
    # A return closes one exit, once: the unique key keeps two gates from both closing it.
    exit = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="return_use",
        verbose_name=_("exit returned from"),
    )
    checkpoint = models.ForeignKey(
        "checkpoints.Checkpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checkpoint"),
    )
    # The scanning phone's id for this scan: a retried request answers as the first.
    client_id = models.UUIDField(_("client id"), unique=True, default=uuid.uuid4, editable=False)
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scanned by"),
    )

    scope_lookup = "household_pass__area__path"
    scope_binding = USE_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pass use")
        verbose_name_plural = _("pass uses")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "direction", "outcome"], name="passes_use_person")]

    def __str__(self):
        return f"{self.get_direction_display()} {self.get_outcome_display()} #{self.pk}"

    def get_absolute_url(self):
        return reverse("passes:householdpass_detail", args=[self.household_pass_id])
