"""Contact tracing 流调 (decision 0025): a case's investigation, its trajectory, its contacts, and the
chains and clusters they make.

Writes go through `tracing.services`. A case and everything under it are filed under the case's
responsible area; tracers (role `tracer`) reach only the cases of the teams they are on. A contact
is a link from a case to a registered person; the person may later become a case themselves, and
that case points back at the contact (`Case.source_contact`): the chain is the links, never a copy."""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

TEAM_BINDING = {"tracer": "members"}
CASE_BINDING = {"tracer": "team__members"}
ROW_BINDING = {"tracer": "case__team__members"}


class Team(ChangeLoggedModel):
    """A tracing team 流调队 (usually CDC staff with police and community officers)."""

    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("filed under")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="tracing_teams", verbose_name=_("members")
    )

    scope_lookup = "area__path"
    scope_binding = TEAM_BINDING
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("tracing team")
        verbose_name_plural = _("tracing teams")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tracing:team_detail", args=[self.pk])


class Cluster(ChangeLoggedModel):
    """A cluster 聚集性疫情: cases and contacts linked by one event (a restaurant, a bus, a workplace)."""

    class Kind(models.TextChoices):
        RESTAURANT = "restaurant", _("Restaurant")
        VEHICLE = "vehicle", _("Bus or vehicle")
        WORKPLACE = "workplace", _("Workplace")
        VENUE = "venue", _("Venue")
        FAMILY = "family", _("Family gathering")
        MEDICAL = "medical", _("Medical setting")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    place = models.CharField(_("place"), max_length=200, blank=True)
    started_on = models.DateField(_("date"), null=True, blank=True)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("filed under")
    )
    notes = models.TextField(_("notes"), blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        ordering = ["-started_on", "-id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tracing:cluster_detail", args=[self.pk])


class Case(WorkflowModel, ChangeLoggedModel):
    """A case under investigation: a confirmed or asymptomatic positive."""

    class Classification(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed case")
        ASYMPTOMATIC = "asymptomatic", _("Asymptomatic infection")

    class Status(models.TextChoices):
        OPEN = "open", _("Under investigation")
        CLOSED = "closed", _("Closed")

    TRANSITIONS = {Status.OPEN: {Status.CLOSED}, Status.CLOSED: {Status.OPEN}}

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible area")
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("tracing team"),
    )
    classification = models.CharField(
        _("classification"), max_length=16, choices=Classification.choices, default=Classification.CONFIRMED
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    protocol = models.ForeignKey(
        "control.Protocol", on_delete=models.PROTECT, related_name="+", verbose_name=_("protocol")
    )
    key_person = models.ForeignKey(
        "control.KeyPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key-person entry"),
    )
    # The contact record of this person under an earlier case: the link of the chain.
    source_contact = models.ForeignKey(
        "Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="became_cases",
        verbose_name=_("became a case as a contact of"),
    )
    cluster = models.ForeignKey(
        Cluster,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("cluster"),
    )
    onset_date = models.DateField(_("symptom onset"), null=True, blank=True)
    sampled_on = models.DateField(_("first positive sample taken on"))
    # The clocks of the deadlines run from the moment the positive was known.
    positive_at = models.DateTimeField(_("positive known at"))
    reported_at = models.DateTimeField(_("positive reported at"), null=True, blank=True)
    trajectory_done_at = models.DateTimeField(_("trajectory finished at"), null=True, blank=True)
    report_done_at = models.DateTimeField(_("preliminary report at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)

    scope_lookup = "area__path"
    scope_binding = CASE_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-positive_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["person"], name="tracing_one_case_per_person")]

    def __str__(self):
        return _("Case %(n)s") % {"n": self.pk}

    def get_absolute_url(self):
        return reverse("tracing:case_detail", args=[self.pk])

    @property
    def lookback_anchor(self):
        """Onset when there are symptoms, otherwise the first positive sample."""
        return self.onset_date or self.sampled_on

    @property
    def lookback_from(self):
        from epigrid.tracing.rules import lookback_days

        return self.lookback_anchor - datetime.timedelta(days=lookback_days(self.protocol.rules))


class TrajectoryEntry(ChangeLoggedModel):
    """One stop of a case's movements in the look-back window (活动轨迹)."""

    class Transport(models.TextChoices):
        NONE = "", _("—")
        WALK = "walk", _("On foot")
        CAR = "car", _("Private car")
        TAXI = "taxi", _("Taxi")
        BUS = "bus", _("Bus")
        METRO = "metro", _("Metro")
        TRAIN = "train", _("Train")
        FLIGHT = "flight", _("Flight")
        OTHER = "other", _("Other")

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="trajectory", verbose_name=_("case")
    )
    date = models.DateField(_("date"))
    time_from = models.TimeField(_("from"), null=True, blank=True)
    time_to = models.TimeField(_("to"), null=True, blank=True)
    stayed_home = models.BooleanField(_("stayed home all day"), default=False)
    place = models.CharField(_("place"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    venue = models.CharField(_("venue"), max_length=100, blank=True)
    transport = models.CharField(
        _("transport"), max_length=8, choices=Transport.choices, blank=True, default=""
    )
    transport_number = models.CharField(_("train or flight number"), max_length=32, blank=True)
    carriage = models.CharField(_("carriage"), max_length=16, blank=True)
    seat = models.CharField(_("seat"), max_length=16, blank=True)
    activity = models.CharField(_("activity"), max_length=200, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    cluster = models.ForeignKey(
        Cluster,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stops",
        verbose_name=_("cluster"),
    )
    # Stops that would identify the case or a private home are kept off the published trajectory.
    public = models.BooleanField(_("publish"), default=True)

    scope_lookup = "case__area__path"
    scope_binding = ROW_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("trajectory entry")
        verbose_name_plural = _("trajectory entries")
        ordering = ["date", "time_from", "id"]

    def __str__(self):
        return f"{self.date} {self.place or _('home')}"


class Contact(WorkflowModel, ChangeLoggedModel):
    """A person in contact with a case: proposed (by a tracer or the building rule) → confirmed (in the
    key-person ledger under the protocol's measure) or dismissed."""

    class Setting(models.TextChoices):
        HOUSEHOLD = "household", _("Household")
        WORKPLACE = "workplace", _("Workplace")
        MEAL = "meal", _("Shared meal")
        VEHICLE = "vehicle", _("Vehicle")
        VENUE = "venue", _("Venue")
        MEDICAL = "medical", _("Medical")
        BUILDING = "building", _("Same building")
        OTHER = "other", _("Other")

    class Closeness(models.TextChoices):
        LIVING = "living", _("Living together")
        CLOSE = "close", _("Within 1 m without protection")
        SHARED_SPACE = "shared_space", _("Same closed space")
        BRIEF = "brief", _("Brief or distant")

    class Class(models.TextChoices):
        CLOSE = "close", _("Close contact")
        SECONDARY = "secondary", _("Secondary contact")
        GENERAL = "general", _("General contact")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("To confirm")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    class Proposer(models.TextChoices):
        TRACER = "tracer", _("Tracer")
        BUILDING_RULE = "building_rule", _("Building rule")

    TRANSITIONS = {
        Status.PROPOSED: {Status.CONFIRMED, Status.DISMISSED},
        Status.DISMISSED: {Status.PROPOSED},
    }

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("case"))
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    # A secondary contact is met through a close contact of the case.
    via = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="secondaries",
        verbose_name=_("through"),
    )
    contact_class = models.CharField(_("class"), max_length=16, choices=Class.choices, default=Class.CLOSE)
    setting = models.CharField(_("setting"), max_length=16, choices=Setting.choices, default=Setting.OTHER)
    closeness = models.CharField(
        _("closeness"), max_length=16, choices=Closeness.choices, default=Closeness.CLOSE
    )
    last_contact = models.DateField(_("last contact"))
    stop = models.ForeignKey(
        TrajectoryEntry,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("trajectory stop"),
    )
    cluster = models.ForeignKey(
        Cluster,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("cluster"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.CharField(
        _("proposed by"), max_length=16, choices=Proposer.choices, default=Proposer.TRACER
    )
    identified_at = models.DateTimeField(_("identified at"))
    # The clock of "under control within 8 h / 12 h" stops when the person is in the ledger under the
    # protocol's measure (decision 0025).
    controlled_at = models.DateTimeField(_("under control at"), null=True, blank=True)
    key_person = models.ForeignKey(
        "control.KeyPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key-person entry"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_lookup = "case__area__path"
    scope_binding = ROW_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["case", "contact_class", "-last_contact", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "person"], name="tracing_contact_once_per_case")
        ]
        indexes = [
            models.Index(fields=["person"], name="tracing_contact_person"),
            models.Index(fields=["status", "contact_class"], name="tracing_contact_status"),
        ]

    def __str__(self):
        return f"{self.person.name}（{self.get_contact_class_display()}）"

    def get_absolute_url(self):
        return reverse("tracing:case_detail", args=[self.case_id]) + f"#contact-{self.pk}"

