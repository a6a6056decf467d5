"""Enterprises and construction sites back to work 复工复产 (decision 0034).

Who: `Enterprise` — an enterprise 企业 or a construction site 工地 in an area, by its unified social
credit code 统一社会信用代码, with its contact users (the bound role `enterprise_contact`) and its
prevention lead. What: one `Application` (复工申请) moving draft → submitted → conditionally
approved → on-site check passed → permit issued, refused with a reason at any step after drafting,
its earliest date set by the enterprise's `Phase` (分类分批复工). Whom: `Employee`s — links to
registry persons, never retyped — each with one card per protocol version (`EmployeeCard`, 一人一卡)
and gate temperatures recorded by who measured them (`TemperatureReading`). With what: `PPEStock`
as days of cover against the three-day rule.

Writes go through `enterprises.services`. Everything is filed under the enterprise's area; the
bound role `enterprise_contact` reaches only the enterprises whose contacts they are."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from stdnum.cn import uscc as uscc_code
from stdnum.exceptions import ValidationError as StdnumError

from epigrid.core import identity
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel

# A reading at or above this is a fever to act on (the seeds' 37.3 ℃ gate rule, as control's).
FEVER = Decimal("37.3")
# "至少保持3天周转量": masks, disinfectant and gloves for three days at least.
PPE_RULE_DAYS = 3

# The bound role reaches only the rows of the enterprises whose contact the user is.
ENTERPRISE_BINDING = {"enterprise_contact": "contacts"}
CHILD_BINDING = {"enterprise_contact": "enterprise__contacts"}
EMPLOYEE_CHILD_BINDING = {"enterprise_contact": "employee__enterprise__contacts"}


def clean_uscc(value):
    """The code compact and upper-case, checked by its check character (stdnum.cn.uscc)."""
    text = identity.normalise_text(value or "").upper().replace(" ", "").replace("-", "")
    try:
        return uscc_code.validate(text)
    except StdnumError:
        raise ValidationError(
            _("“%(code)s” is not a valid unified social credit code (18 characters with a check character).")
            % {"code": text},
            code="uscc",
        ) from None


class Phase(ChangeLoggedModel):
    """A class of the phased return (分类分批): from which day its enterprises may resume. The
    seeds' rule: utilities, PPE makers and supermarkets first; revenue above 50 M from 13 February;
    other 规上 from 23 February; the rest from 1 March."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    earliest_on = models.DateField(_("earliest return date"))
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    # The command that set the rule (a district, a city): its change rows are filed there.
    area = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )

    class Meta:
        verbose_name = _("return phase")
        verbose_name_plural = _("return phases")
        ordering = ["earliest_on", "code"]

    def __str__(self):
        return f"{self.name}（{self.earliest_on:%Y-%m-%d}）"

    @property
    def scope_area_path(self):
        # Not a scoped list (every officer reads the phases), but its audit rows belong to the
        # command that set it, so that command's auditors see them.
        return self.area.path if self.area_id else ""


class Enterprise(identity.PhoneFields, ChangeLoggedModel):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        SITE = "site", _("Construction site")

    class Size(models.TextChoices):
        ABOVE = "above", _("Above designated size")
        BELOW = "below", _("Below designated size")

    name = models.CharField(_("name"), max_length=100)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.ENTERPRISE)
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, default=Size.BELOW)
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    phase = models.ForeignKey(
        Phase,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enterprises",
        verbose_name=_("return phase"),
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    prevention_lead = models.CharField(_("prevention lead"), max_length=64, blank=True)
    contacts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="enterprises", verbose_name=_("contact accounts")
    )

    scope_lookup = "area__path"
    scope_binding = ENTERPRISE_BINDING
    objects = RestrictedQuerySet.as_manager()
    personal_fields = ("contact_phone",)
    autocomplete_lookups = ("name__contains", "uscc__startswith")

    class Meta:
        verbose_name = _("enterprise or site")
        verbose_name_plural = _("enterprises and sites")
        ordering = ["area__path", "name", "id"]
        permissions = [("contact_enterprise", "Is the contact of enterprises")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("enterprises:enterprise_detail", args=[self.pk])

    phone_fields = ("contact_phone",)

    @property
    def masked_contact_phone(self):
        return self.masked("contact_phone")

    def clean(self):
        # The next clean after the mixin's: the phone's errors are reported with the code's.
        super(identity.PhoneFields, self).clean()
        errors = self.phone_errors()
        if self.uscc:
            try:
                self.uscc = clean_uscc(self.uscc)
            except ValidationError as exc:
                errors["uscc"] = exc.messages
        if errors:
            raise ValidationError(errors)


class Application(ChangeLoggedModel, WorkflowModel):
    """A return-to-work application 复工申请 and its way to the permit 复工许可."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("return to work", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("return to work", "Submitted")
        CONDITIONAL = "conditional", _("Conditionally approved")
        CHECKED = "checked", _("On-site check passed")
        PERMITTED = "permitted", _("Permit issued")
        REFUSED = "refused", pgettext_lazy("return to work", "Refused")

    OPEN = (Status.DRAFT, Status.SUBMITTED, Status.CONDITIONAL, Status.CHECKED)
    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED},
        Status.SUBMITTED: {Status.CONDITIONAL, Status.REFUSED},
        Status.CONDITIONAL: {Status.CHECKED, Status.REFUSED},
        Status.CHECKED: {Status.PERMITTED, Status.REFUSED},
    }

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="applications", verbose_name=_("enterprise")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    planned_start = models.DateField(_("planned return date"))
    prevention_plan = models.TextField(_("prevention plan"), blank=True)
    emergency_plan = models.TextField(_("emergency plan"), blank=True)
    isolation_room = models.CharField(_("isolation room or designated site"), max_length=200, blank=True)
    commitment = models.BooleanField(_("commitment signed"), default=False)
    commitment_by = models.CharField(_("commitment signed by"), max_length=64, blank=True)
    staff_count = models.PositiveIntegerField(_("staff on the roster at submission"), default=0)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    conditions = models.TextField(_("conditions of the approval"), blank=True)
    approved_at = models.DateTimeField(_("conditionally approved at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked on site at"), null=True, blank=True)
    check_note = models.TextField(_("on-site check findings"), blank=True)
    permit_number = models.CharField(_("permit number"), max_length=32, blank=True)
    permitted_from = models.DateField(_("permitted from"), null=True, blank=True)
    permitted_at = models.DateTimeField(_("permit issued at"), null=True, blank=True)
    # The lowest item's days of cover when the permit was issued (printed on the permit; stock
    # counted later changes the enterprise's figure, not what the permit was issued on).
    ppe_days_at_permit = models.DecimalField(
        _("PPE days of cover at the permit"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    refused_at = models.DateTimeField(pgettext_lazy("return to work", "refused at"), null=True, blank=True)
    refused_in = models.CharField(_("refused at the step"), max_length=16, blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    scope_lookup = "enterprise__area__path"
    scope_binding = CHILD_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("return-to-work application")
        verbose_name_plural = _("return-to-work applications")
        ordering = ["-created_at", "-id"]
        permissions = [("review_application", "Can review return-to-work applications")]
        constraints = [
            # One open application per enterprise: a second is refused, the first is the one to finish.
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(status__in=["draft", "submitted", "conditional", "checked"]),
                name="enterprises_one_open_application",
                violation_error_message=_("This enterprise already has an open application."),
            ),
            models.UniqueConstraint(
                fields=["permit_number"],
                condition=~Q(permit_number=""),
                name="enterprises_permit_number_unique",
            ),
        ]

    def __str__(self):
        return f"{self.enterprise.name} · {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("enterprises:application_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in self.OPEN


class Employee(ChangeLoggedModel):
    """A person of the registry on an enterprise's staff roster (名录制): the registry keeps the name,
    document, phone and address; the roster keeps only what the enterprise knows of the job."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="employees", verbose_name=_("enterprise")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    department = models.CharField(_("department or post"), max_length=60, blank=True)
    is_active = models.BooleanField(_("on the roster"), default=True)
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    scope_lookup = "enterprise__area__path"
    scope_binding = CHILD_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["enterprise", "person__name_key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "person"], name="enterprises_employee_once"),
        ]

    def __str__(self):
        return f"{self.person.name} · {self.enterprise.name}"

    def get_absolute_url(self):
        return reverse("enterprises:employee_detail", args=[self.pk])


class EmployeeCard(ChangeLoggedModel):
    """一人一卡: one employee's answers to the card questions of one protocol version. A new version
    asks again; the answers to the old one stay as they were given."""

    employee = models.ForeignKey(
        Employee, on_delete=models.CASCADE, related_name="cards", verbose_name=_("employee")
    )
    protocol = models.ForeignKey(
        "control.Protocol", on_delete=models.PROTECT, related_name="+", verbose_name=_("protocol")
    )
    answers = models.JSONField(_("answers"), default=dict)
    filled_at = models.DateTimeField(_("filled at"), default=timezone.now)
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_lookup = "employee__enterprise__area__path"
    scope_binding = EMPLOYEE_CHILD_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("employee card")
        verbose_name_plural = _("employee cards")
        ordering = ["-filled_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "protocol"], name="enterprises_card_once_per_protocol"
            ),
        ]

    def __str__(self):
        return f"{self.employee.person.name} · {self.protocol}"

    def get_absolute_url(self):
        return reverse("enterprises:employee_detail", args=[self.employee_id])


class TemperatureReading(ChangeLoggedModel):
    """A temperature taken at the gate, recorded by the person who took it (the logged-in staff,
    never the employee typing their own: self-typed readings are gamed)."""

    employee = models.ForeignKey(
        Employee, on_delete=models.CASCADE, related_name="temperatures", verbose_name=_("employee")
    )
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    measured_at = models.DateTimeField(_("measured at"), default=timezone.now, db_index=True)
    measured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("measured by")
    )
    fever = models.BooleanField(_("fever"), default=False, db_index=True)

    scope_lookup = "employee__enterprise__area__path"
    scope_binding = EMPLOYEE_CHILD_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate temperature")
        verbose_name_plural = _("gate temperatures")
        ordering = ["-measured_at", "-id"]

    def __str__(self):
        return f"{self.employee.person.name} {self.temperature}℃"

    def get_absolute_url(self):
        return reverse("enterprises:employee_detail", args=[self.employee_id])

    def clean(self):
        super().clean()
        if self.temperature is not None and not Decimal("34.0") <= self.temperature <= Decimal("43.0"):
            raise ValidationError({"temperature": _("A body temperature lies between 34.0 and 43.0 °C.")})

    def save(self, *args, **kwargs):
        self.fever = self.temperature is not None and Decimal(self.temperature) >= FEVER
        super().save(*args, **kwargs)


class PPEStock(ChangeLoggedModel):
    """Stock of one protective item at an enterprise and its use per person a day: the days of
    cover are stock ÷ (staff on the roster × daily use)."""

    class Item(models.TextChoices):
        MASK = "mask", _("Masks")
        DISINFECTANT = "disinfectant", _("Disinfectant")
        GLOVES = "gloves", _("Gloves")
        SANITIZER = "sanitizer", _("Hand sanitizer")
        GOWN = "gown", _("Protective gowns")

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="ppe", verbose_name=_("enterprise")
    )
    item = models.CharField(_("item"), max_length=16, choices=Item.choices)
    unit = models.CharField(_("unit"), max_length=10, default="个")
    stock = models.DecimalField(_("in stock"), max_digits=10, decimal_places=1)
    daily_use = models.DecimalField(_("daily use per person"), max_digits=6, decimal_places=2)
    counted_at = models.DateTimeField(_("counted at"), default=timezone.now)

    scope_lookup = "enterprise__area__path"
    scope_binding = CHILD_BINDING
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("PPE stock")
        verbose_name_plural = _("PPE stock")
        ordering = ["enterprise", "item"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "item"], name="enterprises_ppe_item_once")
        ]

    def __str__(self):
        return f"{self.enterprise.name} · {self.get_item_display()}"

    def get_absolute_url(self):
        return reverse("enterprises:enterprise_detail", args=[self.enterprise_id])

    def clean(self):
        super().clean()
        if self.stock is not None and self.stock < 0:
            raise ValidationError({"stock": _("Stock cannot be negative.")})
        if self.daily_use is not None and self.daily_use <= 0:
            raise ValidationError({"daily_use": _("Give the use per person a day (more than 0).")})


def days_of_cover(stock, staff, daily_use):
    """stock ÷ (staff × daily use per person), one decimal; None when nobody uses it."""
    if not staff or not daily_use:
        return None
    return (Decimal(stock) / (Decimal(staff) * Decimal(daily_use))).quantize(Decimal("0.1"))


def today_bounds(day=None):
    day = day or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)
