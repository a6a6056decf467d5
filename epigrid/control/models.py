import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from epigrid.control import plans
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel


class Category(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed case")
    SUSPECTED = "suspected", _("Suspected case")
    FEVER = "fever", _("Fever not ruled out")
    CLOSE_CONTACT = "close_contact", _("Close contact")
    SECONDARY_CONTACT = "secondary_contact", _("Secondary contact")
    HIGH_RISK_ARRIVAL = "high_risk_arrival", _("Arrival from a high-risk area")
    MEDIUM_RISK_ARRIVAL = "medium_risk_arrival", _("Arrival from a medium-risk area")
    LOW_RISK_ARRIVAL = "low_risk_arrival", _("Arrival from a low-risk area")
    INBOUND = "inbound", _("Inbound traveller")
    SPACETIME_COMPANION = "spacetime_companion", _("Space-time companion")
    RISK_OCCUPATION = "risk_occupation", _("Risk occupation")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    TRACING = "tracing", _("Contact tracing")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    TESTING = "testing", _("Testing")
    SELF_REPORT = "self_report", _("Self-report")
    ASSISTANCE = "assistance", _("Assistance request")
    OTHER = "other", _("Other")


class MeasureKind(models.TextChoices):
    CENTRALIZED = "centralized", _("Centralized isolation")
    HOME_ISOLATION = "home_isolation", _("Home isolation")
    HOME_MONITORING = "home_monitoring", _("Home health monitoring")
    DAILY_MONITORING = "daily_monitoring", _("Daily health monitoring")


class Protocol(ChangeLoggedModel):
    """A versioned rule set (第八版, 第九版, 二十条 ...): durations, test days, zone rules as data."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=32)
    published = models.DateField(_("published"))
    rules = models.JSONField(_("rules"))
    is_active = models.BooleanField(_("active"), default=False)

    class Meta:
        verbose_name = _("protocol")
        verbose_name_plural = _("protocols")
        ordering = ["-published"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_protocol"
            )
        ]

    def __str__(self):
        return self.short_name

    @property
    def in_use(self):
        # Zones count too: the rules set their downgrade dates.
        return self.pk is not None and (self.measures.exists() or self.zones.exists())

    def clean(self):
        super().clean()
        plans.validate_rules(self.rules)
        if self.in_use and self._prechange.get("rules") != self.rules:
            raise ValidationError(
                {
                    "rules": _(
                        "This protocol has been used for plans and cannot be edited; add a new version instead."
                    )
                }
            )


class KeyPerson(ChangeLoggedModel, WorkflowModel):
    """An entry of the key-person ledger (重点人群台账)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Under control")
        RELEASED = "released", _("Released")
        CLOSED = "closed", _("Closed")

    TRANSITIONS = {"open": {"released", "closed"}, "released": {"open"}, "closed": {"open"}}

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="key_entries", verbose_name=_("person")
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible area")
    )
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.TRACING)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    protocol = models.ForeignKey(
        Protocol, on_delete=models.PROTECT, related_name="key_persons", verbose_name=_("protocol")
    )
    identified_on = models.DateField(_("identified on"), default=datetime.date.today)
    last_exposure = models.DateField(_("last exposure"), null=True, blank=True)
    arrival = models.DateField(_("arrival"), null=True, blank=True)
    discharge = models.DateField(_("discharge"), null=True, blank=True)
    origin = models.CharField(_("coming from"), max_length=100, blank=True)
    transport = models.CharField(_("transport / train or flight"), max_length=100, blank=True)
    assistance_received_at = models.DateTimeField(_("assistance request received"), null=True, blank=True)
    assistance_in_province = models.BooleanField(_("request from inside the province"), default=True)
    assistance_cleared_at = models.DateTimeField(_("assistance request cleared"), null=True, blank=True)
    street_cadre = models.CharField(_("street cadre"), max_length=64, blank=True)
    community_cadre = models.CharField(_("community cadre"), max_length=64, blank=True)
    grid_worker = models.CharField(_("grid worker"), max_length=64, blank=True)
    doctor = models.CharField(_("doctor"), max_length=64, blank=True)
    police = models.CharField(_("police officer"), max_length=64, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("key person")
        verbose_name_plural = _("key persons")
        ordering = ["-identified_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="open"), name="one_open_entry_per_person"
            )
        ]
        # The ledger's order: a page of a district's 5,000 entries is read off this index instead
        # of joining every resident first (243 ms → 3 ms at 1M residents).
        indexes = [
            models.Index(fields=["-identified_on", "-id"], name="keyperson_ordering"),
            # Open entries by category and area: the dashboard's per-category counts (decision 0032)
            # read a few thousand index entries instead of the whole ledger.
            models.Index(
                fields=["category", "area"], name="keyperson_open_category", condition=Q(status="open")
            ),
        ]

    def __str__(self):
        return f"{self.person.name}（{self.get_category_display()}）"

    def get_absolute_url(self):
        return reverse("control:keyperson_detail", args=[self.pk])

    @property
    def anchor_date(self):
        anchor = plans.anchor_of(self.protocol.rules, self.category)
        return {
            "last_exposure": self.last_exposure,
            "arrival": self.arrival,
            "discharge": self.discharge,
        }.get(anchor) or self.identified_on

    @property
    def assistance_deadline(self):
        """协查 must be cleared within 24 h (in-province) or 48 h (out-of-province)."""
        if not self.assistance_received_at:
            return None
        return self.assistance_received_at + datetime.timedelta(
            hours=24 if self.assistance_in_province else 48
        )

    def assistance_overdue(self, now):
        """An uncleared 协查 past its deadline on an open entry."""
        deadline = self.assistance_deadline
        return bool(
            deadline and not self.assistance_cleared_at and self.status == self.Status.OPEN and now > deadline
        )


class ControlMeasure(ChangeLoggedModel, WorkflowModel):
    """One step of a key person's plan, e.g. 7 days of centralized isolation."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("In progress")
        HOSPITALIZED = "hospitalized", _("Transferred to hospital")
        COMPLETED = "completed", _("Completed")
        RELEASED_EARLY = "released_early", _("Released early")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        "planned": {"active", "cancelled"},
        "active": {"completed", "released_early", "hospitalized", "cancelled"},
        "hospitalized": {"active", "completed", "cancelled"},
    }
    OPEN = ("planned", "active", "hospitalized")

    key_person = models.ForeignKey(
        KeyPerson, on_delete=models.CASCADE, related_name="measures", verbose_name=_("key person")
    )
    protocol = models.ForeignKey(
        Protocol, on_delete=models.PROTECT, related_name="measures", verbose_name=_("protocol")
    )
    sequence = models.PositiveSmallIntegerField(_("step"))
    kind = models.CharField(_("measure"), max_length=32, choices=MeasureKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    start = models.DateField(_("start"))
    planned_end = models.DateField(_("planned end"), null=True, blank=True, db_index=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    test_dates = models.JSONField(_("test days"), default=list, blank=True)
    temps_per_day = models.PositiveSmallIntegerField(_("temperature checks per day"), default=2)

    scope_lookup = "key_person__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("control measure")
        verbose_name_plural = _("control measures")
        ordering = ["key_person", "sequence"]
        constraints = [models.UniqueConstraint(fields=["key_person", "sequence"], name="measure_step_unique")]
        # The steps people are in now (in progress or in hospital), by kind and by planned end: the
        # ledger's "current measure" filters and the dashboard's tiles read these small partial
        # indexes instead of every step ever planned (decision 0032).
        indexes = [
            models.Index(
                fields=["kind", "key_person"],
                name="measure_current_kind",
                condition=Q(status__in=["active", "hospitalized"]),
            ),
            models.Index(
                fields=["planned_end", "key_person"],
                name="measure_current_end",
                condition=Q(status__in=["active", "hospitalized"]),
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} {self.start:%m-%d}–{self.planned_end:%m-%d}"
            if self.planned_end
            else self.get_kind_display()
        )


# A reading is abnormal with a fever (37.3 °C or more) or any symptom; "none" typed out counts as none.
FEVER_FROM = Decimal("37.3")
NO_SYMPTOMS = ("", "无", "无症状", "正常", "none", "-", "—", "/")
ABNORMAL = Q(temperature__gte=FEVER_FROM) | ~Q(symptoms__in=NO_SYMPTOMS)


class CheckIn(ChangeLoggedModel, WorkflowModel):
    """A temperature check (twice a day) with symptoms, recorded by a grid worker or doctor. An
    abnormal one stays on today's work lists until someone records what was done about it."""

    class FollowUp(models.TextChoices):
        PENDING = "pending", _("Not handled")
        HANDLED = "handled", _("Handled")

    class Outcome(models.TextChoices):
        RETEST_NORMAL = "retest_normal", _("Re-measured: normal")
        FEVER_CLINIC = "fever_clinic", _("Sent to a fever clinic")
        REPORTED = "reported", _("Reported")
        OTHER = "other", _("Other (see the note)")

    TRANSITIONS = {"pending": {"handled"}}
    status_field = "follow_up"

    measure = models.ForeignKey(
        ControlMeasure, on_delete=models.CASCADE, related_name="checkins", verbose_name=_("measure")
    )
    taken_at = models.DateTimeField(_("taken at"))
    temperature = models.DecimalField(
        _("temperature (°C)"),
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(34), MaxValueValidator(43)],
    )
    symptoms = models.CharField(_("symptoms"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Only abnormal readings are followed up; a normal one stays "pending" and never shows.
    follow_up = models.CharField(
        _("follow-up"), max_length=16, choices=FollowUp.choices, default=FollowUp.PENDING
    )
    outcome = models.CharField(_("what was done"), max_length=16, choices=Outcome.choices, blank=True)
    follow_up_note = models.CharField(_("note"), max_length=500, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    scope_lookup = "measure__key_person__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-taken_at"]
        indexes = [
            # The work lists count today's check-ins per measure.
            models.Index(fields=["measure", "taken_at"], name="checkin_measure_time"),
            # ... and the roll-up counts today's check-ins of a whole scope in one grouped pass.
            models.Index(fields=["taken_at", "measure"], name="checkin_time_measure"),
            # The abnormal list and its roll-up read only the few readings still to handle.
            models.Index(
                fields=["measure", "taken_at"],
                condition=ABNORMAL & Q(follow_up="pending"),
                name="checkin_abnormal_pending",
            ),
        ]

    def __str__(self):
        return f"{self.temperature}°C"

    @property
    def is_fever(self):
        return Decimal(str(self.temperature)) >= FEVER_FROM

    @property
    def is_abnormal(self):
        return self.is_fever or self.symptoms not in NO_SYMPTOMS


class HandOver(ChangeLoggedModel, WorkflowModel):
    """A request to hand a key-person entry to an area the sender does not hold: the receiving
    area sees it and accepts (the entry moves) or returns it with a note (control.services)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting the receiving area")
        ACCEPTED = "accepted", _("Accepted")
        RETURNED = "returned", _("Returned")

    TRANSITIONS = {"requested": {"accepted", "returned"}}

    key_person = models.ForeignKey(
        KeyPerson, on_delete=models.CASCADE, related_name="handovers", verbose_name=_("key person")
    )
    from_area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("handed over by")
    )
    to_area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("receiving area")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    note = models.TextField(_("note"), blank=True)
    answer = models.TextField(_("answer"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    # The receiving area's list; the sender follows it on the entry's page.
    scope_lookup = "to_area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key_person"], condition=Q(status="requested"), name="one_open_handover_per_entry"
            )
        ]

    def __str__(self):
        return f"{self.key_person.person.name}: {self.from_area.name} → {self.to_area.name}"

    def get_absolute_url(self):
        return reverse("control:handover_list")


class Zone(ChangeLoggedModel, WorkflowModel):
    """A sealed/controlled/precaution (or high/medium/low) zone on an area, a building or a unit,
    with the day it may be downgraded and the lifting workflow: street applies → district
    evaluates → city approves."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("In force")
        APPLIED = "applied", _("Lifting applied for")
        EVALUATED = "evaluated", _("Evaluated by the district")
        LIFTED = "lifted", _("Lifted")

    TRANSITIONS = {
        "active": {"applied"},
        "applied": {"evaluated", "active"},
        "evaluated": {"active", "lifted"},
    }

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    building = models.ForeignKey(
        "areas.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    level = models.CharField(_("level"), max_length=16)
    protocol = models.ForeignKey(
        Protocol, on_delete=models.PROTECT, related_name="zones", verbose_name=_("protocol")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    started_on = models.DateField(_("in force since"))
    last_case_on = models.DateField(_("last new case"), null=True, blank=True)
    rules_text = models.TextField(_("rules"), blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("risk zone")
        verbose_name_plural = _("risk zones")
        ordering = ["-started_on", "-id"]

    def __str__(self):
        where = " ".join(
            filter(None, [self.area.name, self.building.name if self.building_id else "", self.unit])
        )
        return f"{where}（{self.level_label}）"

    def get_absolute_url(self):
        return reverse("control:zone_detail", args=[self.pk])

    @property
    def level_label(self):
        return str(ZONE_LEVEL_LABELS.get(self.level, self.level))

    def clean(self):
        super().clean()
        if self.protocol_id and self.level not in self.protocol.rules["zones"]["levels"]:
            raise ValidationError(
                {
                    "level": _("%(protocol)s has no zone level %(level)s.")
                    % {"protocol": self.protocol, "level": self.level}
                }
            )
        if self.building_id and self.building.area.path[: len(self.area.path)] != self.area.path:
            raise ValidationError({"building": _("The building is not inside the zone's area.")})
        if self.unit and not self.building_id:
            raise ValidationError({"unit": _("A unit needs its building.")})

    def counted_from(self):
        return self.last_case_on or self.started_on

    def case_free_days(self, today):
        return plans.case_free_days(self.counted_from(), today)

    def downgrade(self):
        """(next level, first day it may be downgraded) under the zone's protocol."""
        return plans.downgrade_date(self.protocol.rules, self.level, self.counted_from())


ZONE_LEVEL_LABELS = {
    "sealed": _("Sealed area"),
    "controlled": _("Controlled area"),
    "precaution": _("Precaution area"),
    "high": _("High-risk area"),
    "medium": _("Medium-risk area"),
    "low": _("Low-risk area"),
}


class TestRecord(ChangeLoggedModel):
    """A nucleic-acid test taken on a day of a measure (scheduled test days or extra ones)."""

    class Result(models.TextChoices):
        PENDING = "pending", _("Awaiting result")
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        INVALID = "invalid", _("Invalid sample")

    measure = models.ForeignKey(
        ControlMeasure, on_delete=models.CASCADE, related_name="test_records", verbose_name=_("measure")
    )
    day = models.DateField(_("test day"))
    result = models.CharField(_("result"), max_length=16, choices=Result.choices, default=Result.PENDING)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    scope_lookup = "measure__key_person__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("test taken")
        verbose_name_plural = _("tests taken")
        ordering = ["-day"]
        # One record a measure a day: recording again (a retry, a result arriving) updates it.
        constraints = [models.UniqueConstraint(fields=["measure", "day"], name="test_record_per_day")]

    def __str__(self):
        return f"{self.day:%m-%d} {self.get_result_display()}"
