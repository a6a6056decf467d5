"""Forms of the risk-zone pages. Drawing goes through services.draw_zone; the form only collects
and checks the input (the model's clean() runs here too, so errors land on their fields)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Area, Building
from epigrid.control.models import ZONE_LEVEL_LABELS, Zone
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def level_choices(protocol):
    return [(level, ZONE_LEVEL_LABELS.get(level, level)) for level in protocol.rules["zones"]["levels"]]


class ZoneDrawForm(StyledFormMixin, forms.ModelForm):
    """Draw a zone on an area, or on one building (or one unit) inside it, at a level of the
    active protocol. Areas and buildings are limited to where the user may add zones."""

    level = forms.ChoiceField(label=_("Risk level"))

    class Meta:
        model = Zone
        fields = ["area", "building", "unit", "level", "started_on", "last_case_on", "rules_text"]
        widgets = {
            "area": AutocompleteSelect("areas.area"),
            "building": AutocompleteSelect("areas.building"),
            "started_on": _date_input(),
            "last_case_on": _date_input(),
            "rules_text": forms.Textarea(
                attrs={"rows": 3, "placeholder": _("e.g. stay at home, services delivered to the door")}
            ),
        }

    def __init__(self, *args, user, protocol, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.protocol = protocol  # so the model's clean() checks the level against it
        self.fields["area"].queryset = Area.objects.restrict(user, perm="control.add_zone")
        self.fields["building"].queryset = Building.objects.restrict(user, perm="control.add_zone")
        self.fields["building"].help_text = _("Optional: a zone on one building (and one unit of it).")
        self.fields["unit"].help_text = _("Optional, with a building.")
        self.fields["level"].choices = [("", "---------"), *level_choices(protocol)]
        self.fields["level"].help_text = _("Levels of %(protocol)s, the active protocol.") % {
            "protocol": protocol.short_name
        }

    def clean_last_case_on(self):
        day = self.cleaned_data.get("last_case_on")
        if day and day > timezone.localdate():
            raise ValidationError(_("This date is in the future."))
        return day

    def service_fields(self):
        """Keyword arguments for services.draw_zone."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ZoneForm(StyledFormMixin, forms.ModelForm):
    """The zone's rules text; where, level and status change only through the workflow."""

    class Meta:
        model = Zone
        fields = ["rules_text"]
        widgets = {"rules_text": forms.Textarea(attrs={"rows": 4})}


class RecordCaseForm(StyledFormMixin, forms.Form):
    day = forms.DateField(label=_("Date of the new case"), widget=_date_input())

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day > timezone.localdate():
            raise ValidationError(_("This date is in the future."))
        return day


class LiftingForm(StyledFormMixin, forms.Form):
    """One step of the lifting workflow. Applying has no decision; evaluating and approving
    post `decision` = approve or refuse (the two buttons), and a refusal needs its reason."""

    DECISIONS = (("approve", "approve"), ("refuse", "refuse"))

    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    decision = forms.ChoiceField(choices=DECISIONS, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, decides=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.decides = decides

    def clean(self):
        data = super().clean()
        if self.decides and data.get("decision") not in ("approve", "refuse"):
            raise ValidationError(_("Choose to approve or to refuse."))
        if self.decides and data.get("decision") == "refuse" and not data.get("note", "").strip():
            self.add_error("note", _("Give the reason for the refusal."))
        return data

    @property
    def approve(self):
        return self.cleaned_data.get("decision") == "approve"
