"""The box export (registered with jobs.exports): the box list with its filters, one row per box
with its custody times, deadline and receipt. Boxes carry no personal data."""

from django.utils import timezone

from epigrid.jobs.exports import Export, register_export
from epigrid.transport.filtersets import BoxFilterSet
from epigrid.transport.models import Box

STATUS_LABELS = {
    "open": "装箱中",
    "sealed": "已封箱待取",
    "in_transit": "运输中",
    "received": "已接收",
    "discarded": "已作废",
}
FIELDS = (
    "barcode",
    "status",
    "campaign__name",
    "point__name",
    "lab__name",
    "tube_count",
    "first_sample_at",
    "due_at",
    "opened_at",
    "sealed_at",
    "picked_up_by__username",
    "picked_up_at",
    "received_by__username",
    "received_at",
    "missing_count",
    "extra_count",
    "receipt_note",
)


def _time(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


@register_export
class BoxExport(Export):
    """转运箱清单."""

    name = "boxes"
    title = "转运箱清单"
    model = Box
    filterset_class = BoxFilterSet
    headers = [
        "箱码",
        "状态",
        "轮次",
        "采样点",
        "检测机构",
        "管数",
        "首份采样时间",
        "应送达时间",
        "开箱时间",
        "封箱时间",
        "转运员",
        "取件时间",
        "接收人",
        "接收时间",
        "缺失管数",
        "多出管数",
        "是否超时",
        "接收备注",
    ]
    text_columns = frozenset({0})

    def rows(self, queryset):
        now = timezone.now()
        for row in queryset.order_by("opened_at", "id").values_list(*FIELDS).iterator(chunk_size=5000):
            (barcode, status, campaign, point, lab, tubes, first, due, opened, sealed) = row[:10]
            (courier, picked, receiver, received, missing, extra, note) = row[10:]
            if due is None or status == Box.Status.DISCARDED:
                late = ""
            elif status == Box.Status.RECEIVED:
                late = "超时" if received > due else "按时"
            else:
                late = "超时" if now > due else ""
            yield [
                barcode,
                STATUS_LABELS.get(status, status),
                campaign,
                point,
                lab,
                tubes,
                _time(first),
                _time(due),
                _time(opened),
                _time(sealed),
                courier or "",
                _time(picked),
                receiver or "",
                _time(received),
                missing if status == Box.Status.RECEIVED else "",
                extra if status == Box.Status.RECEIVED else "",
                late,
                note,
            ]
