"""Staff, volunteers, teams and duty rosters 排班 (decision 0031).

Who: `StaffMember` — a cadre sent down 下沉干部, a volunteer 志愿者, community staff and others,
posted in an area, optionally with a user account. `Team` groups them (the 五包一 team of a key
person, a command centre's task group 专班). Where: `Post` (a checkpoint, sampling point, isolation
site or community duty) with its shift pattern (三班倒 by default). When: `Shift` (a post's
start–end, crossing midnight as it pleases, persons needed) and `Assignment` (a shift, a staff
member, check-in and check-out).

Writes go through `rosters.services`. Everything is filed under the post's or the member's area;
the bound role `duty_staff` reaches only the rows of its own assignments."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.core import identity
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

# The seeds' 三班倒: 08:00–16:00, 16:00–24:00, 00:00–08:00 (an end at or before the start ends the
# next day, so a 22:00–06:00 night shift is written as it is said).
DEFAULT_PATTERN = [
    {"start": "08:00", "end": "16:00"},
    {"start": "16:00", "end": "00:00"},
    {"start": "00:00", "end": "08:00"},
]


def parse_pattern(pattern):
    """A pattern as [(start time, end time), ...]; a clear ValidationError for a bad one."""
    if not isinstance(pattern, list) or not pattern:
        raise ValidationError(_("A shift pattern lists at least one shift."))
    out = []
    for item in pattern:
        try:
            start = datetime.time.fromisoformat(str(item["start"]))
            end_text = str(item["end"])
            end = datetime.time(0, 0) if end_text == "24:00" else datetime.time.fromisoformat(end_text)
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                _("Each shift of the pattern needs a start and an end as HH:MM, e.g. 08:00–16:00.")
            ) from None
        if start == end:
            raise ValidationError(_("A shift cannot start and end at the same time."))
        out.append((start, end))
    return out


def pattern_text(pattern):
    try:
        return ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in parse_pattern(pattern))
    except ValidationError:
        return ""


# A post's shift holds at most this many persons (a guard against a typo of 200 for 2).
MAX_NEEDED = 50


def default_pattern():
    return [dict(item) for item in DEFAULT_PATTERN]


# The bound role `duty_staff` (accounts.roles.BOUND_ROLES) reaches only rows of its own duty: the
# member record linked to the user, the teams they are on, the posts and shifts they are assigned.
MEMBER_BINDING = {"duty_staff": "user"}
TEAM_BINDING = {"duty_staff": "members__user"}
POST_BINDING = {"duty_staff": "shifts__assignments__staff__user"}
SHIFT_BINDING = {"duty_staff": "assignments__staff__user"}
ASSIGNMENT_BINDING = {"duty_staff": "staff__user"}


class StaffMember(identity.PhoneFields, ChangeLoggedModel):
    class Kind(models.TextChoices):
        CADRE = "cadre", _("Cadre sent down")
        VOLUNTEER = "volunteer", _("Volunteer")
        COMMUNITY = "community", _("Community staff")
        MEDICAL = "medical", _("Medical staff")
        POLICE = "police", _("Police")
        OTHER = "other", _("Other")

    name = models.CharField(_("full name"), max_length=64)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.VOLUNTEER)
    unit = models.CharField(_("sending unit"), max_length=100, blank=True)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("posted in")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_records",
        verbose_name=_("user account"),
    )
    active_from = models.DateField(_("active from"), default=datetime.date.today)
    active_to = models.DateField(_("active to"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    scope_lookup = "area__path"
    scope_binding = MEMBER_BINDING
    objects = RestrictedQuerySet.as_manager()
    personal_fields = ("phone",)
    autocomplete_lookups = ("name__startswith",)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff and volunteers")
        ordering = ["area__path", "name", "id"]
        constraints = [
            # Search before create: the same phone in the same area is the same member.
            models.UniqueConstraint(
                fields=["area", "phone"],
                condition=~Q(phone=""),
                name="rosters_member_area_phone_unique",
                violation_error_message=_("A member posted in this area already has this phone."),
            ),
            # One member record per user account: their "my shifts" page is unambiguous.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(user__isnull=False),
                name="rosters_member_user_unique",
                violation_error_message=_("This user account belongs to another staff member."),
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"

    def get_absolute_url(self):
        return reverse("rosters:staffmember_detail", args=[self.pk])

        if self.active_to and self.active_from and self.active_to < self.active_from:
            raise ValidationError({"active_to": _("The end of service is before its start.")})

    def is_active_on(self, day):
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


class Team(ChangeLoggedModel):
    class Kind(models.TextChoices):
        FIVE_FOR_ONE = "five_for_one", _("Five-for-one team of a key person")
        TASK_GROUP = "task_group", _("Task group of a command centre")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.TASK_GROUP)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    # A 五包一 team stands beside control's ledger entry: the entry keeps the five names it was
    # registered with (imports, forms); the team links to it and lists the members with phones.
    key_person = models.ForeignKey(
        "control.KeyPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key-person entry"),
    )
    leader = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("leader"),
    )
    members = models.ManyToManyField(StaffMember, blank=True, related_name="teams", verbose_name=_("members"))
    duties = models.CharField(_("duties"), max_length=200, blank=True)

    scope_lookup = "area__path"
    scope_binding = TEAM_BINDING
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["area__path", "name", "id"]
        constraints = [
            # One 五包一 team per key-person entry.
            models.UniqueConstraint(
                fields=["key_person"],
                condition=Q(key_person__isnull=False),
                name="rosters_team_key_person_unique",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("rosters:team_detail", args=[self.pk])


class Post(ChangeLoggedModel):
    class Kind(models.TextChoices):
        CHECKPOINT = "checkpoint", _("Checkpoint")
        SAMPLING = "sampling", _("Sampling point")
        ISOLATION = "isolation", _("Isolation site")
        COMMUNITY = "community", _("Community duty")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMMUNITY)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    # The place the post stands for, generically (no import of the checkpoint, testing or isolation
    # apps): which model ("checkpoints.checkpoint"), its id and a label to show.
    place_type = models.CharField(_("place type"), max_length=64, blank=True)
    place_id = models.PositiveBigIntegerField(_("place id"), null=True, blank=True)
    place_label = models.CharField(_("place"), max_length=200, blank=True)
    pattern = models.JSONField(_("shift pattern"), default=default_pattern)
    needed = models.PositiveSmallIntegerField(_("persons per shift"), default=2)
    is_active = models.BooleanField(_("in operation"), default=True)

    scope_lookup = "area__path"
    scope_binding = POST_BINDING
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__contains",)

    class Meta:
        verbose_name = _("duty post")
        verbose_name_plural = _("duty posts")
        ordering = ["area__path", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["place_type", "place_id"],
                condition=Q(place_id__isnull=False),
                name="rosters_post_place_unique",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("rosters:post_detail", args=[self.pk])

    def clean(self):
        super().clean()
        try:
            parse_pattern(self.pattern)
        except ValidationError as exc:
            raise ValidationError({"pattern": exc.messages}) from None
        if not self.needed or self.needed > MAX_NEEDED:
            raise ValidationError(
                {"needed": _("A shift needs between 1 and %(n)d persons.") % {"n": MAX_NEEDED}}
            )

    @property
    def pattern_display(self):
        return pattern_text(self.pattern)


class Shift(ChangeLoggedModel):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("post"))
    start = models.DateTimeField(pgettext_lazy("roster", "start"), db_index=True)
    end = models.DateTimeField(pgettext_lazy("roster", "end"))
    needed = models.PositiveSmallIntegerField(_("persons needed"), default=2)
    notes = models.CharField(_("handover notes"), max_length=300, blank=True)

    scope_lookup = "post__area__path"
    scope_binding = SHIFT_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["start", "post__name", "id"]
        constraints = [
            # Planning a week twice finds the shifts it made.
            models.UniqueConstraint(fields=["post", "start"], name="rosters_shift_post_start_unique"),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="rosters_shift_ends_after_start"
            ),
        ]

    def __str__(self):
        from django.utils import timezone

        start, end = timezone.localtime(self.start), timezone.localtime(self.end)
        return f"{self.post.name} {start:%m-%d %H:%M}–{end:%H:%M}"

    def get_absolute_url(self):
        return reverse("rosters:shift_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("A shift ends after it starts.")})

    @property
    def hours(self):
        return (self.end - self.start).total_seconds() / 3600


class Assignment(ChangeLoggedModel, WorkflowModel):
    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("roster", "Planned")
        ON_DUTY = "on_duty", pgettext_lazy("roster", "On duty")
        DONE = "done", pgettext_lazy("roster", "Done")
        ABSENT = "absent", pgettext_lazy("roster", "Absent")

    # Absent is judged 30 min after the start, but a person arriving later (inside the window)
    # still checks in, late: the post is manned from then on.
    TRANSITIONS = {
        Status.PLANNED: {Status.ON_DUTY, Status.ABSENT},
        Status.ABSENT: {Status.ON_DUTY},
        Status.ON_DUTY: {Status.DONE},
    }

    shift = models.ForeignKey(
        Shift, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("shift")
    )
    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("staff member")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    checked_in_at = models.DateTimeField(pgettext_lazy("roster", "checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(pgettext_lazy("roster", "checked out at"), null=True, blank=True)
    late = models.BooleanField(pgettext_lazy("roster", "late"), default=False)
    # Closed by the sweep at the shift's end + grace: credited only the planned hours.
    auto_closed = models.BooleanField(_("check-out forgotten"), default=False)
    worked_minutes = models.PositiveIntegerField(_("minutes worked"), default=0)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_lookup = "shift__post__area__path"
    scope_binding = ASSIGNMENT_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["shift__start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "staff"], name="rosters_assignment_once_per_shift"),
        ]

    def __str__(self):
        return f"{self.staff.name} · {self.shift}"

    def get_absolute_url(self):
        return reverse("rosters:shift_detail", args=[self.shift_id])
