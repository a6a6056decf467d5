from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from epigrid.core import identity
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.people.models import Person


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = [
            "doc_type",
            "doc_number",
            "name",
            "phone",
            "residence_type",
            "area",
            "household",
            "tags",
            "notes",
        ]
        widgets = {
            "area": AutocompleteSelect("areas.area"),
            "household": AutocompleteSelect("areas.household"),
            "tags": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The document is the person's identity; a wrong one is fixed by merging records.
            self.fields["doc_type"].disabled = True
            self.fields["doc_number"].disabled = True
            self.initial["phone"] = self.instance.display_phone
        self.fields["area"].help_text = _(
            "The grid the person lives in; taken from the household when one is chosen."
        )
        self.fields["area"].required = False
        self.fields["household"].queryset = self.fields["household"].queryset.select_related("building")

    def clean_doc_number(self):
        return identity.normalise_document(self.cleaned_data.get("doc_type"), self.cleaned_data["doc_number"])

    def clean_phone(self):
        return identity.normalise_phone(self.cleaned_data.get("phone"))

    def clean(self):
        data = super().clean()
        if data.get("household"):
            data["area"] = data["household"].area
            self.instance.area = data["area"]
        elif not data.get("area"):
            raise ValidationError({"area": _("Choose the person's grid or household.")})
        return data


class RevealForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        min_length=2,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. verifying identity for contact tracing")}),
    )


class MergeForm(StyledFormMixin, forms.Form):
    duplicate = forms.ModelChoiceField(
        label=_("Duplicate record"),
        queryset=Person.objects.none(),
        widget=AutocompleteSelect("people.person"),
    )
    reason = forms.CharField(label=_("Reason"), min_length=2, max_length=500)
    confirm = forms.BooleanField(label=_("I have checked that both records are the same person"))

    def __init__(self, *args, survivor, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duplicate"].queryset = (
            Person.objects.restrict(user, "change").filter(merged_into__isnull=True).exclude(pk=survivor.pk)
        )
