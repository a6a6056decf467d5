"""Mass testing 全员核酸检测, the sampling side: rounds, points and desks, pooled tubes, samples,
coverage, exemptions, door-to-door sweeps, home sampling, unregistered finds, pre-formed groups.

Writes go through `testing.services`; samples arrive through `services.ingest` (the batch API and
the desk page), idempotent per client id (decision 0019)."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import luhn

from epigrid.core import identity
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel


class Kind(models.TextChoices):
    WHOLE = "whole", _("Whole population")
    KEY_GROUPS = "key_groups", _("Key groups")
    ENTERPRISE = "enterprise", _("Enterprise staff")


# Persons per tube; 0 stands for one tube per household 1户1管 (closed by hand, one household).
POOLING_HOUSEHOLD = 0
POOLING_CHOICES = [
    (1, _("Single tube")),
    (5, _("5 in 1")),
    (10, _("10 in 1")),
    (20, _("20 in 1")),
    (POOLING_HOUSEHOLD, _("One tube per household")),
]
# A household tube still has a physical limit.
HOUSEHOLD_TUBE_LIMIT = 20


class BarcodeCheck(models.TextChoices):
    NONE = "none", _("No check digit")
    LUHN = "luhn", _("Luhn (mod 10) check digit")


class Campaign(WorkflowModel, ChangeLoggedModel):
    """A round 轮次 of mass testing over one or more areas."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")

    TRANSITIONS = {
        Status.PLANNED: {Status.RUNNING},
        Status.RUNNING: {Status.FINISHED},
        Status.FINISHED: {Status.RUNNING},  # reopened for late sweeps, with a note
    }

    name = models.CharField(_("name"), max_length=100)
    # The area the round is drawn for (the owner: who may change it); `areas` are its scope.
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("organised by")
    )
    areas = models.ManyToManyField("areas.Area", related_name="+", verbose_name=_("areas covered"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.WHOLE)
    pooling = models.PositiveSmallIntegerField(_("pooling"), choices=POOLING_CHOICES, default=10)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    turnaround_hours = models.PositiveSmallIntegerField(_("turnaround target (hours)"), default=12)
    # Specimens wait at room temperature at most 4 h: a box is due at the lab this long after its
    # first sample (the transport board's deadline).
    transport_hours = models.PositiveSmallIntegerField(
        _("delivery deadline (hours)"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(48)],
        help_text=_("A box must reach the lab within this many hours of its first sample."),
    )
    tube_prefix = models.CharField(_("tube barcode prefix"), max_length=16, blank=True)
    tube_length = models.PositiveSmallIntegerField(_("tube barcode length"), null=True, blank=True)
    tube_pattern = models.CharField(
        _("tube barcode pattern"),
        max_length=100,
        blank=True,
        help_text=_("A regular expression the whole barcode must match, e.g. [0-9]{12}."),
    )
    tube_check = models.CharField(
        _("tube check digit"), max_length=8, choices=BarcodeCheck.choices, default=BarcodeCheck.NONE
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    scope_lookup = "area__path"
    scope_upward = True
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("testing round")
        verbose_name_plural = _("testing rounds")
        ordering = ["-starts_at", "-id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("testing:campaign_detail", args=[self.pk])

    @property
    def capacity(self):
        return HOUSEHOLD_TUBE_LIMIT if self.pooling == POOLING_HOUSEHOLD else self.pooling

    @property
    def per_household(self):
        return self.pooling == POOLING_HOUSEHOLD

    def clean(self):
        super().clean()
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("A round ends after it starts.")
        if self.tube_pattern:
            try:
                re.compile(self.tube_pattern)
            except re.error as exc:
                errors["tube_pattern"] = _("Not a valid pattern: %(error)s") % {"error": exc}
        if self.tube_length is not None and not 4 <= self.tube_length <= 32:
            errors["tube_length"] = _("A tube barcode has 4 to 32 characters.")
        if errors:
            raise ValidationError(errors)

    def check_tube_barcode(self, value):
        """The normalised barcode, or ValidationError saying which part of the rule it breaks: a
        misread must be refused, never bound to another tube."""
        return check_barcode(
            value,
            prefix=self.tube_prefix,
            length=self.tube_length,
            pattern=self.tube_pattern,
            check=self.tube_check,
            label=_("tube barcode"),
        )


_BARCODE_CHARS = re.compile(r"^[0-9A-Z\-]+$")


def check_barcode(value, prefix="", length=None, pattern="", check=BarcodeCheck.NONE, label=None):
    label = label or _("barcode")
    code = identity.normalise_text(value)
    if not code:
        raise ValidationError(_("The %(label)s is empty.") % {"label": label}, code="empty")
    if len(code) > 32 or not _BARCODE_CHARS.match(code):
        raise ValidationError(
            _("The %(label)s “%(code)s” has characters a barcode of this round cannot have.")
            % {"label": label, "code": code[:32]},
            code="characters",
        )
    if prefix and not code.startswith(prefix.upper()):
        raise ValidationError(
            _("The %(label)s “%(code)s” does not start with %(prefix)s.")
            % {"label": label, "code": code, "prefix": prefix},
            code="prefix",
        )
    if length and len(code) != length:
        raise ValidationError(
            _("The %(label)s “%(code)s” has %(n)d characters; this round's have %(length)d.")
            % {"label": label, "code": code, "n": len(code), "length": length},
            code="length",
        )
    if pattern and not re.fullmatch(pattern, code):
        raise ValidationError(
            _("The %(label)s “%(code)s” does not match this round's pattern.")
            % {"label": label, "code": code},
            code="pattern",
        )
    if check == BarcodeCheck.LUHN and not (code.isdigit() and luhn.is_valid(code)):
        raise ValidationError(
            _("The check digit of the %(label)s “%(code)s” is wrong: a misread. Scan it again.")
            % {"label": label, "code": code},
            code="checksum",
        )
    return code


class OncePerRound:
    """One row per person and round: merging two records of one person keeps the survivor's row
    where both have one (people.services.merge calls this)."""

    @classmethod
    def merge_persons(cls, field, survivor, duplicate):
        taken = cls._default_manager.filter(**{field: survivor}).values("campaign_id")
        cls._default_manager.filter(**{field: duplicate, "campaign_id__in": taken}).delete()
        return cls._default_manager.filter(**{field: duplicate}).update(**{field: survivor})


class SamplingPoint(ChangeLoggedModel):
    """A sampling point 采样点 of a round: where, when, who."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="points", verbose_name=_("testing round")
    )
    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="sampling_points", verbose_name=_("area")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="sampling_points", verbose_name=_("samplers")
    )
    # Door-to-door teams sample at home through the same desk flow, on a point of their own.
    is_home_team = models.BooleanField(_("home-sampling team"), default=False)

    scope_lookup = "area__path"
    scope_binding = "staff"
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)
    autocomplete_select_related = ("campaign",)

    class Meta:
        verbose_name = _("sampling point")
        verbose_name_plural = _("sampling points")
        ordering = ["campaign", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="point_unique_name")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("testing:samplingpoint_detail", args=[self.pk])

    def autocomplete_label(self):
        # Copied rounds repeat point names: the round tells them apart.
        return f"{self.name} · {self.campaign.name}"


class Desk(ChangeLoggedModel):
    """A desk 采样台 at a point: one team, one tube open at a time."""

    point = models.ForeignKey(
        SamplingPoint, on_delete=models.CASCADE, related_name="desks", verbose_name=_("point")
    )
    name = models.CharField(_("name"), max_length=32)
    is_active = models.BooleanField(_("in use"), default=True)

    scope_lookup = "point__area__path"
    scope_binding = "point__staff"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("desk")
        verbose_name_plural = _("desks")
        ordering = ["point", "name"]
        constraints = [models.UniqueConstraint(fields=["point", "name"], name="desk_unique_name")]

    def __str__(self):
        return f"{self.point.name} · {self.name}"

    def get_absolute_url(self):
        return reverse("testing:desk", args=[self.pk])


class Tube(WorkflowModel, ChangeLoggedModel):
    """A sample tube; pooled 混管 when the round pools. Its barcode is unique across rounds."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        SEALED = "sealed", _("Sealed")

    TRANSITIONS = {
        Status.OPEN: {Status.CLOSED, Status.SEALED},
        Status.CLOSED: {Status.OPEN, Status.SEALED},
    }

    barcode = models.CharField(_("barcode"), max_length=32, unique=True)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="tubes", verbose_name=_("testing round")
    )
    point = models.ForeignKey(
        SamplingPoint, on_delete=models.PROTECT, related_name="tubes", verbose_name=_("point")
    )
    desk = models.ForeignKey(
        Desk, on_delete=models.PROTECT, related_name="tubes", verbose_name=_("desk"), db_index=False
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    # Samples in the tube now (moved-out samples no longer count); kept by the services under the
    # tube's row lock.
    count = models.PositiveSmallIntegerField(_("persons"), default=0)
    household = models.ForeignKey(
        "areas.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("household"),
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        editable=False,
        db_index=False,
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    sealed_at = models.DateTimeField(_("sealed"), null=True, blank=True)

    scope_lookup = "point__area__path"
    scope_binding = "point__staff"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tube")
        verbose_name_plural = _("tubes")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["desk", "status"], name="tube_desk_status")]

    def __str__(self):
        return self.barcode

    def get_absolute_url(self):
        return reverse("testing:tube_detail", args=[self.pk])

    @property
    def is_full(self):
        return self.count >= self.capacity


class Sample(ChangeLoggedModel):
    """One person swabbed into one tube. Append-only: a move or a void is an update, audited; the
    row itself records who scanned it, where and when (its creation is not repeated in the change
    log, decision 0019)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("In the tube")
        MOVED = "moved", _("Moved to another tube")
        VOID = "void", _("Void")

    class Via(models.TextChoices):
        DOCUMENT = "document", _("Document scanned")
        QR = "qr", _("Personal QR code")
        TYPED = "typed", _("Typed in")
        GROUP = "group", _("Pre-formed group")

    client_id = models.UUIDField(_("client id"), unique=True, default=uuid.uuid4)
    # Every index costs each of millions of inserts a day: only those a page or a rule reads.
    # Round, point and desk are the tube's (which holds them as constraints), and every desk's
    # transaction would key-share lock the same few rows through them: no database constraint on
    # these copies (decision 0019, addendum). Django still enforces on_delete.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="samples",
        verbose_name=_("testing round"),
        db_index=False,
        db_constraint=False,
    )
    point = models.ForeignKey(
        SamplingPoint,
        on_delete=models.PROTECT,
        related_name="samples",
        verbose_name=_("point"),
        db_constraint=False,
    )
    desk = models.ForeignKey(
        Desk,
        on_delete=models.PROTECT,
        related_name="samples",
        verbose_name=_("desk"),
        db_index=False,
        db_constraint=False,
    )
    tube = models.ForeignKey(
        Tube, on_delete=models.PROTECT, related_name="samples", verbose_name=_("tube"), db_index=False
    )
    position = models.PositiveSmallIntegerField(_("position in tube"))
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="samples",
        verbose_name=_("person"),
    )
    # Persons not in the registry keep their sample through the find made for them.
    find = models.ForeignKey(
        "testing.Find",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="samples",
        verbose_name=_("unregistered find"),
        db_index=False,  # a partial index below: almost every sample has none
    )
    via = models.CharField(_("identified by"), max_length=8, choices=Via.choices, default=Via.DOCUMENT)
    # A second sample of the same person in the round is kept, flagged (warned at the desk).
    repeat = models.BooleanField(_("sampled before in this round"), default=False)
    scanned_at = models.DateTimeField(_("scanned"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("scanned by"),
        db_index=False,
        db_constraint=False,  # one user scans all day: see campaign above
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    moved_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved to"),
        db_index=False,
    )

    scope_lookup = "point__area__path"
    scope_binding = "point__staff"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        ordering = ["tube", "position"]
        indexes = [
            models.Index(fields=["tube", "position"], name="sample_tube_position"),
            models.Index(fields=["desk", "received_at"], name="sample_desk_received"),
            models.Index(fields=["find"], name="sample_find", condition=models.Q(find__isnull=False)),
        ]

    def __str__(self):
        return f"{self.tube.barcode} #{self.position}"

    def get_absolute_url(self):
        return reverse("testing:tube_detail", args=[self.tube_id])


class SampledPerson(OncePerRound, models.Model):
    """Who has been sampled in a round, once per person: the coverage count and the "sampled
    before" check read this, not the samples. Filed under the person's grid at sampling time."""

    # Indexes: (campaign, person) unique and (campaign, area) for the counts; no others.
    # No database constraint to the round and the grid: every desk's transaction would key-share
    # lock those few rows (decision 0019, addendum); Django enforces on_delete.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    first_sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="+")
    sampled_at = models.DateTimeField()

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("sampled person")
        verbose_name_plural = _("sampled persons")
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="sampled_once")]
        indexes = [models.Index(fields=["campaign", "area"], name="sampled_campaign_area")]

    def __str__(self):
        return f"{self.campaign_id}:{self.person_id}"


class ExemptionReason(models.TextChoices):
    BEDRIDDEN = "bedridden", _("Bedridden or severely ill (home sampling instead)")
    INFANT = "infant", _("Infant")
    HOSPITAL = "hospital", _("In hospital")
    AWAY = "away", _("Away from the city")
    MOVED = "moved", _("Moved away")
    ISOLATED = "isolated", _("Under isolation, tested separately")
    DECEASED = "deceased", _("Deceased")
    OTHER = "other", _("Other")


class Exemption(OncePerRound, ChangeLoggedModel):
    """A recorded exemption 免检: the person leaves the round's target population."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="exemptions", verbose_name=_("testing round")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", editable=False)
    reason = models.CharField(_("reason"), max_length=16, choices=ExemptionReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="exempt_once")]
        indexes = [models.Index(fields=["campaign", "area"], name="exempt_campaign_area")]

    def __str__(self):
        return f"{self.person} · {self.get_reason_display()}"

    def get_absolute_url(self):
        return reverse("testing:exemption_detail", args=[self.pk])

    def save(self, *args, **kwargs):
        self.area_id = self.person.area_id
        super().save(*args, **kwargs)


class Find(WorkflowModel, ChangeLoggedModel):
    """Someone sampled who is not in the registry (发现未登记人员): their sample is kept; the grid
    registers them (the sample then follows the person) or rejects the find with a reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To register")
        REGISTERED = "registered", _("Registered")
        REJECTED = "rejected", _("Rejected")

    TRANSITIONS = {Status.PENDING: {Status.REGISTERED, Status.REJECTED}, Status.REJECTED: {Status.PENDING}}

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="finds", verbose_name=_("testing round")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    doc_type = models.CharField(_("document type"), max_length=3, default=identity.DOC_RESIDENT_ID)
    doc_number = models.CharField(_("document number"), max_length=32)
    name = models.CharField(_("full name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered as"),
    )

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    personal_fields = ("doc_number", "phone")

    class Meta:
        verbose_name = _("unregistered find")
        verbose_name_plural = _("unregistered finds")
        ordering = ["status", "-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "doc_type", "doc_number"], name="find_once_per_round")
        ]

    def __str__(self):
        return f"{self.name or '—'} {self.masked_doc_number}"

    def get_absolute_url(self):
        return reverse("testing:find_detail", args=[self.pk])

    @property
    def masked_doc_number(self):
        return identity.mask_document(self.doc_number)

    @property
    def masked_phone(self):
        return identity.mask_phone(self.phone)


class SweepOutcome(models.TextChoices):
    SAMPLED_HOME = "sampled_home", _("Sampled at home")
    NOT_HOME = "not_home", _("Not at home (visit again)")
    MOVED = "moved", _("Moved away")
    AWAY = "away", _("Away from the city")
    HOSPITAL = "hospital", _("In hospital")
    EXEMPT = "exempt", _("Exempt")


# Outcomes that take the person out of the target population, as an exemption with this reason.
SWEEP_EXEMPTS = {
    SweepOutcome.MOVED: ExemptionReason.MOVED,
    SweepOutcome.AWAY: ExemptionReason.AWAY,
    SweepOutcome.HOSPITAL: ExemptionReason.HOSPITAL,
}


class SweepVisit(ChangeLoggedModel):
    """A door-to-door sweep 扫楼 visit to someone the round missed, and what came of it."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="sweeps", verbose_name=_("testing round")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", editable=False)
    outcome = models.CharField(_("outcome"), max_length=16, choices=SweepOutcome.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    visited_at = models.DateTimeField(_("visited"), default=timezone.now)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("sweep visit")
        verbose_name_plural = _("sweep visits")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["campaign", "person"], name="sweep_campaign_person")]

    def __str__(self):
        return f"{self.person} · {self.get_outcome_display()}"

    def save(self, *args, **kwargs):
        self.area_id = self.person.area_id
        super().save(*args, **kwargs)


class HomeTask(WorkflowModel, ChangeLoggedModel):
    """Home sampling 上门采样 for the bedridden and elderly: assigned to a home team's point, done
    with the desk flow there."""

    class Status(models.TextChoices):
        OPEN = "open", _("To visit")
        DONE = "done", _("Sampled")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {Status.OPEN: {Status.DONE, Status.CANCELLED}, Status.CANCELLED: {Status.OPEN}}

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="home_tasks", verbose_name=_("testing round")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", editable=False)
    team = models.ForeignKey(
        SamplingPoint,
        on_delete=models.PROTECT,
        related_name="home_tasks",
        verbose_name=_("home-sampling team"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    sample = models.ForeignKey(Sample, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("home-sampling task")
        verbose_name_plural = _("home-sampling tasks")
        ordering = ["status", "area", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "person"], condition=models.Q(status="open"), name="one_open_home_task"
            )
        ]

    def __str__(self):
        return f"{self.person} · {self.team}"

    @classmethod
    def merge_persons(cls, field, survivor, duplicate):
        """Merging: the duplicate's open task goes where the survivor has none open."""
        open_ = cls.Status.OPEN
        taken = cls._default_manager.filter(**{field: survivor, "status": open_}).values("campaign_id")
        cls._default_manager.filter(**{field: duplicate, "status": open_, "campaign_id__in": taken}).update(
            status=cls.Status.CANCELLED
        )
        return cls._default_manager.filter(**{field: duplicate}).update(**{field: survivor})

    def save(self, *args, **kwargs):
        self.area_id = self.person.area_id
        super().save(*args, **kwargs)


class Group(ChangeLoggedModel):
    """A pre-formed group 预编组 of up to the pooling size, imported before the round: the desk
    scans the group's code and every member goes into the open tube."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="groups", verbose_name=_("testing round")
    )
    code = models.CharField(_("group code"), max_length=32)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    members = models.ManyToManyField("people.Person", related_name="+", verbose_name=_("members"))

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pre-formed group")
        verbose_name_plural = _("pre-formed groups")
        ordering = ["campaign", "code"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="group_unique_code")]

    def __str__(self):
        return self.code
