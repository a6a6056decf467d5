"""Forms of the shops-and-markets pages. Outlets are saved through `services.save_outlet`
(search before create), staff rows through `services.add_staff` (the person found by document),
inspections, closures and re-inspections through their services."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from epigrid.core import identity
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.markets.models import (
    Baseline,
    Commodity,
    Inspection,
    Outlet,
    ShopStaff,
    WildlifeCheck,
)
from epigrid.people.models import DocumentType

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OutletForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Outlet
        fields = ["name", "kind", "area", "address", "operator", "contact", "phone", "monitored", "notes"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The masked phone sent back unchanged means "keep it"; a new full number replaces it.
            self.initial["phone"] = self.instance.masked_phone

    def clean_phone(self):
        value = self.cleaned_data.get("phone")
        if self.instance.pk and self.instance.phone and value == self.instance.masked_phone:
            return self.instance.phone
        return identity.normalise_phone(value) if value else ""

    def validate_unique(self):
        # Search before create is the service's: the same name in the same area opens that outlet.
        pass

    def fields_for_service(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CommodityForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Commodity
        fields = ["code", "name", "name_en", "unit", "spike_percent", "short_stock_days", "order", "active"]


class BaselineForm(StyledFormMixin, forms.ModelForm):
    price = forms.DecimalField(
        label=_("Baseline price"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        help_text=_("Leave empty to take the mean price of the reports over the reference period."),
    )

    class Meta:
        model = Baseline
        fields = ["commodity", "area", "price", "period_from", "period_to", "note"]
        widgets = {"area": AutocompleteSelect("areas.area"), "period_from": DATE, "period_to": DATE}

    def validate_unique(self):
        pass  # set_baseline updates the item's baseline in the area if there is one


class HandleAlertForm(StyledFormMixin, forms.Form):
    action_taken = forms.CharField(
        label=_("Action taken"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class AddStaffForm(StyledFormMixin, forms.Form):
    outlet = forms.ModelChoiceField(
        label=_("Outlet"), queryset=Outlet.objects.all(), widget=AutocompleteSelect("markets.outlet")
    )
    doc_type = forms.ChoiceField(
        label=_("Document type"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID
    )
    doc_number = forms.CharField(label=_("Document number"), max_length=40)
    position = forms.CharField(label=_("Position"), max_length=40, required=False)
    health = forms.ChoiceField(
        label=_("Health status"), choices=ShopStaff.Health.choices, initial=ShopStaff.Health.NORMAL
    )
    last_contact_on = forms.DateField(label=_("Last contacted"), required=False, widget=DATE)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["outlet"].queryset = Outlet.objects.restrict(user, perm="markets.add_shopstaff")


class ShopStaffForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ShopStaff
        fields = ["position", "health", "last_contact_on", "active", "notes"]
        widgets = {"last_contact_on": DATE}


class InspectionForm(StyledFormMixin, forms.ModelForm):
    """The inspector's phone form: the checks, the result and — to close — the re-inspection date."""

    reinspect_due = forms.DateField(label=_("Re-inspection due"), required=False, widget=DATE)

    class Meta:
        model = Inspection
        fields = [
            "outlet",
            "inspected_on",
            "distancing_ok",
            "masks_ok",
            "disinfection_ok",
            "result",
            "findings",
        ]
        widgets = {
            "outlet": AutocompleteSelect("markets.outlet"),
            "inspected_on": DATE,
            "findings": forms.Textarea(attrs={"rows": 2}),
        }


class InspectionEditForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Inspection
        fields = ["inspected_on", "distancing_ok", "masks_ok", "disinfection_ok", "findings"]
        widgets = {"inspected_on": DATE, "findings": forms.Textarea(attrs={"rows": 2})}


class CloseForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason for closing"), max_length=300)
    closed_on = forms.DateField(label=_("Closed on"), required=False, widget=DATE)
    reinspect_due = forms.DateField(label=_("Re-inspection due"), required=False, widget=DATE)


class ReinspectForm(StyledFormMixin, forms.Form):
    findings = forms.CharField(label=_("Findings"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    reopen = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Reopen")), ("0", _("Keep closed"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason for the decision"), max_length=300, required=False)
    on = forms.DateField(label=_("Re-inspected on"), required=False, widget=DATE)
    next_due = forms.DateField(label=_("Next re-inspection due"), required=False, widget=DATE)


class WildlifeCheckForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = WildlifeCheck
        fields = ["area", "site", "species", "count", "check_date", "checker", "notes"]
        widgets = {"area": AutocompleteSelect("areas.area"), "check_date": DATE}
