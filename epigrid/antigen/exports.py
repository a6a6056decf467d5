"""Export of antigen reports (registered with jobs.exports): the report list with its filters.
Masked unless a role that may reveal persons exports full data with a reason."""

from django.utils import timezone

from epigrid.antigen.filtersets import AntigenReportFilterSet
from epigrid.antigen.models import AntigenReport
from epigrid.core.identity import display_phone, mask_document, mask_name, mask_phone
from epigrid.jobs.exports import Export, register_export
from epigrid.people.imports import EXPORT_LABELS

RESULT_LABELS = {"negative": "阴性", "positive": "阳性", "invalid": "无效"}
VIA_LABELS = {"worker": "网格员", "resident": "居民", "api": "接口"}
FIELDS = (
    "round__name",
    "area__parent__name",
    "area__name",
    "household__building__name",
    "household__unit",
    "household__room",
    "person__name",
    "person__doc_type",
    "person__doc_number",
    "person__birth_date",
    "person__phone",
    "result",
    "tested_at",
    "via",
    "retest_requested_at",
    "photo",
    "note",
)


@register_export
class AntigenReportExport(Export):
    """抗原自测结果: one row per person and round."""

    name = "antigen-reports"
    title = "抗原自测结果"
    model = AntigenReport
    filterset_class = AntigenReportFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = [
        "轮次",
        "社区",
        "网格",
        "楼栋",
        "单元",
        "房号",
        "姓名",
        "证件类型",
        "证件号码",
        "出生年份",
        "联系电话",
        "结果",
        "检测时间",
        "上报方式",
        "需复测",
        "照片",
        "备注",
    ]
    text_columns = frozenset({8, 10})

    def rows(self, queryset):
        doc = (lambda v: v) if self.unmasked else mask_document
        phone = (
            (lambda v: display_phone(v) if v else "")
            if self.unmasked
            else (lambda v: mask_phone(v) if v else "")
        )
        full_names = self.unmasked or self.user.has_scoped_perm("people.view_person")
        name = (lambda v: v or "") if full_names else mask_name
        for row in (
            queryset.order_by("area__path", "household__building__name", "household__room", "id")
            .values_list(*FIELDS)
            .iterator(chunk_size=5000)
        ):
            (rnd, community, grid, building, unit, room, p_name, p_type, p_number, born, p_phone) = row[:11]
            (result, tested_at, via, retest_at, photo, note) = row[11:]
            yield [
                rnd,
                community or "",
                grid,
                building or "",
                unit or "",
                room or "",
                name(p_name),
                EXPORT_LABELS["doc_type"].get(p_type, p_type or ""),
                doc(p_number),
                born.year if born else None,  # the year only, full data or not
                phone(p_phone),
                RESULT_LABELS.get(result, result),
                timezone.localtime(tested_at).strftime("%Y-%m-%d %H:%M"),
                VIA_LABELS.get(via, via),
                "是" if result == "invalid" else ("已复测" if retest_at else ""),
                "有" if photo else "",
                note,
            ]
