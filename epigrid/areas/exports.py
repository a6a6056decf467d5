from django.db.models import Count

from epigrid.areas.filtersets import HouseholdFilterSet
from epigrid.areas.models import Household
from epigrid.jobs.exports import Export, register_export


@register_export
class HouseholdExport(Export):
    name = "households"
    title = "住户台账"
    model = Household
    filterset_class = HouseholdFilterSet
    headers = ["网格编码", "网格", "楼栋", "单元", "房号", "成员数", "联系人", "备注"]
    text_columns = frozenset({0, 2, 3, 4})

    def rows(self, queryset):
        fields = (
            "area__code",
            "area__name",
            "building__name",
            "unit",
            "room",
            "members_count",
            "contact_person__name",
            "notes",
        )
        rows = queryset.annotate(members_count=Count("members")).order_by("pk").values_list(*fields)
        for row in rows.iterator(chunk_size=5000):
            yield [value if value is not None else "" for value in row]
