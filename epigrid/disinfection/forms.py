"""Forms of the disinfection pages. The ledgers (teams, sites, rules, vehicles) are edited through
the generic scoped edit view; rounds, completions, trips, handovers and terminal steps only
through `disinfection.services`."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.disinfection.models import LEADER, Rule, Site, Team, Terminal, Trip, Vehicle, WasteKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TeamForm(StyledFormMixin, forms.ModelForm):
    leader_login = forms.CharField(
        label=_("Team leader (login)"),
        required=False,
        max_length=150,
        help_text=_("The login of the leader, who completes the team's sites from their phone."),
    )

    class Meta:
        model = Team
        fields = ["area", "name", "members", "active"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.leader_id:
            self.initial["leader_login"] = self.instance.leader.get_username()

    def clean_leader_login(self):
        name = (self.cleaned_data.get("leader_login") or "").strip()
        if not name:
            return None
        user = get_user_model().objects.filter(username=name, is_active=True, grants__role=LEADER).first()
        if user is None:
            raise ValidationError(_("No active disinfection team leader has this login."))
        return user

    def save(self, commit=True):
        self.instance.leader = self.cleaned_data.get("leader_login")
        return super().save(commit)


class SiteForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Site
        fields = ["area", "name", "site_type", "building", "size_m2", "active"]
        widgets = {"area": AutocompleteSelect("areas.area"), "building": AutocompleteSelect("areas.building")}


class RuleForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Rule
        fields = [
            "area",
            "site_type",
            "zone_level",
            "per_day",
            "team",
            "disinfectant",
            "concentration",
            "contact_minutes",
            "active",
        ]
        widgets = {"area": AutocompleteSelect("areas.area")}


class VehicleForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Vehicle
        fields = ["area", "plate", "kind", "team", "active"]
        widgets = {"area": AutocompleteSelect("areas.area")}


class GenerateForm(StyledFormMixin, forms.Form):
    area = forms.ModelChoiceField(
        queryset=None, to_field_name="code", label=_("Area"), widget=AutocompleteSelect("areas.area")
    )
    date = forms.DateField(label=_("Date"), widget=DATE)

    def __init__(self, *args, user=None, **kwargs):
        from epigrid.areas.models import Area

        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.restrict(user, "view")
        self.initial.setdefault("date", timezone.localdate())


class CompleteForm(StyledFormMixin, forms.Form):
    disinfectant = forms.CharField(label=_("Disinfectant"), max_length=60)
    concentration = forms.IntegerField(label=_("Concentration (mg/L)"), min_value=1, max_value=100_000)
    contact_minutes = forms.IntegerField(label=_("Contact time (min)"), min_value=1, max_value=1440)
    area_treated_m2 = forms.DecimalField(
        label=_("Area treated (m²)"), min_value=0, max_digits=10, decimal_places=1, required=False
    )
    photo = forms.ImageField(label=_("Photo"), required=True)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=12, decimal_places=8)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=12, decimal_places=8)

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photo"].widget.attrs.update({"accept": "image/jpeg,image/png", "capture": "environment"})
        if task is not None:
            rule = task.round.rule
            self.initial.setdefault("disinfectant", rule.disinfectant)
            self.initial.setdefault("concentration", rule.concentration)
            self.initial.setdefault("contact_minutes", rule.contact_minutes)
            self.initial.setdefault("area_treated_m2", task.site.size_m2)


class TripForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Trip
        fields = ["vehicle", "started_at", "waste_kind", "tonnage", "destination", "note"]
        widgets = {"started_at": DATETIME}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = Vehicle.objects.restrict(user, "view").filter(active=True)
        self.initial.setdefault("started_at", timezone.localtime().replace(second=0, microsecond=0))
        self.initial.setdefault("waste_kind", WasteKind.HOUSEHOLD)


class HandOverForm(StyledFormMixin, forms.Form):
    received_by = forms.CharField(label=_("Received by"), max_length=50)
    received_unit = forms.CharField(label=_("Receiving unit"), max_length=100, required=False)


class TerminalPlanForm(StyledFormMixin, forms.Form):
    case = forms.ModelChoiceField(queryset=None, label=_("Case"), widget=forms.NumberInput)
    team = forms.ModelChoiceField(queryset=None, label=_("Team"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The case through the FK's own model: the case must be one the user sees in tracing.
        Case = Terminal._meta.get_field("case").related_model
        self.fields["case"].queryset = Case.objects.restrict(user, "view")
        self.fields["team"].queryset = Team.objects.restrict(user, "view").filter(active=True)


class TerminalScheduleForm(StyledFormMixin, forms.Form):
    """When the team comes and how long the residents keep away: the notice before says it."""

    planned_at = forms.DateTimeField(label=_("Planned for"), widget=DATETIME)
    contact_minutes = forms.IntegerField(
        label=_("Contact time (min)"), min_value=1, max_value=1440, required=False
    )
    ventilation_minutes = forms.IntegerField(
        label=_("Ventilation before re-entry (min)"), min_value=0, max_value=1440, initial=30
    )


class TerminalRecordForm(StyledFormMixin, forms.Form):
    disinfectant = forms.CharField(label=_("Disinfectant"), max_length=60)
    concentration = forms.IntegerField(label=_("Concentration (mg/L)"), min_value=1, max_value=100_000)
    contact_minutes = forms.IntegerField(label=_("Contact time (min)"), min_value=1, max_value=1440)
    area_treated_m2 = forms.DecimalField(
        label=_("Area treated (m²)"), min_value=0, max_digits=10, decimal_places=1, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ReasonForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("Reason"), max_length=200)
