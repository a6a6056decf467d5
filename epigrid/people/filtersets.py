import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.people import services
from epigrid.people.models import Person, ResidenceType, Tag
from epigrid.people.search import exact_terms, search_persons


class PersonSearchMixin:
    """The one search box of every list that finds persons: exact number lookups by a role
    without the reveal right are counted and limited (people.services.charge_lookups), and their
    tail searches stop at what the mask shows (people.search). The subclass declares `q`."""

    def _narrow(self):
        user = getattr(self.request, "user", None)
        return not services.may_reveal(user)

    def is_valid(self):
        valid = super().is_valid()
        if valid and not getattr(self, "_charged", False):
            self._charged = True  # FilterView and .qs both ask; one search is one lookup
            try:
                services.charge_lookups(
                    getattr(self.request, "user", None), exact_terms(self.form.cleaned_data.get("q"))
                )
            except services.LookupLimitReached as exc:
                self.form.add_error("q", exc)
                self._charged_error = True
        return valid and not getattr(self, "_charged_error", False)

    def search(self, queryset, value):
        return search_persons(queryset, value, narrow=self._narrow())


class PersonFilterSet(PersonSearchMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    area = ScopedAreaFilter(label=_("Area"))
    tag = django_filters.ModelChoiceFilter(
        label=_("Vulnerable tag"), field_name="tags", to_field_name="code", queryset=Tag.objects.all()
    )
    residence_type = django_filters.ChoiceFilter(label=_("Residence type"), choices=ResidenceType.choices)
    include_merged = django_filters.BooleanFilter(
        label=_("Include merged records"), method="filter_merged", widget=forms.CheckboxInput
    )

    class Meta:
        model = Person
        fields = ["q", "area", "tag", "residence_type"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_merged"):
            queryset = queryset.filter(merged_into__isnull=True)
        return queryset

    def filter_q(self, qs, name, value):
        return self.search(qs, value)

    def filter_merged(self, qs, name, value):
        return qs
