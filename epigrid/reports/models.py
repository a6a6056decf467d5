"""Daily reports 日报告 and zero reports 零报告 (decision 0029).

A `ReportForm` is data: which units send it (an area level), by what time each day, and its field
list (`reports.schema`). A `Submission` is one unit's report for one day: the typed values, the
live figures epigrid held at that moment beside them, the explanation of each difference, whether
it is a zero report (an attestation that nothing happened, distinct from nothing sent) and whether
it came late. One row per (form, unit, day): a retry or a second tap updates it."""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Level
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.reports import schema


class ReportForm(ChangeLoggedModel):
    """A report every unit of a level sends each day (not scoped: forms are the same everywhere)."""

    class Period(models.TextChoices):
        PREVIOUS_24H = "previous_24h", _("The 24 hours before the deadline")
        DAY = "day", _("The calendar day")

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily report (may be sent as a zero report)")
        ZERO = "zero", _("Zero report: an attestation that nothing happened")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.DAILY)
    unit_level = models.PositiveSmallIntegerField(
        _("units that send it"), choices=Level.choices, default=Level.COMMUNITY
    )
    # Empty: every area of `unit_level` sends it. Otherwise a kind registered in reports.senders
    # (an enterprise, an outlet): every such record expected that day sends it (decision 0033).
    sender_kind = models.CharField(
        _("sent by records of kind"),
        max_length=40,
        blank=True,
        help_text=_("Empty: the areas of the level send it; otherwise the kind of record that sends it."),
    )
    due_time = models.TimeField(_("due by (time of day)"), default=datetime.time(16, 0))
    period = models.CharField(
        _("covering"), max_length=16, choices=Period.choices, default=Period.PREVIOUS_24H
    )
    fields = models.JSONField(_("fields"), default=list)
    zero_statement = models.CharField(
        _("zero-report statement"),
        max_length=300,
        blank=True,
        help_text=_(
            "What a unit attests when it sends a zero report (daily forms: empty means no zero report)."
        ),
    )
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("report form")
        verbose_name_plural = _("report forms")
        ordering = ["unit_level", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("reports:reportform_edit", args=[self.pk])

    @property
    def senders(self):
        """The registered sender kind (reports.senders) of a form sent by records, else None."""
        from epigrid.reports import senders

        return senders.get(self.sender_kind) if self.sender_kind else None

    @property
    def allows_zero(self):
        return self.kind == self.Kind.ZERO or bool(self.zero_statement)

    def field(self, key):
        return next((f for f in self.fields if f["key"] == key), None)

    def numeric_keys(self):
        return [f["key"] for f in self.fields if f["type"] in schema.NUMERIC]

    def deadline(self, day):
        """The moment the report for `day` is due (aware, local time)."""
        return timezone.make_aware(datetime.datetime.combine(day, self.due_time))

    def window(self, day):
        """The period a report for `day` covers: [start, end)."""
        if self.period == self.Period.DAY:
            start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
            return start, start + datetime.timedelta(days=1)
        end = self.deadline(day)
        return end - datetime.timedelta(hours=24), end


class Submission(ChangeLoggedModel):
    """One unit's report for one day; edits update it (revision counts them), `late` stays as it
    was at the first submission."""

    form = models.ForeignKey(
        ReportForm, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("form")
    )
    unit = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    # The record that sent it, for a form with a sender kind (its area is `unit`); null otherwise.
    sender_id = models.PositiveBigIntegerField(_("sender"), null=True, blank=True)
    day = models.DateField(_("report day"))
    values = models.JSONField(_("reported values"), default=dict)
    live = models.JSONField(_("live figures at submission"), default=dict)
    explanations = models.JSONField(_("explanations of differences"), default=dict)
    zero = models.BooleanField(_("zero report"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    first_submitted_at = models.DateTimeField(_("first sent at"), editable=False)
    submitted_at = models.DateTimeField(_("last sent at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    late = models.BooleanField(_("late"), default=False, editable=False)
    revision = models.PositiveIntegerField(_("revisions"), default=1, editable=False)

    scope_lookup = "unit__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-day", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "unit", "day"],
                condition=models.Q(sender_id__isnull=True),
                name="report_submission_once_a_day",
            ),
            models.UniqueConstraint(
                fields=["form", "sender_id", "day"],
                condition=models.Q(sender_id__isnull=False),
                name="report_submission_sender_once_a_day",
            ),
        ]
        # The roll-up reads one form's day across a subtree.
        indexes = [models.Index(fields=["form", "day"], name="report_submission_form_day")]

    def __str__(self):
        return f"{self.form.name} {self.unit.name} {self.day:%Y-%m-%d}"

    def get_absolute_url(self):
        if self.sender_id is not None:
            return reverse("reports:fill_sender", args=[self.form.code, self.sender_id, self.day.isoformat()])
        return reverse("reports:fill", args=[self.form.code, self.unit.code, self.day.isoformat()])

    @property
    def on_time(self):
        return not self.late
