"""Forms of the pass pages: plain forms handed to `passes.services` (no model form writes a pass)."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Household
from epigrid.control.models import Zone
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.passes import services
from epigrid.passes.models import DEFAULT_DAYS, DEFAULT_PERSONS, HouseholdPass
from epigrid.people.models import Person


def _default_until():
    return timezone.localdate() + datetime.timedelta(days=services.DEFAULT_VALID_DAYS)


def end_of_day(day):
    """A pass valid "until 03-31" is valid through that local day."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


class RuleFields(forms.Form):
    persons = forms.IntegerField(
        label=_("Persons per window"), min_value=1, max_value=20, initial=DEFAULT_PERSONS
    )
    days = forms.IntegerField(
        label=_("Window (days)"),
        min_value=1,
        max_value=30,
        initial=DEFAULT_DAYS,
        help_text=_("The seed's rule: one person every two days."),
    )


class ZoneIssueForm(StyledFormMixin, RuleFields):
    zone = forms.ModelChoiceField(queryset=Zone.objects.none(), label=_("Zone"))
    valid_until = forms.DateField(
        label=_("Valid until"), initial=_default_until, widget=forms.DateInput(attrs={"type": "date"})
    )

    field_order = ["zone", "persons", "days", "valid_until"]

    def __init__(self, *args, zones, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = zones


class IssueForm(StyledFormMixin, forms.Form):
    """One pass for one household: a household pass, or a special pass for a named person."""

    household = forms.ModelChoiceField(
        queryset=Household.objects.all(), label=_("Household"), widget=AutocompleteSelect("areas.household")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=HouseholdPass.Kind.choices)
    holder = forms.ModelChoiceField(
        queryset=Person.objects.filter(merged_into__isnull=True),
        required=False,
        label=_("Holder"),
        help_text=_("Special passes: the person of the household who may use it."),
        widget=AutocompleteSelect("people.person"),
    )
    persons = forms.IntegerField(label=_("Persons per window"), min_value=1, max_value=20, required=False)
    days = forms.IntegerField(
        label=_("Window (days)"),
        min_value=1,
        max_value=30,
        required=False,
        help_text=_(
            "Household passes: empty is one person every two days. Special passes: empty is no quota."
        ),
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        help_text=_("Empty: now."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    valid_until = forms.DateField(
        label=_("Valid until"), initial=_default_until, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class AmendForm(StyledFormMixin, forms.Form):
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class RevokeForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
