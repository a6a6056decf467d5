import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Area, Level
from epigrid.control import plans
from epigrid.control.models import Category, CheckIn, KeyPerson, TestRecord
from epigrid.control.serializers import TEMPERATURE_MAX, TEMPERATURE_MIN
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect

ANCHOR_FIELDS = ("last_exposure", "arrival", "discharge")
TEAM_FIELDS = ("street_cadre", "community_cadre", "grid_worker", "doctor", "police")
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)


class KeyPersonForm(StyledFormMixin, forms.ModelForm):
    """The entry's fields that do not change its plan (the generic edit page)."""

    class Meta:
        model = KeyPerson
        fields = [
            "source",
            "origin",
            "transport",
            "assistance_received_at",
            "assistance_in_province",
            *TEAM_FIELDS,
            "notes",
        ]
        widgets = {"assistance_received_at": _datetime_input(), "notes": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        if data.get("source") == "assistance" and not data.get("assistance_received_at"):
            self.add_error("assistance_received_at", _("Give the time the assistance request was received."))
        received = data.get("assistance_received_at")
        if received and received > timezone.now() + datetime.timedelta(minutes=5):
            self.add_error("assistance_received_at", _("This time is in the future."))
        return data


class RegisterForm(KeyPersonForm):
    """Putting a found person in the ledger: the service plans the measures from the category,
    the date the active protocol counts from and the area."""

    class Meta(KeyPersonForm.Meta):
        fields = [
            "category",
            "identified_on",
            *ANCHOR_FIELDS,
            "area",
            "source",
            "origin",
            "transport",
            *TEAM_FIELDS,
            "assistance_received_at",
            "assistance_in_province",
            "notes",
        ]
        widgets = {
            **KeyPersonForm.Meta.widgets,
            "area": AutocompleteSelect("areas.area"),
            "identified_on": _date_input(),
            **{name: _date_input() for name in ANCHOR_FIELDS},
        }

    def __init__(self, *args, protocol, **kwargs):
        super().__init__(*args, **kwargs)
        self.protocol = protocol
        rules = protocol.rules
        self.fields["category"].choices = [("", "---------")] + [
            (value, label) for value, label in Category.choices if plans.is_traced(rules, value)
        ]
        self.fields["category"].help_text = format_lazy(
            _("Categories managed under {protocol}."), protocol=protocol.short_name
        )
        labels = dict(Category.choices)
        for anchor in ANCHOR_FIELDS:
            needing = [
                str(labels[value])
                for value, _label in Category.choices
                if plans.anchor_of(rules, value) == anchor
            ]
            if needing:
                self.fields[anchor].help_text = format_lazy(
                    _("Needed for: {categories}."), categories="、".join(needing)
                )
        self.fields["area"].queryset = Area.objects.all()  # the view restricts it to the user's scope
        self.fields["area"].help_text = _(
            "The area responsible for the person; by default the person's grid."
        )

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        for name in ("identified_on", *ANCHOR_FIELDS):
            if data.get(name) and data[name] > today:
                self.add_error(name, _("This date is in the future."))
        category = data.get("category")
        if category:
            anchor = plans.anchor_of(self.protocol.rules, category)
            if anchor in ANCHOR_FIELDS and not data.get(anchor) and anchor not in self.errors:
                self.add_error(
                    anchor,
                    format_lazy(
                        _("Under {protocol}, the plan of a {category} counts from this date: give it."),
                        protocol=self.protocol.short_name,
                        category=dict(Category.choices)[category],
                    ),
                )
        return data

    def service_fields(self):
        """Keyword arguments for services.register_key_person (besides person, category, area)."""
        skip = {"category", "area"}
        return {k: v for k, v in self.cleaned_data.items() if k not in skip}


class PersonSearchForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Find the person"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, ID number, last 4 ID characters or phone")}
        ),
    )


class TemperatureField(forms.DecimalField):
    """The range is checked before the digits: 366 typed for 36.6 is not a body temperature,
    which says more than "no more than 2 digits before the decimal point"."""

    def run_validators(self, value):
        if value is not None and not TEMPERATURE_MIN <= value <= TEMPERATURE_MAX:
            raise ValidationError(_("A body temperature lies between 34.0 and 43.0 °C."), code="range")
        super().run_validators(value)


class CheckInForm(StyledFormMixin, forms.ModelForm):
    taken_at = forms.DateTimeField(
        label=_("Taken at"),
        required=False,
        widget=_datetime_input(),
        help_text=_("Leave empty for now."),
    )

    class Meta:
        model = CheckIn
        fields = ["temperature", "symptoms", "taken_at"]
        widgets = {
            "temperature": forms.NumberInput(
                attrs={"step": "0.1", "inputmode": "decimal", "placeholder": "36.5", "autocomplete": "off"}
            ),
            "symptoms": forms.TextInput(attrs={"placeholder": _("e.g. cough, sore throat (empty: none)")}),
        }
        field_classes = {"temperature": TemperatureField}
        error_messages = {
            "temperature": dict.fromkeys(
                ("max_digits", "max_whole_digits", "max_decimal_places"),
                _("Give the temperature with one decimal, e.g. 36.5."),
            )
        }

    def clean_taken_at(self):
        taken = self.cleaned_data.get("taken_at") or timezone.now()
        if taken > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError(_("This time is in the future."))
        return taken


def fever_message(temperature):
    return _("%(t)s °C is a fever (37.3 °C or more): tell the responsible doctor.") % {
        "t": number_format(temperature, 1)
    }


class ExtendForm(StyledFormMixin, forms.Form):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class TestRecordForm(StyledFormMixin, forms.Form):
    day = forms.DateField(label=_("Test day"), widget=forms.DateInput(attrs={"type": "date"}))
    result = forms.ChoiceField(label=_("Result"), choices=TestRecord.Result.choices)


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class HandOverForm(StyledFormMixin, forms.Form):
    area = forms.ModelChoiceField(
        label=_("Receiving area"),
        queryset=Area.objects.none(),
        widget=AutocompleteSelect("areas.area", everywhere=True),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, user, entry, **kwargs):
        super().__init__(*args, **kwargs)
        # Any community or grid: the person may have moved anywhere (control.services.hand_over).
        self.fields["area"].queryset = Area.objects.filter(level__gte=Level.COMMUNITY).exclude(
            pk=entry.area_id
        )


class ReleaseForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
