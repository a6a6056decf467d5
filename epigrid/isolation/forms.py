"""Forms of the isolation pages. Moves (allocate, transfer, check out) are plain forms handed to
`isolation.services`; the model forms edit only what is not a state (a room's status is the
services')."""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.isolation.models import Room, Site
from epigrid.people.models import Person


class SiteForm(StyledFormMixin, forms.ModelForm):
    staff = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Site staff"),
        help_text=_("Users holding the isolation-site staff role; they see only the sites they staff."),
    )

    class Meta:
        model = Site
        fields = ["name", "kind", "area", "address", "capacity", "daily_rate", "is_active", "staff"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = (
            get_user_model()
            .objects.filter(grants__role="isolation_staff", is_active=True)
            .distinct()
            .order_by("username")
        )


class RoomForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Room
        fields = ["site", "number", "floor", "kind", "beds"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A room does not move between sites: its stays say where the persons were.
            self.fields["site"].disabled = True


class AllocateForm(StyledFormMixin, forms.Form):
    person = forms.ModelChoiceField(
        queryset=Person.objects.filter(merged_into__isnull=True),
        label=_("Person"),
        widget=AutocompleteSelect("people.person"),
    )
    room = forms.ModelChoiceField(queryset=Room.objects.none(), label=_("Room"))
    companion_of = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("As companion of"),
        help_text=_("Only for a companion sharing the room of a minor, an elderly or a disabled person."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, rooms, stays, persons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms
        self.fields["companion_of"].queryset = stays
        self.fields["person"].queryset = persons


class TransferForm(StyledFormMixin, forms.Form):
    room = forms.ModelChoiceField(queryset=Room.objects.none(), label=_("To room"))
    note = forms.CharField(label=_("Why"), max_length=200, required=False)

    def __init__(self, *args, rooms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms


class BackFromHospitalForm(StyledFormMixin, forms.Form):
    room = forms.ModelChoiceField(queryset=Room.objects.none(), label=_("Room"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, rooms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms


class WasteHandoverForm(StyledFormMixin, forms.Form):
    """A medical-waste handover as the staff records it on the phone; the time defaults to now."""

    bags = forms.IntegerField(label=_("Bags"), min_value=1, max_value=10000)
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"), min_value=Decimal("0.01"), max_digits=7, decimal_places=2
    )
    company = forms.CharField(label=_("Collecting company"), max_length=100)
    collector_name = forms.CharField(label=_("Collector"), max_length=50)
    handed_over_at = forms.DateTimeField(
        label=_("Handed over at"),
        required=False,
        help_text=_("Empty: now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
