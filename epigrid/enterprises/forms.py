"""Forms of the enterprise pages. The register and the roster's department are plain edits (the
generic scoped edit view); everything else goes through `enterprises.services`."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from epigrid.core import identity
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.enterprises.models import Application, Employee, Enterprise, Phase, PPEStock
from epigrid.people.models import DocumentType

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EnterpriseForm(StyledFormMixin, forms.ModelForm):
    contact_logins = forms.CharField(
        label=_("Contact accounts"),
        required=False,
        max_length=300,
        help_text=_("Logins of the enterprise's contacts (role: enterprise contact), separated by commas."),
    )

    class Meta:
        model = Enterprise
        fields = [
            "name",
            "uscc",
            "kind",
            "size",
            "industry",
            "phase",
            "area",
            "address",
            "contact_name",
            "contact_phone",
            "prevention_lead",
        ]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The masked phone sent back unchanged means "keep it"; a new full number replaces it.
            self.initial["contact_phone"] = self.instance.masked_contact_phone
            self.initial["contact_logins"] = ", ".join(u.get_username() for u in self.instance.contacts.all())

    def clean_contact_phone(self):
        value = self.cleaned_data.get("contact_phone")
        if self.instance.pk and self.instance.contact_phone and value == self.instance.masked_contact_phone:
            return self.instance.contact_phone
        return identity.normalise_phone(value) if value else ""

    def clean_contact_logins(self):
        names = [
            n.strip() for n in (self.cleaned_data.get("contact_logins") or "").replace("，", ",").split(",")
        ]
        names = [n for n in names if n]
        users = list(get_user_model().objects.filter(username__in=names, is_active=True))
        unknown = sorted(set(names) - {u.get_username() for u in users})
        if unknown:
            raise ValidationError(
                _("No active user account has the login %(names)s.") % {"names": "、".join(unknown)}
            )
        return users

    def save(self, commit=True):
        enterprise = super().save(commit=commit)
        if commit and "contact_logins" in self.fields:  # the contact's own form has no such field
            enterprise.contacts.set(self.cleaned_data.get("contact_logins") or [])
        return enterprise


class EmployeeForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Employee
        fields = ["department", "is_active"]


class AddEmployeeForm(StyledFormMixin, forms.Form):
    doc_type = forms.ChoiceField(
        label=_("Document type"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID
    )
    doc_number = forms.CharField(label=_("Document number"), max_length=32)
    department = forms.CharField(label=_("Department or post"), max_length=60, required=False)


class ApplicationForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Application
        fields = [
            "planned_start",
            "prevention_plan",
            "emergency_plan",
            "isolation_room",
            "commitment",
            "commitment_by",
        ]
        widgets = {
            "planned_start": DATE,
            "prevention_plan": forms.Textarea(attrs={"rows": 4}),
            "emergency_plan": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "commitment": _(
                "We commit to the prevention rules: staff screening, temperature before each shift, "
                "disinfection, at least 3 days of PPE, reporting daily."
            ),
        }


class NoteForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class PermitForm(StyledFormMixin, forms.Form):
    permitted_from = forms.DateField(label=_("Permitted from"), required=False, widget=DATE)


class TemperatureForm(StyledFormMixin, forms.Form):
    temperature = forms.CharField(
        label=_("Temperature (°C)"), max_length=6, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )


class PPEForm(StyledFormMixin, forms.Form):
    item = forms.ChoiceField(label=_("Item"), choices=PPEStock.Item.choices)
    stock = forms.DecimalField(label=_("In stock"), min_value=0, max_digits=10, decimal_places=1)
    daily_use = forms.DecimalField(
        label=_("Daily use per person"), min_value=0.01, max_digits=6, decimal_places=2
    )
    unit = forms.CharField(label=_("Unit"), max_length=10, required=False)


class PhaseForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Phase
        fields = ["code", "name", "earliest_on", "area", "notes"]
        widgets = {"earliest_on": DATE, "area": AutocompleteSelect("areas.area")}


def card_form(questions, data=None, initial=None):
    """A form of the protocol's card questions (fields named by the questions' keys)."""
    form = forms.Form(data=data, initial=initial)
    yes_no = [("yes", _("Yes")), ("no", _("No"))]
    for q in questions:
        kind = q.get("type", "text")
        if kind == "yes_no":
            field = forms.ChoiceField(label=q["label"], choices=yes_no, widget=forms.RadioSelect)
        elif kind == "choice":
            field = forms.ChoiceField(
                label=q["label"], choices=[(c, c) for c in q.get("choices", [])], widget=forms.RadioSelect
            )
        elif kind == "date":
            field = forms.DateField(label=q["label"], widget=DATE)
        else:
            field = forms.CharField(label=q["label"], max_length=200)
        form.fields[q["key"]] = field
    from epigrid.core.forms import style_form

    return style_form(form)
