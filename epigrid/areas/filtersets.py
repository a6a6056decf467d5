import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from epigrid.areas.models import Area, Building, Household, Level
from epigrid.core.widgets import AutocompleteSelect


# In the API schema the filter takes an area code, a string.
@extend_schema_field(OpenApiTypes.STR)
class ScopedAreaFilter(django_filters.ModelChoiceFilter):
    """Filter by an area code: the object lies anywhere in that area's subtree."""

    def __init__(self, *args, path_lookup="area__path", **kwargs):
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("widget", AutocompleteSelect("areas.area"))
        kwargs.setdefault("queryset", _scoped_areas)
        super().__init__(*args, **kwargs)
        self.path_lookup = path_lookup

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.path_lookup}__startswith": value.path})


def _scoped_areas(request):
    if request is None:
        return Area.objects.none()
    return Area.objects.restrict(request.user, "view").filter(level__lte=5)


class AreaFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    level = django_filters.ChoiceFilter(choices=Level.choices, label=_("Level"))
    within = ScopedAreaFilter(label=_("Within"), path_lookup="path")
    parent = django_filters.CharFilter(field_name="parent__code", label=_("Parent code"))

    class Meta:
        model = Area
        fields = ["q", "level", "within", "parent"]

    def filter_q(self, qs, name, value):
        return qs.filter(name__contains=value.strip()) | qs.filter(code__startswith=value.strip())


class BuildingFilterSet(django_filters.FilterSet):
    area = ScopedAreaFilter(label=_("Area"))
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Building"))

    class Meta:
        model = Building
        fields = ["area", "q"]


class HouseholdFilterSet(django_filters.FilterSet):
    area = ScopedAreaFilter(label=_("Area"))
    # The name people read on the door (1号楼), not a database id.
    building = django_filters.CharFilter(method="filter_building", label=_("Building"))
    q = django_filters.CharFilter(method="filter_q", label=_("Address"))

    class Meta:
        model = Household
        fields = ["area", "building", "q"]

    def filter_building(self, qs, name, value):
        return qs.filter(building__name=value.strip()) if value.strip() else qs

    def filter_q(self, qs, name, value):
        value = value.strip()
        return qs.filter(building__name__contains=value) | qs.filter(room__startswith=value)
