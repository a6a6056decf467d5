from django import forms

from epigrid.areas.models import Area, Building, Household
from epigrid.core.widgets import AutocompleteSelect


class AreaForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = ["parent", "level", "code", "name"]
        widgets = {"parent": AutocompleteSelect("areas.area")}


class BuildingForm(forms.ModelForm):
    class Meta:
        model = Building
        fields = ["area", "name", "address"]
        widgets = {"area": AutocompleteSelect("areas.area")}


class HouseholdForm(forms.ModelForm):
    class Meta:
        model = Household
        fields = ["building", "unit", "room", "contact_person", "notes"]
        widgets = {
            "building": AutocompleteSelect("areas.building"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = self.fields["building"].queryset.select_related("area")
        members = (
            self.instance.members.all() if self.instance.pk else self.fields["contact_person"].queryset.none()
        )
        self.fields["contact_person"].queryset = members
