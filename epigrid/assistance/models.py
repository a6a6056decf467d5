"""Assistance requests 协查 (decision 0026): another city's list of persons believed to be in the
district, each to be found, verified and put under the protocol's measure, or answered "not here",
within 24 h (a request from inside the province) or 48 h (from outside).

Writes go through `assistance.services`. A request is filed under its receiving area (the
district or a street); each of its persons under the area it is assigned to (a community or a
grid), so a grid worker sees and answers only the rows of their grid."""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from epigrid.control.models import Category
from epigrid.core import identity
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.core.workflow import WorkflowModel
from epigrid.people.models import DocumentType

# The deadlines the seeds give (and control's ledger keeps on KeyPerson.assistance_deadline).
HOURS_IN_PROVINCE = 24
HOURS_OUT_OF_PROVINCE = 48


def deadline_for(received_at, in_province):
    if received_at is None:
        return None
    hours = HOURS_IN_PROVINCE if in_province else HOURS_OUT_OF_PROVINCE
    return received_at + datetime.timedelta(hours=hours)


class AssistRequest(ChangeLoggedModel, WorkflowModel):
    """One assistance letter 协查函 from another city or organisation, with its list of persons."""

    class Status(models.TextChoices):
        OPEN = "open", _("Being answered")
        ANSWERED = "answered", _("Answered")

    # Answered when the last person is answered; a person added later reopens it.
    TRANSITIONS = {Status.OPEN: {Status.ANSWERED}, Status.ANSWERED: {Status.OPEN}}

    requester = models.CharField(_("requesting city or organisation"), max_length=100)
    reference = models.CharField(_("reference number"), max_length=64)
    contact = models.CharField(_("requester's contact"), max_length=100, blank=True)
    in_province = models.BooleanField(_("from inside the province"), default=True)
    received_at = models.DateTimeField(_("received at"))
    # Stored, not only computed: the overdue lists filter and order on it.
    due_at = models.DateTimeField(_("answer due by"), editable=False, db_index=True)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("receiving area")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("reference__contains",)

    class Meta:
        verbose_name = _("assistance request")
        verbose_name_plural = _("assistance requests")
        ordering = ["-received_at", "-id"]
        constraints = [
            # The same letter entered twice (or by two officers) is one request.
            models.UniqueConstraint(fields=["requester", "reference"], name="assist_request_reference_unique")
        ]

    def __str__(self):
        return f"{self.requester} {self.reference}"

    @property
    def name(self):
        # The import pipeline names its target by `name` (jobs.imports.start_import).
        return str(self)

    def get_absolute_url(self):
        return reverse("assistance:assistrequest_detail", args=[self.pk])

    def save(self, *args, **kwargs):
        # The deadline follows receipt and origin on every save (an edited receipt time moves it).
        self.due_at = deadline_for(self.received_at, self.in_province)
        super().save(*args, **kwargs)

    def is_overdue(self, now):
        return self.status == self.Status.OPEN and now > self.due_at


class AssistPerson(ChangeLoggedModel, WorkflowModel):
    """One person of a request's list, and the answer about them."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To be traced")
        FOUND = "found", _("Found, under control")
        NO_SUCH_PERSON = "no_such_person", _("No such person")
        LEFT = "left", _("Has left")
        NOT_TRACED = "not_traced", _("Found, not managed under the protocol")

    ANSWERED = (Status.FOUND, Status.NO_SUCH_PERSON, Status.LEFT, Status.NOT_TRACED)
    NOT_HERE = (Status.NO_SUCH_PERSON, Status.LEFT)
    # An answer is final: a correction is a note to the requester, not a second answer.
    TRANSITIONS = {Status.PENDING: set(ANSWERED)}

    request = models.ForeignKey(
        AssistRequest, on_delete=models.CASCADE, related_name="persons", verbose_name=_("assistance request")
    )
    number = models.PositiveIntegerField(_("no."))
    name = models.CharField(_("full name"), max_length=64)
    doc_type = models.CharField(
        _("document type"), max_length=3, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    doc_number = models.CharField(_("document number"), max_length=32)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    # The plan's anchor: the last exposure of a contact, the arrival of an arrival (control.plans).
    exposure_on = models.DateField(_("last exposure or arrival"), null=True, blank=True)
    address = models.CharField(_("address given"), max_length=200, blank=True)
    request_note = models.CharField(_("requester's note"), max_length=500, blank=True)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned to")
    )
    status = models.CharField(
        _("result"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered person"),
    )
    key_person = models.ForeignKey(
        "control.KeyPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key-person entry"),
    )
    answer_note = models.CharField(_("answer note"), max_length=500, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    personal_fields = ("doc_number", "phone")

    class Meta:
        verbose_name = _("person to trace")
        verbose_name_plural = _("persons to trace")
        ordering = ["request", "number", "id"]
        constraints = [
            # One row a document in a letter: an import run twice finds its rows.
            models.UniqueConstraint(
                fields=["request", "doc_type", "doc_number"], name="assist_person_document_unique"
            ),
        ]
        indexes = [models.Index(fields=["status", "area"], name="assist_person_status_area")]

    def __str__(self):
        return f"{self.name}（{self.request.reference}）"

    def get_absolute_url(self):
        return reverse("assistance:assistperson_detail", args=[self.pk])

    @property
    def masked_doc_number(self):
        return identity.mask_document(self.doc_number)

    @property
    def masked_phone(self):
        return identity.mask_phone(self.phone) if self.phone else ""

    @property
    def is_answered(self):
        return self.status in self.ANSWERED
