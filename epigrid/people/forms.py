from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from epigrid.core import identity, reasons
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
            # The page shows it masked, never the full number (that takes a reveal with a reason),
            # and the posted value is never read.
            self.fields["doc_type"].disabled = True
            self.fields["doc_number"] = forms.CharField(
                label=self.fields["doc_number"].label, disabled=True, required=False
            )
            self.initial["doc_number"] = self.instance.masked_doc_number
            # The masked phone sent back unchanged means "keep it"; a new full number replaces it.
            self.initial["phone"] = self.instance.masked_phone
        self.fields["area"].help_text = _(
            "The grid the person lives in; taken from the household when one is chosen."
        )
        self.fields["area"].required = False
        self.fields["household"].queryset = self.fields["household"].queryset.select_related("building")

    def clean_doc_number(self):
        if self.instance.pk:
            return self.instance.doc_number
        return identity.normalise_document(self.cleaned_data.get("doc_type"), self.cleaned_data["doc_number"])

    def clean_phone(self):
        value = self.cleaned_data.get("phone")
        if self.instance.pk and self.instance.phone and value == self.instance.masked_phone:
            return self.instance.phone
        return identity.normalise_phone(value)

    def clean(self):
        data = super().clean()
        if data.get("household"):
            data["area"] = data["household"].area
            self.instance.area = data["area"]
        elif not data.get("area"):
            raise ValidationError({"area": _("Choose the person's grid or household.")})
        return data


class ReasonForm(StyledFormMixin, forms.Form):
    """A reason for full personal data: one of the usual ones, or free text (core.reasons)."""

    OTHER = "other"
    reason_choice = forms.ChoiceField(label=_("Reason"), required=False)
    reason = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Other reason, or details")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason_choice"].choices = [
            ("", "—"),
            *[(str(r), r) for r in reasons.COMMON_REASONS],
            (self.OTHER, _("Other (write it below)")),
        ]

    def clean(self):
        data = super().clean()
        picked = data.get("reason_choice")
        text = (data.get("reason") or "").strip()
        parts = [picked] if picked and picked != self.OTHER else []
        if text:
            parts.append(text)
        try:
            data["reason"] = reasons.clean_reason("：".join(parts))
        except ValidationError as exc:
            self.add_error("reason", exc)
        return data


RevealForm = ReasonForm


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
