"""Forms of the tracing pages. Moves (open a case, add a stop or a contact, confirm) are forms handed
to `tracing.services`; the model forms edit only what is not a state."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.people.models import DocumentType, Person
from epigrid.tracing.models import Case, Cluster, Contact, Team, TrajectoryEntry

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CaseForm(StyledFormMixin, forms.Form):
    person = forms.ModelChoiceField(
        queryset=Person.objects.none(), label=_("Person"), widget=AutocompleteSelect("people.person")
    )
    classification = forms.ChoiceField(choices=Case.Classification.choices, label=_("Classification"))
    sampled_on = forms.DateField(label=_("First positive sample taken on"), widget=DATE)
    positive_at = forms.DateTimeField(
        label=_("Positive known at"), widget=DATETIME, help_text=_("The deadlines run from this time.")
    )
    onset_date = forms.DateField(label=_("Symptom onset"), required=False, widget=DATE)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label=_("Tracing team"), required=False)
    cluster = forms.ModelChoiceField(queryset=Cluster.objects.none(), label=_("Cluster"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.restrict(user, "view").filter(
            merged_into__isnull=True
        )
        self.fields["team"].queryset = Team.objects.restrict(user, "view")
        self.fields["cluster"].queryset = Cluster.objects.restrict(user, "view")
        if not self.is_bound:
            self.initial.setdefault("positive_at", timezone.localtime().replace(second=0, microsecond=0))
            self.initial.setdefault("sampled_on", timezone.localdate())


class CaseEditForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Case
        fields = ["classification", "team", "cluster", "onset_date", "notes"]
        widgets = {"onset_date": DATE, "notes": forms.Textarea(attrs={"rows": 3})}


class StopForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = TrajectoryEntry
        fields = [
            "date",
            "time_from",
            "time_to",
            "stayed_home",
            "place",
            "address",
            "venue",
            "activity",
            "duration_minutes",
            "transport",
            "transport_number",
            "carriage",
            "seat",
            "cluster",
            "public",
        ]
        widgets = {"date": DATE, "time_from": TIME, "time_to": TIME}

    def clean(self):
        data = super().clean()
        if not data.get("stayed_home") and not data.get("place") and not data.get("address"):
            self.add_error("place", _("Give the place, or tick “stayed home all day”."))
        return data


class ContactForm(StyledFormMixin, forms.Form):
    person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        label=_("Person"),
        widget=AutocompleteSelect("people.person"),
        help_text=_("Search the registry first; register a person from elsewhere below."),
    )
    contact_class = forms.ChoiceField(label=_("Class"))
    setting = forms.ChoiceField(choices=Contact.Setting.choices, label=_("Setting"))
    closeness = forms.ChoiceField(choices=Contact.Closeness.choices, label=_("Closeness"))
    last_contact = forms.DateField(label=_("Last contact"), widget=DATE)
    via = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, label=_("Through close contact")
    )
    stop = forms.ModelChoiceField(
        queryset=TrajectoryEntry.objects.none(), required=False, label=_("Trajectory stop")
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, user, case, classes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.restrict(user, "view").filter(
            merged_into__isnull=True
        )
        self.fields["contact_class"].choices = classes
        self.fields["via"].queryset = case.contacts.filter(contact_class=Contact.Class.CLOSE).select_related(
            "person"
        )
        self.fields["via"].label_from_instance = lambda c: c.person.name
        self.fields["stop"].queryset = case.trajectory.all()
        if not self.is_bound:
            self.initial.setdefault("last_contact", timezone.localdate(case.positive_at))
            self.initial.setdefault("closeness", Contact.Closeness.CLOSE)
            self.initial.setdefault("contact_class", Contact.Class.CLOSE)


class NewPersonForm(StyledFormMixin, forms.Form):
    """A contact not in the registry (a visitor, a passenger from elsewhere). Part of the contact
    form: the browser must not demand these fields when a registered person is picked."""

    use_required_attribute = False

    name = forms.CharField(label=_("Full name"), max_length=64)
    doc_type = forms.ChoiceField(choices=DocumentType.choices, label=_("Document type"))
    doc_number = forms.CharField(label=_("Document number"), max_length=32)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32)
    note = forms.CharField(label=_("Where they live"), required=False, max_length=200)


class BuildingRuleForm(StyledFormMixin, forms.Form):
    own_facilities = forms.TypedChoiceField(
        label=_("The case's home has"),
        choices=[
            ("1", _("its own kitchen and bathroom")),
            ("0", _("a shared kitchen or bathroom")),
        ],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )


class DismissForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("Why not a contact"), max_length=200)


class ClusterForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Cluster
        fields = ["name", "kind", "place", "started_on", "area", "notes"]
        widgets = {
            "area": AutocompleteSelect("areas.area"),
            "started_on": DATE,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class TeamForm(StyledFormMixin, forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Members"),
        help_text=_("Users holding the tracer role; they see only their teams' cases."),
    )

    class Meta:
        model = Team
        fields = ["name", "area", "members"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = (
            get_user_model()
            .objects.filter(grants__role="tracer", is_active=True)
            .distinct()
            .order_by("username")
        )
