"""The missed list 未检人员名单 as an export (jobs.exports): the rows of the page, with its round,
area, building and filters, for the sweep teams' printed lists. Masked (birth year only) unless a
role that may reveal asks for full data with a reason; then only the rows it may reveal."""

from django.http import Http404, QueryDict

from epigrid.core.identity import display_phone, mask_document, mask_phone
from epigrid.jobs.exports import Export, register_export
from epigrid.people.models import Person
from epigrid.testing.coverage_views import COVERAGE_PERM, resolve_building, resolve_node
from epigrid.testing.models import Campaign, SweepOutcome
from epigrid.testing.sweep_filtersets import MissedFilterSet

OUTCOME_LABELS = {
    SweepOutcome.SAMPLED_HOME: "已上门采样",
    SweepOutcome.NOT_HOME: "不在家",
    SweepOutcome.MOVED: "已搬离",
    SweepOutcome.AWAY: "外出不在本市",
    SweepOutcome.HOSPITAL: "住院",
    SweepOutcome.EXEMPT: "免检",
}
HEADERS = (
    "网格",
    "楼栋",
    "单元",
    "房号",
    "姓名",
    "证件号码",
    "出生年份",
    "联系电话",
    "最近走访结果",
    "走访时间",
    "走访备注",
    "上门采样队",
)
_TEXT_HEADERS = ("楼栋", "单元", "房号", "证件号码", "联系电话")


class _RequestLike:
    def __init__(self, user):
        self.user = user


@register_export
class MissedExport(Export):
    name = "missed"
    title = "未检人员名单"
    model = Person
    filterset_class = MissedFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = HEADERS
    text_columns = frozenset(i for i, h in enumerate(HEADERS) if h in _TEXT_HEADERS)

    def queryset(self, query):
        from epigrid.testing.sweep_views import missed_queryset

        params = QueryDict(query)
        campaign_id = params.get("campaign", "")
        campaign = (
            Campaign.objects.restrict(self.user, "view").filter(pk=campaign_id).first()
            if campaign_id.isdigit()
            else None
        )
        if campaign is None or not self.user.has_scoped_perm(COVERAGE_PERM):
            return Person.objects.none()
        try:
            node = resolve_node(self.user, campaign, params.get("area"), COVERAGE_PERM)
            building = resolve_building(node, params.get("building"))
        except Http404:
            return Person.objects.none()
        rows = missed_queryset(campaign, node, building)
        if self.unmasked:
            rows = rows.filter(
                pk__in=Person.objects.restrict(self.user, perm=self.full_data_perm()).values("pk")
            )
        filterset = self.filterset_class(params, queryset=rows, request=_RequestLike(self.user))
        return filterset.qs if filterset.is_valid() else rows.none()

    def rows(self, queryset):
        for person in queryset.iterator(chunk_size=2000):
            household = person.household
            yield (
                person.area.name,
                household.building.name if household else "",
                household.unit if household else "",
                household.room if household else "",
                person.name,
                person.doc_number if self.unmasked else mask_document(person.doc_number),
                person.birth_date if self.unmasked else person.birth_year,
                display_phone(person.phone) if self.unmasked else mask_phone(person.phone),
                OUTCOME_LABELS.get(person.last_outcome, ""),
                person.last_visit,
                person.last_note or "",
                person.home_team or "",
            )
