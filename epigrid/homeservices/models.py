"""Resident services for sealed homes 封控区居民服务 (decision 0038).

- `ServiceRequest`: one need of a household (shopping on behalf 代购, medicine, a hospital visit 外出
  就医, farming 代耕代种, animal care 畜禽代养, psychological support 心理疏导, other), with the person
  who asked, the household's grid and the zone over it when asked; urgency → deadline; new →
  assigned → in progress → done (evidence) → confirmed by the requester, or cancelled. One open
  request per household and kind (a partial unique constraint): a second one is added to it.
- `RequestAddition`: what a second request of the same kind added to the open one.
- `SpecialCare`: the special-groups register 特殊人群 (elderly living alone, disabled, pregnant with
  due date, dialysis and chemotherapy schedules), built on people's vulnerable `Tag`s.
- `ProactiveCheck`: a visit or call due to a registered person on a day their home is sealed.

Writes go through `homeservices.services`; rows are filed under the household's grid."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel
from epigrid.homeservices.kinds import Kind, Urgency, summary

OPEN_STATES = ("new", "assigned", "in_progress")


def _photo_path(instance, filename):
    # Never a name or an address in the path: the request and a random part only.
    ext = "png" if filename.lower().endswith(".png") else "jpg"
    return f"homeservices/{instance.pk or 'new'}/{uuid.uuid4().hex}.{ext}"


class Source(models.TextChoices):
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Door-to-door visit")
    ONLINE = "online", _("Online (group chat, mini program)")
    PROACTIVE = "proactive", _("Proactive (special groups)")


class ConfirmedHow(models.TextChoices):
    IN_PERSON = "in_person", _("In person, at the door")
    PHONE = "phone", _("Call-back by phone")
    ONLINE = "online", _("By the resident online")
    FAMILY = "family", _("By a family member")


class ServiceRequest(ChangeLoggedModel, WorkflowModel):
    class Status(models.TextChoices):
        NEW = "new", _("To assign")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done, awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = OPEN_STATES
    TRANSITIONS = {
        Status.NEW: {Status.ASSIGNED, Status.CANCELLED},
        Status.ASSIGNED: {Status.IN_PROGRESS, Status.CANCELLED},
        Status.IN_PROGRESS: {Status.DONE, Status.CANCELLED},
        # Not confirmed: the resident says it did not arrive, so it goes back to work.
        Status.DONE: {Status.CONFIRMED, Status.IN_PROGRESS},
    }

    household = models.ForeignKey(
        "areas.Household", on_delete=models.PROTECT, related_name="+", verbose_name=_("household")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    # The household's grid, copied: the board filters and scopes on it without a join.
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    zone = models.ForeignKey(
        "control.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("zone when asked"),
    )
    kind = models.CharField(_("service"), max_length=16, choices=Kind.choices)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    details = models.JSONField(_("details"), default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("received by"), max_length=12, choices=Source.choices, default=Source.PHONE)
    prescription_photo = models.ImageField(
        _("prescription photo"), upload_to=_photo_path, max_length=200, blank=True
    )
    # A phone's or an API client's id for this submission: a retry finds the request it made.
    client_id = models.CharField(_("client id"), max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    due_at = models.DateTimeField(_("deadline"))
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_note = models.TextField(_("what was done"), blank=True)
    done_photo = models.ImageField(_("evidence photo"), upload_to=_photo_path, max_length=200, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmation recorded by"),
    )
    confirmed_how = models.CharField(
        _("confirmed how"), max_length=12, choices=ConfirmedHow.choices, blank=True
    )
    confirmation_note = models.CharField(_("confirmation note"), max_length=200, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    # Confirmed or cancelled: when the request left the open list (the daily report's "closed").
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    additions = models.PositiveSmallIntegerField(_("times added to"), default=0)
    care = models.ForeignKey(
        "SpecialCare",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("special group entry"),
    )

    scope_lookup = "area__path"
    # The bound role `volunteer` reaches only the requests assigned to them.
    scope_binding = {"volunteer": "assignee"}
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["due_at", "id"]
        permissions = [("assign_servicerequest", "Can assign service requests")]
        constraints = [
            # One open request per household and kind: a second one is added to the first
            # (services.submit), and two phones submitting at once cannot both open one.
            models.UniqueConstraint(
                fields=["household", "kind"],
                condition=Q(status__in=OPEN_STATES),
                name="homeservices_one_open_per_household_kind",
            )
        ]
        indexes = [
            # The board: open requests by deadline (partial, so closed history never weighs on it).
            models.Index(
                fields=["due_at", "id"], condition=Q(status__in=OPEN_STATES), name="homeservices_open_due"
            ),
            models.Index(fields=["assignee", "status"], name="homeservices_assignee"),
            models.Index(fields=["area", "requested_at"], name="homeservices_area_requested"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}" if self.pk else str(self.get_kind_display())

    def get_absolute_url(self):
        return reverse("homeservices:servicerequest_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in OPEN_STATES

    def is_overdue(self, now=None):
        return self.is_open and (now or timezone.now()) > self.due_at

    @property
    def summary(self):
        return summary(self.kind, self.details or {})


class RequestAddition(ChangeLoggedModel):
    """A second request of the same kind while one was open: added to it, as it was asked."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="added")
    details = models.JSONField(_("details"), default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    client_id = models.CharField(_("client id"), max_length=64, null=True, blank=True, unique=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    scope_lookup = "request__area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("addition to a request")
        verbose_name_plural = _("additions to requests")
        ordering = ["added_at", "id"]

    def __str__(self):
        return f"{self.request_id}+{self.pk}"

    @property
    def summary(self):
        return summary(self.request.kind, self.details or {})


class Group(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
    DISABLED = "disabled", _("Disabled")
    PREGNANT = "pregnant", _("Pregnant")
    DIALYSIS = "dialysis", _("Dialysis")
    CHEMOTHERAPY = "chemotherapy", _("Chemotherapy")


# The people app's vulnerable tag each group sets on the person (people.Tag codes): the register
# adds what the tag cannot hold (due date, treatment schedule) and never a second list of who is
# vulnerable.
GROUP_TAGS = {
    Group.ELDERLY_ALONE: "elderly_alone",
    Group.DISABLED: "disabled",
    Group.PREGNANT: "pregnant",
    Group.DIALYSIS: "chronic",
    Group.CHEMOTHERAPY: "chronic",
}
TREATMENTS = (Group.DIALYSIS, Group.CHEMOTHERAPY)


class SpecialCare(ChangeLoggedModel):
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    household = models.ForeignKey(
        "areas.Household", on_delete=models.PROTECT, related_name="+", verbose_name=_("household")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    group = models.CharField(_("group"), max_length=16, choices=Group.choices)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # Treatment days as ISO weekdays "1,3,5" (Monday = 1) and the time of the session.
    treatment_days = models.CharField(_("treatment days"), max_length=20, blank=True)
    treatment_time = models.TimeField(_("treatment time"), null=True, blank=True)
    hospital = models.CharField(_("hospital"), max_length=100, blank=True)
    visit_every_days = models.PositiveSmallIntegerField(_("visit every (days)"), default=1)
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("special group entry")
        verbose_name_plural = _("special groups")
        ordering = ["area__path", "group", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "group"], name="homeservices_care_person_group"),
        ]

    def __str__(self):
        return f"{self.get_group_display()} #{self.pk}"

    def get_absolute_url(self):
        return reverse("homeservices:specialcare_detail", args=[self.pk])

    def weekdays(self):
        return {int(d) for d in self.treatment_days.split(",") if d.strip().isdigit()}


class ProactiveCheck(ChangeLoggedModel):
    """A visit or a call due on a day to a registered person whose home is sealed."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")

    class Outcome(models.TextChoices):
        WELL = "well", _("Well, nothing needed")
        NEEDS = "needs", _("Needs help (request opened)")
        NO_ANSWER = "no_answer", _("No answer")

    care = models.ForeignKey(
        SpecialCare, on_delete=models.CASCADE, related_name="checks", verbose_name=_("entry")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("proactive check")
        verbose_name_plural = _("proactive checks")
        ordering = ["-day", "area__path", "care_id", "kind"]
        constraints = [
            # Generating a day's checks twice (a timer and a hand) makes them once.
            models.UniqueConstraint(fields=["care", "day", "kind"], name="homeservices_check_once_a_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.get_kind_display()}"
