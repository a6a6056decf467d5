import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.people.models import Person, ResidenceType, Tag
from epigrid.people.search import search_persons


class PersonFilterSet(django_filters.FilterSet):
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
        return search_persons(qs, value)

    def filter_merged(self, qs, name, value):
        return qs
