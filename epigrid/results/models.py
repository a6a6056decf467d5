"""Lab results 检测结果: one current result per tube, and the corrections made to it
(docs/decisions/0022-lab-results.md).

Results come in only through `results.services.record_results` (the batch API, the lab's LIS
export through the import pipeline, the demo), idempotent per tube and result. A result that
contradicts the stored one is a correction: it needs a reason, is change-logged and leaves a
`ResultCorrection` row, which the result's page lists."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet

CT_MIN, CT_MAX = 0, 45


class Result(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POOLED_POSITIVE = "pooled_positive", _("Pooled positive")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid (resample)")
    PENDING = "pending", _("Pending")


# Results the follow-up work acts on (fan-out of a pooled positive, resampling an invalid tube).
FLAGGED = frozenset({Result.POOLED_POSITIVE, Result.POSITIVE, Result.INVALID})


class Source(models.TextChoices):
    API = "api", _("Batch API")
    IMPORT = "import", _("File import")
    PAGE = "page", _("Result page")
    DEMO = "demo", _("Demo")


def _ct_field(label):
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(CT_MIN), MaxValueValidator(CT_MAX)],
    )


class TubeResult(ChangeLoggedModel):
    """The current result of one tube (single or pooled: pooling is the round's). The creation is
    not repeated in the change log: the row records the lab, source, job, batch, who and when
    (as samples do, decision 0019); every later change is logged, corrections with their reason."""

    # The result is the tube's: the tube itself is kept by its samples and box entries (PROTECT).
    # No database constraint either: every writer inserts the row by joining the tube in the same
    # statement (results.services._insert), tubes are deleted only through Django (which cascades),
    # and the constraint's check, a key-share lock on each tube, was most of a LIS file's import
    # (decision 0022 addendum).
    tube = models.OneToOneField(
        "testing.Tube",
        on_delete=models.CASCADE,
        related_name="lab_result",
        verbose_name=_("tube"),
        db_constraint=False,
    )
    # Copied from the tube when the result is recorded: lists filter by round and point, and the
    # scope reads the point's area, without joining the tube.
    # No database constraint on the rows every result shares (round, point, lab, job, user): a LIS
    # file's million inserts would each check them (and key-share lock them against every other
    # writer, decision 0019); the tube keeps its constraint, and Django still applies on_delete.
    campaign = models.ForeignKey(
        "testing.Campaign",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("testing round"),
        db_index=False,
        db_constraint=False,
    )
    point = models.ForeignKey(
        "testing.SamplingPoint",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("point"),
        db_index=False,
        db_constraint=False,
    )
    lab = models.ForeignKey(
        "transport.Lab",
        on_delete=models.PROTECT,
        related_name="results",
        verbose_name=_("lab"),
        db_constraint=False,
    )
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    ct_orf1ab = _ct_field(_("Ct ORF1ab"))
    ct_n = _ct_field(_("Ct N"))
    tested_at = models.DateTimeField(_("tested"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported"))
    # The tube's first sample (Tube.opened_at: set from the first scan's own time), and the round's
    # turnaround target counted from it, as they were when the result came in.
    sampled_at = models.DateTimeField(_("sampled"))
    due_at = models.DateTimeField(_("due"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    job = models.ForeignKey(
        "jobs.Job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The request or job that wrote the row (the change context's request id).
    batch = models.UUIDField(_("batch"), null=True, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
        db_index=False,
        db_constraint=False,
    )

    scope_lookup = "point__area__path"
    # A lab's staff reach the results their lab reported (of tubes delivered to it).
    scope_binding = {"lab_staff": "lab__staff"}
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("lab result")
        verbose_name_plural = _("lab results")
        ordering = ["-reported_at", "-id"]
        # Every index costs each of a million inserts: the unique tube, the lab (FK) and the lists'.
        indexes = [models.Index(fields=["campaign", "result"], name="result_campaign_result")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ct_orf1ab__isnull=True) | models.Q(ct_orf1ab__gte=0, ct_orf1ab__lte=45),
                name="result_ct_orf1ab_range",
            ),
            models.CheckConstraint(
                condition=models.Q(ct_n__isnull=True) | models.Q(ct_n__gte=0, ct_n__lte=45),
                name="result_ct_n_range",
            ),
        ]

    def __str__(self):
        return f"{self.tube.barcode} · {self.get_result_display()}"

    def get_absolute_url(self):
        return reverse("results:tuberesult_detail", args=[self.pk])

    @property
    def is_late(self):
        return self.result != Result.PENDING and self.reported_at > self.due_at

    @property
    def turnaround_hours(self):
        return round((self.reported_at - self.sampled_at).total_seconds() / 3600, 1)


class ResultCorrection(models.Model):
    """A correction 结果更正: the stored result contradicted by a later one, with the reason. Read
    only through its result (already scoped); append-only."""

    result = models.ForeignKey(
        TubeResult, on_delete=models.CASCADE, related_name="corrections", verbose_name=_("lab result")
    )
    before = models.CharField(_("was"), max_length=16, choices=Result.choices)
    after = models.CharField(_("now"), max_length=16, choices=Result.choices)
    before_ct_orf1ab = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    before_ct_n = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    before_reported_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    corrected_at = models.DateTimeField(_("corrected"))
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("corrected by"),
        db_index=False,
    )

    class Meta:
        verbose_name = _("result correction")
        verbose_name_plural = _("result corrections")
        ordering = ["result", "corrected_at", "id"]

    def __str__(self):
        return f"{self.get_before_display()} → {self.get_after_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Result corrections are append-only.")
        super().save(*args, **kwargs)
