"""Forms of the sweep pages. Writes go through testing.services; these only check input."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Area, Household, Level
from epigrid.core import identity, reasons
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.people.models import Person, ResidenceType
from epigrid.testing.models import Campaign, Exemption, SamplingPoint, SweepOutcome


def covers(campaign, area):
    """Whether the round's areas include `area`."""
    return any(area.path.startswith(path) for path in campaign.areas.values_list("path", flat=True))


class ExemptionForm(StyledFormMixin, forms.ModelForm):
    """Add (round, person, reason, note) or edit (reason and note: an exemption is one person's
    in one round; another person is another exemption)."""

    campaign = forms.ModelChoiceField(queryset=Campaign.objects.all(), label=_("testing round"))
    person = forms.ModelChoiceField(
        queryset=Person.objects.filter(merged_into__isnull=True),
        label=_("person"),
        widget=AutocompleteSelect("people.person"),
    )

    class Meta:
        model = Exemption
        fields = ["campaign", "person", "reason", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("campaign", "person"):
                self.fields[name].disabled = True

    def clean(self):
        data = super().clean()
        campaign, person = data.get("campaign"), data.get("person")
        if campaign and person and not self.instance.pk:
            if not covers(campaign, person.area):
                raise ValidationError({"person": _("This person lives outside the areas this round covers.")})
            if campaign.status == Campaign.Status.FINISHED:
                raise ValidationError({"campaign": _("This round is finished.")})
        return data


class SweepForm(forms.Form):
    """One tap on the missed list: an outcome, an optional note, and for home sampling a team."""

    outcome = forms.ChoiceField(choices=SweepOutcome.choices)
    note = forms.CharField(max_length=200, required=False)
    team = forms.ModelChoiceField(queryset=SamplingPoint.objects.none(), required=False)

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = home_teams(campaign)

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == SweepOutcome.EXEMPT and not (data.get("note") or "").strip():
            raise ValidationError(_("Write why the person is exempt in the note."))
        if outcome == SweepOutcome.SAMPLED_HOME and data.get("team") is None and self.fields["team"].queryset:
            raise ValidationError(_("Choose the home-sampling team."))
        return data


def home_teams(campaign):
    if campaign is None:
        return SamplingPoint.objects.none()
    return SamplingPoint.objects.filter(campaign=campaign, is_home_team=True).order_by("name")


class NoteForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class RejectFindForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_reason(self):
        return reasons.clean_reason(self.cleaned_data["reason"])


class RegisterFindForm(StyledFormMixin, forms.Form):
    """Registers a find as a resident. The document comes from the find, server-side: the page
    shows it masked and never posts it. The phone is prefilled masked; sent back unchanged it
    means the find's own."""

    name = forms.CharField(label=_("full name"), max_length=64)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    household = forms.ModelChoiceField(
        queryset=Household.objects.all(),
        required=False,
        label=_("household"),
        widget=AutocompleteSelect("areas.household"),
    )
    area = forms.ModelChoiceField(
        queryset=Area.objects.filter(level=Level.GRID),
        to_field_name="code",
        required=False,
        label=_("grid"),
        widget=AutocompleteSelect("areas.area"),
        help_text=_("Taken from the household when one is chosen."),
    )
    residence_type = forms.ChoiceField(
        label=_("residence type"), choices=ResidenceType.choices, initial=ResidenceType.MIGRANT
    )

    def __init__(self, *args, find=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.find = find
        if find is not None and not self.is_bound:
            self.initial.setdefault("name", find.name)
            self.initial.setdefault("phone", find.masked_phone if find.phone else "")
            if find.area.level == Level.GRID:
                self.initial.setdefault("area", find.area.code)

    def clean_phone(self):
        value = (self.cleaned_data.get("phone") or "").strip()
        if self.find is not None and self.find.phone and value == self.find.masked_phone:
            return self.find.phone
        return identity.normalise_phone(value) if value else ""

    def clean(self):
        data = super().clean()
        if data.get("household"):
            data["area"] = data["household"].area
        elif not data.get("area"):
            raise ValidationError({"area": _("Choose the person's grid or household.")})
        return data
