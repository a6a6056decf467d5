"""Exports of tubes and samples (registered with jobs.exports): the tube list with its filters,
one row per person in each tube (what a lab or a transport team checks a tube against). Masked
unless a role that may reveal persons exports full data with a reason."""

from django.utils import timezone

from epigrid.core.identity import mask_document, mask_name
from epigrid.jobs.exports import Export, register_export
from epigrid.people.imports import EXPORT_LABELS
from epigrid.testing.filtersets import TubeFilterSet
from epigrid.testing.models import Sample, Tube

TUBE_STATUS_LABELS = {"open": "采样中", "closed": "已结束", "sealed": "已封管"}
FIELDS = (
    "tube__barcode",
    "tube__status",
    "tube__count",
    "tube__capacity",
    "campaign__name",
    "point__name",
    "desk__name",
    "position",
    "person__name",
    "person__doc_type",
    "person__doc_number",
    "person__birth_date",
    "find__name",
    "find__doc_type",
    "find__doc_number",
    "scanned_at",
    "repeat",
)


@register_export
class TubeExport(Export):
    """管码清单: each tube's persons by position."""

    name = "tubes"
    title = "管码清单"
    model = Tube
    filterset_class = TubeFilterSet
    personal = True
    # Full data of a sample is its person's: whoever may reveal persons where the tube lies.
    reveal_perm = "people.reveal_person"
    headers = [
        "管码",
        "管状态",
        "人数",
        "容量",
        "轮次",
        "采样点",
        "采样台",
        "序号",
        "姓名",
        "证件类型",
        "证件号码",
        "出生年份",
        "采样时间",
        "未登记",
        "重复采样",
    ]
    text_columns = frozenset({0, 10})

    def rows(self, queryset):
        doc = (lambda v: v) if self.unmasked else mask_document
        # Names as the tube page shows them: in full to roles that see the registry.
        full_names = self.unmasked or self.user.has_scoped_perm("people.view_person")
        name = (lambda v: v or "") if full_names else mask_name
        samples = (
            Sample.objects.filter(tube__in=queryset.values("pk"), status=Sample.Status.ACTIVE)
            .order_by("tube__barcode", "position")
            .values_list(*FIELDS)
        )
        for row in samples.iterator(chunk_size=5000):
            (barcode, status, count, capacity, campaign, point, desk, position) = row[:8]
            (p_name, p_type, p_number, born, f_name, f_type, f_number, scanned_at, repeat) = row[8:]
            registered = p_number is not None
            doc_type = p_type if registered else f_type
            yield [
                barcode,
                TUBE_STATUS_LABELS.get(status, status),
                count,
                capacity,
                campaign,
                point,
                desk,
                position,
                name(p_name if registered else f_name),
                EXPORT_LABELS["doc_type"].get(doc_type, doc_type or ""),
                doc(p_number if registered else (f_number or "")),
                # The birth year only, full data or not: the year is what the pages show.
                born.year if born else None,
                timezone.localtime(scanned_at).strftime("%Y-%m-%d %H:%M:%S"),
                "" if registered else "是",
                "是" if repeat else "",
            ]
