"""Export of pass uses 出入记录 (registered with jobs.exports): one row per scan the user sees, with
the list's filters. ID numbers are masked unless a role that may reveal persons exports full data
with a reason, as every other export."""

from django.utils import timezone

from epigrid.core.identity import mask_document, mask_name
from epigrid.jobs.exports import Export, register_export
from epigrid.passes.filtersets import PassUseFilterSet
from epigrid.passes.models import HouseholdPass, PassUse

HEADERS = [
    "时间",
    "方向",
    "结果",
    "原因",
    "姓名",
    "证件号码",
    "网格",
    "户址",
    "出入证编号",
    "出入证类型",
    "卡口",
]
FIELDS = (
    "at",
    "direction",
    "outcome",
    "reason",
    "person__name",
    "person__doc_number",
    "household_pass__area__name",
    "household_pass__household__building__name",
    "household_pass__household__unit",
    "household_pass__household__room",
    "household_pass_id",
    "household_pass__kind",
    "checkpoint__name",
)


@register_export
class PassUseExport(Export):
    name = "pass-uses"
    title = "出入记录"
    model = PassUse
    filterset_class = PassUseFilterSet
    personal = True
    # The same right as the person and isolation exports: full ID numbers are a person's.
    reveal_perm = "people.reveal_person"
    headers = HEADERS
    text_columns = frozenset({5})

    def rows(self, queryset):
        directions = dict(PassUse.Direction.choices)
        outcomes = dict(PassUse.Outcome.choices)
        reasons = dict(PassUse.Reason.choices)
        kinds = dict(HouseholdPass.Kind.choices)
        doc = (lambda v: v or "") if self.unmasked else (lambda v: mask_document(v) if v else "")
        full_names = self.unmasked or self.user.has_scoped_perm("people.view_person")
        name = (lambda v: v or "") if full_names else mask_name
        for row in queryset.order_by("at", "pk").values_list(*FIELDS).iterator():
            at, direction, outcome, reason, person, number, grid, building, unit, room, pk, kind, gate = row
            address = " ".join(part for part in (building, f"{unit}单元" if unit else "", room) if part)
            yield [
                timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
                str(directions.get(direction, direction)),
                str(outcomes.get(outcome, outcome)),
                str(reasons.get(reason, reason)) if reason else "",
                name(person),
                doc(number),
                grid,
                address,
                pk,
                str(kinds.get(kind, kind)),
                gate or "",
            ]
