"""Forms of the pages; the rules live in homeservices.services and homeservices.kinds, the forms
only shape the input (one field per kind's detail, the phone's camera for photos)."""

import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from epigrid.accounts.models import Grant
from epigrid.areas.models import Household
from epigrid.core.forms import StyledFormMixin, style_form
from epigrid.core.widgets import AutocompleteSelect
from epigrid.homeservices import services
from epigrid.homeservices.kinds import FIELDS, Kind, Urgency
from epigrid.homeservices.models import ConfirmedHow, Group, ProactiveCheck, Source, SpecialCare
from epigrid.people.models import Person

PHOTO_ATTRS = {"accept": "image/jpeg,image/png", "capture": "environment"}
INPUTS = {
    "text": lambda f: forms.CharField(label=f.label, required=False, max_length=f.max_length),
    "datetime": lambda f: forms.DateTimeField(
        label=f.label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    ),
    "bool": lambda f: forms.BooleanField(label=f.label, required=False),
    "count": lambda f: forms.IntegerField(label=f.label, required=False, min_value=1),
    "decimal": lambda f: forms.DecimalField(label=f.label, required=False, min_value=0, decimal_places=2),
}
LONG = {"items", "medicines", "prescription", "concern"}


def detail_name(kind, field):
    return f"{kind}__{field.name}"


class RequestForm(forms.Form):
    household = forms.ModelChoiceField(
        queryset=Household.objects.none(), label=_("Household"), widget=AutocompleteSelect("areas.household")
    )
    person = forms.ModelChoiceField(
        queryset=Person.objects.none(), label=_("Requested by"), widget=AutocompleteSelect("people.person")
    )
    kind = forms.ChoiceField(label=_("Service"), choices=Kind.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    source = forms.ChoiceField(label=_("Received by"), choices=Source.choices[:3], initial=Source.PHONE)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    prescription_photo = forms.ImageField(
        label=_("Prescription photo"), required=False, widget=forms.ClearableFileInput(attrs=PHOTO_ATTRS)
    )
    client_id = forms.CharField(widget=forms.HiddenInput, required=False)
    add_to_open = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = Household.objects.restrict(user, perm=services.ADD)
        self.fields["person"].queryset = Person.objects.restrict(user, "view").filter(
            merged_into__isnull=True
        )
        self.detail_groups = []
        for kind, fields in FIELDS.items():
            names = []
            for field in fields:
                name = detail_name(kind, field)
                self.fields[name] = INPUTS[field.type](field)
                if field.name in LONG:
                    self.fields[name].widget = forms.Textarea(attrs={"rows": 2})
                names.append(name)
            self.detail_groups.append((kind, Kind(kind).label, names))
        if not self.is_bound:
            self.initial.setdefault("client_id", uuid.uuid4().hex)
        style_form(self)  # after the details' fields: they are styled too

    def groups(self):
        return [(kind, label, [self[n] for n in names]) for kind, label, names in self.detail_groups if names]

    def details(self):
        """The chosen kind's fields that were filled in (an unticked box is not an answer)."""
        kind = self.cleaned_data["kind"]
        values = {f.name: self.cleaned_data.get(detail_name(kind, f)) for f in FIELDS.get(kind, [])}
        return {name: value for name, value in values.items() if value not in (None, "", False)}


def worker_choices(area):
    """Users posted in the request's area or above who may work on requests: its grid workers,
    the community's officers and the volunteers posted there."""
    paths = [area.path[: i + 1] for i, c in enumerate(area.path) if c == "/" and i > 0]
    grants = Grant.objects.filter(area__path__in=paths) | Grant.objects.filter(
        area__path__startswith=area.path
    )
    users = get_user_model().objects.filter(is_active=True, pk__in=grants.values("user")).order_by("username")
    return users.filter(pk__in=[u.pk for u in users if services.may_work(u, area)])


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class AssignForm(StyledFormMixin, forms.Form):
    assignee = UserChoiceField(queryset=get_user_model().objects.none(), label=_("Assign to"))

    def __init__(self, *args, area=None, **kwargs):
        super().__init__(*args, **kwargs)
        if area is not None:
            self.fields["assignee"].queryset = worker_choices(area)


class DoneForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.ImageField(
        label=_("Photo (optional)"), required=False, widget=forms.ClearableFileInput(attrs=PHOTO_ATTRS)
    )


class ConfirmForm(StyledFormMixin, forms.Form):
    how = forms.ChoiceField(label=_("Confirmed how"), choices=ConfirmedHow.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class CareForm(StyledFormMixin, forms.ModelForm):
    """The register's entry; saved through services.register_care (the person's tag with it)."""

    person = forms.ModelChoiceField(
        queryset=Person.objects.none(), label=_("Person"), widget=AutocompleteSelect("people.person")
    )

    class Meta:
        model = SpecialCare
        fields = [
            "person",
            "group",
            "due_date",
            "treatment_days",
            "treatment_time",
            "hospital",
            "visit_every_days",
            "notes",
            "active",
        ]
        widgets = {
            "due_date": forms.DateInput(attrs={"type": "date"}),
            "treatment_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {"treatment_days": _("Weekdays, Monday = 1: e.g. 1,3,5")}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.restrict(user, "view").filter(
            Q(merged_into__isnull=True), household__isnull=False
        )
        self.fields["group"].choices = Group.choices


class CheckForm(StyledFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ProactiveCheck.Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
