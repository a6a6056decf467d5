from epigrid.areas.filtersets import AreaFilterSet, BuildingFilterSet, HouseholdFilterSet
from epigrid.areas.models import Area, Building, Household
from epigrid.areas.serializers import AreaSerializer, BuildingSerializer, HouseholdSerializer
from epigrid.core.api import ScopedModelViewSet


class AreaViewSet(ScopedModelViewSet):
    queryset = Area.objects.all()
    serializer_class = AreaSerializer
    filterset_class = AreaFilterSet
    select_related = ("parent",)


class BuildingViewSet(ScopedModelViewSet):
    queryset = Building.objects.all()
    serializer_class = BuildingSerializer
    filterset_class = BuildingFilterSet
    select_related = ("area",)


class HouseholdViewSet(ScopedModelViewSet):
    queryset = Household.objects.all()
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilterSet
    # `address` reads the building's name.
    select_related = ("area", "building")
