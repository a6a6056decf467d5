"""Forms of the antigen pages. They collect and check input; writes go through antigen.services
(or the generic edit view for a round's own fields)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from epigrid.antigen.models import (
    MAX_KITS_PER_HOUSEHOLD,
    AntigenFollowUp,
    AntigenReport,
    AntigenRound,
    KitDistribution,
    Result,
)
from epigrid.antigen.photos import validate_photo
from epigrid.areas.models import Area, Level
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect, CheckboxChoices

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MAX_AREA_CHOICES = 300


def _datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)


class CoveredAreasField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{'　' * max(obj.level - Level.DISTRICT, 0)}{obj.name}"


class AntigenRoundForm(StyledFormMixin, forms.ModelForm):
    """A round's fields; the organiser and the areas covered are limited to where the user may
    draw rounds, and each covered area lies inside the organiser's."""

    class Meta:
        model = AntigenRound
        fields = [
            "name",
            "area",
            "areas",
            "starts_on",
            "ends_on",
            "allocation",
            "kits_per",
            "results_due_at",
            "follow_up_hours",
        ]
        field_classes = {"areas": CoveredAreasField}
        widgets = {
            "area": AutocompleteSelect("areas.area"),
            "areas": CheckboxChoices,
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "results_due_at": _datetime_input(),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        action = "change" if self.instance.pk else "add"
        scoped = Area.objects.restrict(user, perm=f"antigen.{action}_antigenround")
        self.fields["area"].queryset = scoped
        # Down to grids while the list stays short enough to tick on a phone, else a level higher.
        for deepest in (Level.GRID, Level.COMMUNITY, Level.STREET):
            areas = scoped.filter(level__lte=deepest)
            if areas.count() <= MAX_AREA_CHOICES:
                break
        self.fields["areas"].queryset = areas.order_by("path")
        self.fields["results_due_at"].input_formats = [DATETIME_LOCAL]
        for name in ("starts_on", "ends_on"):
            self.fields[name].input_formats = ["%Y-%m-%d"]

    def clean(self):
        data = super().clean()
        organiser, covered = data.get("area"), data.get("areas")
        if organiser and covered:
            outside = [a.name for a in covered if not a.path.startswith(organiser.path)]
            if outside:
                self.add_error(
                    "areas", _("Outside the organiser's area: %(names)s") % {"names": "、".join(outside)}
                )
        return data


class KitDistributionForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = KitDistribution
        fields = ["kits", "note"]
        widgets = {"kits": forms.NumberInput(attrs={"min": 0, "max": MAX_KITS_PER_HOUSEHOLD})}


class PhotoField(forms.ImageField):
    """JPEG or PNG up to 5 MB, read by Pillow (antigen.photos)."""

    def clean(self, data, initial=None):
        if data:
            validate_photo(data)  # our messages first: size, then what Pillow makes of it
        return super().clean(data, initial)


class AntigenReportForm(StyledFormMixin, forms.ModelForm):
    photo = PhotoField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"}),
    )

    class Meta:
        model = AntigenReport
        fields = ["result", "tested_at", "photo", "note"]
        widgets = {"result": forms.RadioSelect, "tested_at": _datetime_input()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tested_at"].input_formats = [DATETIME_LOCAL]
        self.fields["tested_at"].required = False


class QuickReportForm(forms.Form):
    """One person's result from the household sheet: a tap on 阴性/阳性/无效, an optional photo."""

    result = forms.ChoiceField(choices=Result.choices)
    photo = PhotoField(required=False)


class AntigenFollowUpForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = AntigenFollowUp
        fields = ["due_by", "note"]
        widgets = {"due_by": _datetime_input()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_by"].input_formats = [DATETIME_LOCAL]


class FollowUpMoveForm(forms.Form):
    note = forms.CharField(max_length=200, required=False)
