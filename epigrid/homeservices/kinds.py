"""The catalogue of services for sealed homes (decision 0038): each kind's own fields, checked in
one place for the pages, the API, the demo and additions alike.

A request keeps its kind's fields in one JSON `details` column validated here rather than in typed
columns: seven kinds with two to seven fields each would leave a table of mostly empty columns,
and an addition to an open request (a second shopping list, one more animal) merges into the same
structure. Every value is typed on the way in (decimals as strings of digits, times as ISO), so the
JSON never holds free-form junk; the board filters on kind, urgency, status and area, never inside
the details."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class Kind(models.TextChoices):
    SHOPPING = "shopping", gettext_lazy("Shopping on behalf")
    MEDICINE = "medicine", gettext_lazy("Medicine")
    HOSPITAL = "hospital", gettext_lazy("Hospital visit")
    FARMING = "farming", gettext_lazy("Farming on behalf")
    ANIMALS = "animals", gettext_lazy("Animal care")
    PSYCHOLOGICAL = "psychological", gettext_lazy("Psychological support")
    OTHER = "other", gettext_lazy("Other")


class Urgency(models.TextChoices):
    URGENT = "urgent", gettext_lazy("Urgent")
    HIGH = "high", gettext_lazy("High")
    NORMAL = "normal", gettext_lazy("Normal")
    LOW = "low", gettext_lazy("Low")


class Field:
    def __init__(self, name, label, type="text", required=False, max_length=200):
        self.name, self.label, self.type, self.required, self.max_length = (
            name,
            label,
            type,
            required,
            max_length,
        )

    def clean(self, value):
        if value in (None, ""):
            if self.required:
                raise ValidationError(_("%(field)s is needed.") % {"field": self.label}, code="required")
            return None
        return getattr(self, f"_{self.type}")(value)

    def _text(self, value):
        text = str(value).strip()
        if len(text) > self.max_length:
            raise ValidationError(
                _("%(field)s is longer than %(n)d characters.") % {"field": self.label, "n": self.max_length},
                code="too_long",
            )
        return text or None

    def _bool(self, value):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on", "是", "需要"):
            return True
        if text in ("0", "false", "no", "off", "否", "不需要"):
            return False
        raise ValidationError(_("%(field)s: yes or no.") % {"field": self.label}, code="bool")

    def _count(self, value):
        try:
            number = int(str(value).strip())
        except ValueError:
            number = -1
        if not 1 <= number <= 100_000:
            raise ValidationError(
                _("%(field)s: a whole number above 0.") % {"field": self.label}, code="count"
            )
        return number

    def _decimal(self, value):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = Decimal(-1)
        if not number.is_finite() or number <= 0 or number > 100_000:
            raise ValidationError(_("%(field)s: a number above 0.") % {"field": self.label}, code="decimal")
        return str(number.quantize(Decimal("0.01")).normalize())

    def _datetime(self, value):
        moment = value if isinstance(value, datetime.datetime) else parse_datetime(str(value).strip())
        if moment is None:
            raise ValidationError(
                _("%(field)s: a date and time like 2022-04-08 09:30.") % {"field": self.label},
                code="datetime",
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return timezone.localtime(moment).isoformat(timespec="minutes")


FIELDS = {
    Kind.SHOPPING: [Field("items", gettext_lazy("Shopping list"), required=True, max_length=2000)],
    Kind.MEDICINE: [
        Field("medicines", gettext_lazy("Medicines"), required=True, max_length=1000),
        Field("prescription", gettext_lazy("Prescription"), required=True, max_length=1000),
        Field("pharmacy", gettext_lazy("Pharmacy or hospital"), max_length=100),
    ],
    Kind.HOSPITAL: [
        Field("destination", gettext_lazy("Destination hospital"), required=True, max_length=100),
        Field("appointment_at", gettext_lazy("Appointment time"), type="datetime", required=True),
        Field("reason", gettext_lazy("Reason for the visit"), max_length=200),
        Field("car", gettext_lazy("Car"), max_length=100),
        Field("escort", gettext_lazy("Escort"), max_length=100),
        Field("return_at", gettext_lazy("Return time"), type="datetime"),
        Field("reentry", gettext_lazy("Re-entry arranged (test, gate)"), type="bool"),
    ],
    Kind.FARMING: [
        Field("crop", gettext_lazy("Crop"), required=True, max_length=50),
        Field("mu", gettext_lazy("Area (mu)"), type="decimal", required=True),
        Field("task", gettext_lazy("Work (sowing, watering, harvest)"), max_length=100),
    ],
    Kind.ANIMALS: [
        Field("species", gettext_lazy("Species"), required=True, max_length=50),
        Field("count", gettext_lazy("Head"), type="count", required=True),
        Field("task", gettext_lazy("Care needed (feed, water, milking)"), max_length=100),
    ],
    Kind.PSYCHOLOGICAL: [
        Field("concern", gettext_lazy("Concern"), required=True, max_length=500),
        Field("referral", gettext_lazy("Referred to"), max_length=100),
    ],
    Kind.OTHER: [],
}
# Fields an addition to an open request extends rather than replaces (a second list is more to
# buy, not a new list); counts and areas add up.
APPENDING = {"items", "medicines", "concern", "task"}
SUMMING = {"mu", "count"}


def fields_of(kind):
    return FIELDS.get(kind, [])


def clean_details(kind, raw):
    """The kind's fields typed and checked: {name: value} without empty ones. Unknown keys are
    refused (a typo in an API client must not vanish silently)."""
    if kind not in Kind.values:
        raise ValidationError(_("Unknown kind of service."), code="kind")
    raw = dict(raw or {})
    known = {f.name for f in fields_of(kind)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValidationError(
            _("Fields not used for this kind of service: %(names)s.") % {"names": ", ".join(unknown)},
            code="unknown_field",
        )
    errors, cleaned = [], {}
    for field in fields_of(kind):
        try:
            value = field.clean(raw.get(field.name))
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if value is not None:
            cleaned[field.name] = value
    if errors:
        raise ValidationError(errors, code="details")
    if kind == Kind.HOSPITAL and "return_at" in cleaned and cleaned["return_at"] < cleaned["appointment_at"]:
        raise ValidationError(_("The return cannot come before the appointment."), code="return_at")
    return cleaned


def merge_details(kind, current, added):
    """An addition merged into the open request's details (see APPENDING, SUMMING); other fields
    take the new value when one is given."""
    merged = dict(current)
    for name, value in added.items():
        old = merged.get(name)
        if old in (None, ""):
            merged[name] = value
        elif name in APPENDING and value != old:
            merged[name] = f"{old}\n{value}"
        elif name in SUMMING:
            total = Decimal(str(old)) + Decimal(str(value))
            merged[name] = int(total) if name == "count" else str(total.normalize())
        else:
            merged[name] = value
    return clean_details(kind, merged)


def summary(kind, details):
    """One line of the details for lists and cards."""
    parts = []
    for field in fields_of(kind):
        value = details.get(field.name)
        if value in (None, ""):
            continue
        if field.type == "datetime":
            value = value[:16].replace("T", " ")
        elif field.type == "bool":
            value = _("yes") if value else _("no")
        parts.append(f"{field.label}: {value}")
    return "; ".join(str(p) for p in parts)
