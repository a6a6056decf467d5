from django.db.models import Count
from django.urls import reverse

from epigrid.areas.counts import subtree_counts
from epigrid.areas.filtersets import AreaFilterSet, BuildingFilterSet, HouseholdFilterSet
from epigrid.areas.forms import AreaForm, BuildingForm, HouseholdForm
from epigrid.areas.models import Area, Building, Household, Level
from epigrid.areas.tables import AreaTable, BuildingTable, HouseholdTable
from epigrid.core import panels
from epigrid.core.views import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from epigrid.people.models import Person


class AreaTreeView(ObjectListView):
    """The top of the user's tree: the highest areas they may see, with counts."""

    model = Area
    table_class = AreaTable
    filterset_class = AreaFilterSet
    template_name = "areas/area_tree.html"
    add_url_name = "areas:area_add"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        scoped = Area.objects.restrict(self.request.user, "view")
        ctx["nodes"] = _with_counts(self.request.user, _tops(scoped))
        return ctx


def _tops(scoped):
    areas = list(scoped.order_by("path").only("pk", "path", "code", "name", "level", "parent_id"))
    tops = []
    for area in areas:
        if not any(area.path.startswith(t.path) for t in tops):
            tops.append(area)
    return tops


def _with_counts(user, nodes):
    for node in nodes:
        households, persons = subtree_counts(user, node, [node])
        node.household_count, node.person_count = households[node.pk], persons[node.pk]
    return nodes


class AreaDetailView(ObjectDetailView):
    model = Area
    template_name = "areas/area_detail.html"
    slug_field = "code"
    slug_url_kwarg = "code"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        area, user = self.object, self.request.user
        children = list(Area.objects.restrict(user, "view").filter(parent=area))
        nodes = [area, *children]
        households, persons = subtree_counts(user, area, nodes)
        for node in nodes:
            node.household_count, node.person_count = households[node.pk], persons[node.pk]
        ctx["children"] = children
        ctx["ancestors"] = [
            a for a in area.ancestors() if Area.objects.restrict(user, "view").filter(pk=a.pk).exists()
        ]
        if area.level == Level.GRID:
            ctx["buildings"] = (
                Building.objects.restrict(user, "view")
                .filter(area=area)
                .annotate(household_count=Count("households"))
                .order_by("name")
            )
        return ctx


class AreaEditView(ObjectEditView):
    model = Area
    form_class = AreaForm

    def get_initial(self):
        initial = super().get_initial()
        parent = self.request.GET.get("parent")
        if parent:
            parent_area = Area.objects.restrict(self.request.user, "view").filter(code=parent).first()
            if parent_area:
                initial.update(parent=parent_area, level=min(parent_area.level + 1, Level.GRID))
        return initial


class AreaDeleteView(ObjectDeleteView):
    model = Area

    def get_success_url(self):
        return reverse("areas:area_tree")


class AreaListView(ObjectListView):
    model = Area
    table_class = AreaTable
    filterset_class = AreaFilterSet
    add_url_name = "areas:area_add"

    def get_queryset(self):
        return super().get_queryset().select_related("parent")


class BuildingListView(ObjectListView):
    model = Building
    table_class = BuildingTable
    filterset_class = BuildingFilterSet
    add_url_name = "areas:building_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area")


class BuildingDetailView(ObjectDetailView):
    model = Building
    template_name = "areas/building_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["households"] = (
            Household.objects.restrict(self.request.user, "view")
            .filter(building=self.object)
            .annotate(member_count=Count("members"))
            .order_by("unit", "room")
        )
        return ctx


class BuildingEditView(ObjectEditView):
    model = Building
    form_class = BuildingForm


class HouseholdListView(ObjectListView):
    model = Household
    table_class = HouseholdTable
    filterset_class = HouseholdFilterSet
    add_url_name = "areas:household_add"
    export_name = "households"
    import_name = "residents"

    def get_queryset(self):
        # GROUP BY queries drop Meta.ordering, so order explicitly for stable pages.
        return (
            super()
            .get_queryset()
            .select_related("area", "building")
            .annotate(member_count=Count("members"))
            .order_by("building__name", "unit", "room")
        )


class HouseholdDetailView(ObjectDetailView):
    model = Household
    template_name = "areas/household_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area", "building", "contact_person")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["members"] = (
            Person.objects.restrict(self.request.user, "view")
            .filter(household=self.object, merged_into__isnull=True)
            .prefetch_related("tags")
        )
        ctx["panels"] = panels.for_object(self.request, self.object)  # operation apps' panels
        return ctx


class HouseholdEditView(ObjectEditView):
    model = Household
    form_class = HouseholdForm


class HouseholdDeleteView(ObjectDeleteView):
    model = Household

    def get_success_url(self):
        return reverse("areas:household_list")
