"""The results export (registered with jobs.exports): the list with its filters, one row per tube.
Results carry no personal data (the persons are behind the tube), so there is nothing to mask.
The first columns are the import's own (条码, 检测结果, Ct, 检测时间, 报告时间): an export re-imports
unchanged."""

from django.utils import timezone

from epigrid.jobs.exports import Export, register_export
from epigrid.results.filtersets import TubeResultFilterSet
from epigrid.results.imports import COLUMNS
from epigrid.results.models import Result, TubeResult

RESULT_LABELS = {
    Result.NEGATIVE: "阴性",
    Result.POOLED_POSITIVE: "混管阳性",
    Result.POSITIVE: "阳性",
    Result.INVALID: "无效",
    Result.PENDING: "待检",
}
SOURCE_LABELS = {"api": "接口", "import": "文件导入", "page": "页面更正", "demo": "演示"}
FIELDS = (
    "tube__barcode",
    "result",
    "ct_orf1ab",
    "ct_n",
    "tested_at",
    "reported_at",
    "campaign__name",
    "point__name",
    "lab__name",
    "sampled_at",
    "due_at",
    "source",
)


def _time(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


@register_export
class TubeResultExport(Export):
    """检测结果."""

    name = "lab-results"
    title = "检测结果"
    model = TubeResult
    filterset_class = TubeResultFilterSet
    headers = [
        *(c.header for c in COLUMNS[:6]),
        "轮次",
        "采样点",
        "检测机构",
        "采样时间",
        "应出结果时间",
        "周转时长(小时)",
        "是否超时",
        "来源",
    ]
    text_columns = frozenset({0})

    def rows(self, queryset):
        for row in queryset.order_by("reported_at", "id").values_list(*FIELDS).iterator(chunk_size=5000):
            barcode, result, ct1, ct2, tested, reported, campaign, point, lab, sampled, due, source = row
            final = result != Result.PENDING
            yield [
                barcode,
                RESULT_LABELS.get(result, result),
                float(ct1) if ct1 is not None else "",
                float(ct2) if ct2 is not None else "",
                _time(tested),
                _time(reported),
                campaign,
                point,
                lab,
                _time(sampled),
                _time(due),
                round((reported - sampled).total_seconds() / 3600, 1) if final else "",
                ("超时" if reported > due else "按时") if final else "",
                SOURCE_LABELS.get(source, source),
            ]
