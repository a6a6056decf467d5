"""Forms of the roster pages. Members are saved through `rosters.services.save_member` (search
before create); shifts are stamped out by `plan_shifts`; assignments only through `assign`."""

import datetime
import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.core import identity
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.rosters.models import MAX_NEEDED, Post, Shift, StaffMember, Team, parse_pattern, pattern_text
from epigrid.rosters.services import MAX_PLAN_DAYS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StaffMemberForm(StyledFormMixin, forms.ModelForm):
    username = forms.CharField(
        label=_("User account"),
        required=False,
        max_length=150,
        help_text=_("The login of a member who checks in from their phone (role: duty staff)."),
    )

    class Meta:
        model = StaffMember
        fields = ["name", "phone", "kind", "unit", "area", "active_from", "active_to", "notes"]
        widgets = {"area": AutocompleteSelect("areas.area"), "active_from": DATE, "active_to": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].help_text = _("For a cadre sent down: the office or company that sent them.")
        if self.instance.pk:
            # The masked phone sent back unchanged means "keep it"; a new full number replaces it.
            self.initial["phone"] = self.instance.masked_phone
            self.initial["username"] = self.instance.user.get_username() if self.instance.user_id else ""

    def clean_phone(self):
        value = self.cleaned_data.get("phone")
        if self.instance.pk and self.instance.phone and value == self.instance.masked_phone:
            return self.instance.phone
        return identity.normalise_phone(value) if value else ""

    def clean_username(self):
        name = (self.cleaned_data.get("username") or "").strip()
        if not name:
            return None
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise ValidationError(_("No active user account has this login."))
        return user

    def clean(self):
        data = super().clean()
        # Search before create: the view opens this member instead of refusing the form.
        self.existing = None
        if not self.instance.pk and data.get("phone") and data.get("area"):
            self.existing = StaffMember.objects.filter(area=data["area"], phone=data["phone"]).first()
        return data

    def fields_for_service(self):
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["user"] = self.cleaned_data.get("username")
        return data


class KeyPersonField(forms.ModelChoiceField):
    """A key-person entry by its number (the ledger is too long for a select)."""

    widget = forms.TextInput(attrs={"inputmode": "numeric"})


class TeamForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "kind", "area", "key_person", "leader", "members", "duties"]
        widgets = {
            "area": AutocompleteSelect("areas.area"),
            "leader": AutocompleteSelect("rosters.staffmember"),
            "members": forms.CheckboxSelectMultiple,
        }
        field_classes = {"key_person": KeyPersonField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_person"].label = _("Key-person entry no.")
        self.fields["key_person"].help_text = _(
            "For a five-for-one team: the ledger entry of the key person it looks after."
        )

    def clean(self):
        data = super().clean()
        if data.get("kind") == Team.Kind.FIVE_FOR_ONE and not data.get("key_person"):
            self.add_error("key_person", _("A five-for-one team looks after one key person: give the entry."))
        return data


def _pattern_from_text(text):
    """'08:00-16:00, 16:00-24:00' → [{"start": "08:00", "end": "16:00"}, ...]."""
    items = []
    for part in re.split(r"[,，;；\s]+", text.strip()):
        if not part:
            continue
        bits = re.split(r"[-–~～至]", part)
        if len(bits) != 2:
            raise ValidationError(_("Write each shift as start–end, e.g. 08:00-16:00."))
        items.append({"start": bits[0].strip(), "end": bits[1].strip()})
    parse_pattern(items)
    return items


class PostForm(StyledFormMixin, forms.ModelForm):
    pattern_text = forms.CharField(
        label=_("Shift pattern"),
        initial="08:00-16:00, 16:00-24:00, 00:00-08:00",
        help_text=_(
            "Shifts of a day as start–end, separated by commas; an end before the start is the next day."
        ),
    )

    class Meta:
        model = Post
        fields = ["name", "kind", "area", "place_label", "needed", "is_active"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place_label"].help_text = _(
            "The checkpoint, sampling point or site this post stands for."
        )
        self.fields["needed"].max_value = MAX_NEEDED
        if self.instance.pk:
            self.initial["pattern_text"] = pattern_text(self.instance.pattern).replace("–", "-")

    def clean_pattern_text(self):
        return _pattern_from_text(self.cleaned_data["pattern_text"])

    def save(self, commit=True):
        self.instance.pattern = self.cleaned_data["pattern_text"]
        return super().save(commit)


class ShiftForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Shift
        fields = ["needed", "notes"]

    def clean_needed(self):
        needed = self.cleaned_data["needed"]
        taken = self.instance.assignments.count() if self.instance.pk else 0
        if needed < max(taken, 1):
            raise ValidationError(
                _("%(n)d persons are already on this shift; take someone off first.") % {"n": taken}
            )
        return needed


class PlanForm(StyledFormMixin, forms.Form):
    first_day = forms.DateField(label=_("From"), widget=DATE)
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=MAX_PLAN_DAYS, initial=7)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_day"].initial = timezone.localdate()


class AssignForm(StyledFormMixin, forms.Form):
    staff = forms.ModelChoiceField(queryset=StaffMember.objects.none(), label=_("Staff member"))

    def __init__(self, *args, user=None, shift=None, **kwargs):
        super().__init__(*args, **kwargs)
        if shift is not None:
            day = timezone.localtime(shift.start).date()
            self.fields["staff"].queryset = (
                StaffMember.objects.restrict(user, "view")
                .filter(area__path__startswith=_street_path(shift.post.area))
                .filter(active_from__lte=day)
                .exclude(active_to__lt=day)
                .exclude(pk__in=shift.assignments.values("staff"))
                .order_by("name")
            )


def _street_path(area):
    """Members come from the post's street (a community's post is staffed from its street's pool)."""
    parts = area.path.strip("/").split("/")
    return "/" + "/".join(parts[: min(len(parts), 3)]) + "/"


def default_period():
    today = timezone.localdate()
    return today - datetime.timedelta(days=6), today


class PeriodForm(StyledFormMixin, forms.Form):
    since = forms.DateField(label=_("From"), widget=DATE, required=False)
    until = forms.DateField(label=_("To"), widget=DATE, required=False)
