"""Antigen self-tests 抗原自测 (decision 0021): rounds of kits handed out per household, one result
per person and round reported by a grid worker (later by the resident), and for a positive result a
nucleic-acid follow-up task 单管核酸复核 for the grid worker.

Writes go through `antigen.services`; every row is filed under the household's grid, so the scope
of a grid worker is exactly their grid's doors."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

MAX_KITS_PER_HOUSEHOLD = 50  # a 40-person dormitory room is the largest "household" we have seen


class Allocation(models.TextChoices):
    PER_PERSON = "per_person", _("Per person")
    PER_HOUSEHOLD = "per_household", _("Per household")


class AntigenRound(ChangeLoggedModel):
    """A round 轮次 of antigen self-tests: kits handed out door to door, results due by a time."""

    name = models.CharField(_("name"), max_length=100)
    # The area the round is drawn for (who may change it); `areas` are the areas it covers.
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("organised by")
    )
    areas = models.ManyToManyField("areas.Area", related_name="+", verbose_name=_("areas covered"))
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    allocation = models.CharField(
        _("kits are counted"), max_length=16, choices=Allocation.choices, default=Allocation.PER_PERSON
    )
    kits_per = models.PositiveSmallIntegerField(
        _("kits each"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Kits per person or per household, as counted above; the hand-out page suggests it."),
    )
    results_due_at = models.DateTimeField(_("results due by"))
    follow_up_hours = models.PositiveSmallIntegerField(
        _("nucleic-acid retest within (hours)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
        help_text=_(
            "A positive self-test must be retested by a single-tube nucleic-acid test within this time."
        ),
    )

    scope_lookup = "area__path"
    # A district's round is seen by the grid workers who hand its kits out; changed only above.
    scope_upward = True
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("antigen round")
        verbose_name_plural = _("antigen rounds")
        ordering = ["-starts_on", "-id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("antigen:antigenround_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A round ends on or after the day it starts.")})

    def suggested_kits(self, members):
        if self.allocation == Allocation.PER_HOUSEHOLD:
            return self.kits_per
        return self.kits_per * members

    def covers(self, area_path):
        return any(area_path.startswith(a.path) for a in self.areas.all())


class KitDistribution(ChangeLoggedModel):
    """Kits handed to one household in one round 发放: handing out again corrects the count."""

    round = models.ForeignKey(
        AntigenRound, on_delete=models.CASCADE, related_name="distributions", verbose_name=_("antigen round")
    )
    household = models.ForeignKey(
        "areas.Household",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("household"),
        db_index=False,
    )
    # The household's grid, copied so counts and scope read one indexed column.
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    kits = models.PositiveSmallIntegerField(_("kits"), validators=[MaxValueValidator(MAX_KITS_PER_HOUSEHOLD)])
    handed_out_at = models.DateTimeField(_("handed out"), default=timezone.now)
    handed_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed out by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("kit distribution")
        verbose_name_plural = _("kit distributions")
        ordering = ["-handed_out_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "round"], name="antigen_one_distribution_per_household"
            )
        ]
        indexes = [models.Index(fields=["round", "area"], name="antigen_distribution_area")]

    def __str__(self):
        return f"{self.household}: {self.kits}"

    def get_absolute_url(self):
        return reverse("antigen:kitdistribution_detail", args=[self.pk])


class Result(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid")


class Via(models.TextChoices):
    WORKER = "worker", _("Grid worker")
    RESIDENT = "resident", _("Resident")
    API = "api", _("API")


def _photo_path(instance, filename):
    # Never the person's name or number in a path: the round and a random part only.
    import uuid

    ext = "png" if filename.lower().endswith(".png") else "jpg"
    return f"antigen/{instance.round_id}/{uuid.uuid4().hex}.{ext}"


class AntigenReport(ChangeLoggedModel):
    """One person's self-test result in a round (阴性/阳性/无效). Reporting again updates it; the
    change log keeps every earlier result. An invalid result asks for a retest: the report
    stays "retest requested" until a valid result replaces it."""

    round = models.ForeignKey(
        AntigenRound, on_delete=models.CASCADE, related_name="reports", verbose_name=_("antigen round")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("person"), db_index=False
    )
    household = models.ForeignKey(
        "areas.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("household"),
        db_index=False,
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    tested_at = models.DateTimeField(_("tested"), default=timezone.now)
    via = models.CharField(_("reported by"), max_length=16, choices=Via.choices, default=Via.WORKER)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # Served only through the report's own page to whoever may see the report (never MEDIA_URL).
    photo = models.ImageField(_("photo"), upload_to=_photo_path, blank=True, max_length=200)
    retest_requested_at = models.DateTimeField(_("retest requested"), null=True, blank=True, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("antigen report")
        verbose_name_plural = _("antigen reports")
        ordering = ["-tested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "round"], name="antigen_one_report_per_person")
        ]
        indexes = [models.Index(fields=["round", "area", "result"], name="antigen_report_area")]

    def __str__(self):
        return f"{self.person.name}: {self.get_result_display()}"

    def get_absolute_url(self):
        return reverse("antigen:antigenreport_detail", args=[self.pk])

    @property
    def retest_state(self):
        """'requested' while the last result is invalid; 'done' once a valid one replaced it."""
        if self.result == Result.INVALID:
            return "requested"
        return "done" if self.retest_requested_at else ""

    @classmethod
    def merge_persons(cls, field, survivor, duplicate):
        """One report per person and round: merging keeps the survivor's where both have one."""
        taken = cls._default_manager.filter(**{field: survivor}).values("round_id")
        cls._default_manager.filter(**{field: duplicate, "round_id__in": taken}).delete()
        return cls._default_manager.filter(**{field: duplicate}).update(**{field: survivor})


class AntigenFollowUp(WorkflowModel, ChangeLoggedModel):
    """The nucleic-acid test a positive self-test calls for: a single tube 单管 to arrange for the
    person, by `due_by`. Heads the grid worker's antigen pages while open."""

    class Status(models.TextChoices):
        OPEN = "open", _("To arrange")
        SAMPLED = "sampled", _("Sampled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.OPEN: {Status.SAMPLED, Status.DONE, Status.CANCELLED},
        Status.SAMPLED: {Status.DONE, Status.CANCELLED},
        Status.CANCELLED: {Status.OPEN},  # the positive report came back (a correction undone)
        Status.DONE: set(),
    }
    ACTIVE = (Status.OPEN, Status.SAMPLED)

    report = models.OneToOneField(
        AntigenReport, on_delete=models.CASCADE, related_name="follow_up", verbose_name=_("antigen report")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("person"), db_index=False
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    key_person = models.ForeignKey(
        "control.KeyPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key-person entry"),
        editable=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    due_by = models.DateTimeField(_("due by"))
    sampled_at = models.DateTimeField(_("sampled"), null=True, blank=True, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("nucleic-acid follow-up")
        verbose_name_plural = _("nucleic-acid follow-ups")
        ordering = ["due_by", "id"]
        indexes = [models.Index(fields=["status", "due_by"], name="antigen_followup_due")]

    def __str__(self):
        return f"{self.person.name}: {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("antigen:antigenfollowup_detail", args=[self.pk])

    def is_late(self, now=None):
        return self.status == self.Status.OPEN and self.due_by < (now or timezone.now())
