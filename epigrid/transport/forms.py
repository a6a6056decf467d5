"""Forms of the transport pages. The scan forms hold one field each, always focused: a
keyboard-wedge scanner types the code and presses Enter, which submits the form."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from epigrid.core.forms import StyledFormMixin
from epigrid.core.identity import normalise_text
from epigrid.core.widgets import AutocompleteSelect
from epigrid.transport.models import Box, Lab


def _scan_attrs(placeholder):
    return {
        "autofocus": True,
        "autocomplete": "off",
        "autocapitalize": "characters",
        "autocorrect": "off",
        "spellcheck": "false",
        "enterkeyhint": "go",
        "placeholder": placeholder,
        "data-scan": "",
    }


class ScanForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Barcode"),
        max_length=64,
        widget=forms.TextInput(attrs=_scan_attrs(_("Scan or type, then Enter"))),
    )


class OpenBoxForm(StyledFormMixin, forms.Form):
    """Open a box: the point (the sampler's posts), the lab it goes to, its barcode."""

    point = forms.ModelChoiceField(queryset=None, label=_("Sampling point"))
    lab = forms.ModelChoiceField(queryset=None, label=_("Lab"))
    code = forms.CharField(
        label=_("Box barcode"),
        max_length=64,
        widget=forms.TextInput(attrs=_scan_attrs(_("Scan the box's barcode"))),
    )

    def __init__(self, *args, points, labs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points
        self.fields["lab"].queryset = labs
        # One post or one lab (the usual case): nothing to choose.
        for name in ("point", "lab"):
            field = self.fields[name]
            if field.queryset.count() == 1 and not self.is_bound:
                field.initial = field.queryset.first().pk


class SealForm(StyledFormMixin, forms.Form):
    count = forms.IntegerField(
        label=_("Tubes counted in the box"),
        min_value=1,
        max_value=10000,
        required=False,
        help_text=_("Optional: the number you counted; sealing is refused if it differs from the scans."),
    )


class ReceiptForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when tubes are missing or extra, or the box was not scanned at pick-up."),
    )


class RerouteForm(StyledFormMixin, forms.ModelForm):
    """Send a box that is on its way to another lab (its edit page)."""

    note = forms.CharField(label=_("Why"), max_length=200)

    class Meta:
        model = Box
        fields = ["lab"]


class LabForm(StyledFormMixin, forms.ModelForm):
    staff = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Lab staff"),
        help_text=_("Users holding the lab staff role; they see only the boxes heading to this lab."),
    )

    class Meta:
        model = Lab
        fields = ["name", "code", "address", "area", "is_active", "staff"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["staff"].queryset = (
            User.objects.filter(grants__role="lab_staff", is_active=True).distinct().order_by("username")
        )

    def clean_code(self):
        return normalise_text(self.cleaned_data["code"])
