"""Forms of the assistance pages. The request form and the person rows are plain input handed to
`assistance.services` (receive, add_persons, update_request, assign, the answers): no form saves a
model itself."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Area
from epigrid.assistance import services
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.control.models import Category
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.people.models import DocumentType


class RequestForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = AssistRequest
        fields = ["requester", "reference", "contact", "in_province", "received_at", "area", "notes"]
        widgets = {
            "area": AutocompleteSelect("areas.area"),
            "received_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "in_province": _("24 hours to answer from inside the province, 48 hours from outside."),
            "area": _("The district or street that answers; its persons go to their communities and grids."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["received_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise ValidationError(_("The request cannot be received in the future."))
        return value


class PersonRowForm(StyledFormMixin, forms.Form):
    """One person of the requester's list, typed by hand."""

    name = forms.CharField(label=_("Name"), max_length=64)
    doc_type = forms.ChoiceField(label=_("Document type"), choices=DocumentType.choices, initial="111")
    doc_number = forms.CharField(label=_("Document number"), max_length=40)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    category = forms.ChoiceField(
        label=_("Category"), choices=Category.choices, initial=Category.CLOSE_CONTACT
    )
    exposure_on = forms.DateField(
        label=_("Last exposure or arrival"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    address = forms.CharField(label=_("Address given"), max_length=200, required=False)
    request_note = forms.CharField(label=_("Requester's note"), max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            return services.clean_row(data)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field, message)
        return data


class BasePersonRowFormSet(forms.BaseFormSet):
    def clean(self):
        seen = set()
        for form in self.forms:
            if not form.has_changed() or form.errors:
                continue
            key = (form.cleaned_data.get("doc_type"), form.cleaned_data.get("doc_number"))
            if key in seen:
                form.add_error("doc_number", _("This document is on the list twice."))
            seen.add(key)

    def rows(self):
        return [form.cleaned_data for form in self.forms if form.has_changed()]


PersonRowFormSet = forms.formset_factory(PersonRowForm, formset=BasePersonRowFormSet, extra=3)


class AssignForm(StyledFormMixin, forms.ModelForm):
    """Where the person is believed to be: a community or a grid of the receiving area."""

    class Meta:
        model = AssistPerson
        fields = ["area"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.all()
        self.fields["area"].label = _("Assigned to")


class AnswerForm(StyledFormMixin, forms.Form):
    ANSWERS = [
        (AssistPerson.Status.FOUND, _("Found and verified")),
        (AssistPerson.Status.NO_SUCH_PERSON, _("No such person")),
        (AssistPerson.Status.LEFT, _("Has left")),
    ]
    answer = forms.ChoiceField(choices=ANSWERS, label=_("Answer"))
    note = forms.CharField(label=_("Note for the requester"), max_length=500, required=False)
