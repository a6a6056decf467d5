"""The reply list 协查反馈表 the requester expects back (registered with jobs.exports): one row per
person of the request, in the columns offices send back. ID numbers are masked unless a role that
may reveal persons exports full data with a reason, as every other export; phones are not in it
(the requester has them)."""

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from epigrid.areas.models import Area
from epigrid.assistance.filtersets import AssistPersonFilterSet
from epigrid.assistance.models import AssistPerson
from epigrid.control.imports import MEASURE_LABELS
from epigrid.control.models import ControlMeasure
from epigrid.core.identity import mask_document
from epigrid.jobs.exports import Export, register_export

HEADERS = ["序号", "姓名", "证件号码", "核查结果", "落实措施", "管控地点/社区", "落实时间", "备注"]
# The answers as the requester reads them, whatever the exporting user's language.
RESULT_LABELS = {
    AssistPerson.Status.PENDING: "核查中",
    AssistPerson.Status.FOUND: "已找到，已落实管控",
    AssistPerson.Status.NO_SUCH_PERSON: "查无此人",
    AssistPerson.Status.LEFT: "已离开",
    AssistPerson.Status.NOT_TRACED: "已找到，按现行方案不纳入管控",
}


def current_measure():
    """The entry's first step not yet over (落实措施), read in the export's one query."""
    return Subquery(
        ControlMeasure.objects.filter(key_person=OuterRef("key_person"), status__in=ControlMeasure.OPEN)
        .order_by("sequence")
        .values("kind")[:1]
    )


class AreaLabels:
    """社区·网格 of an area, read once per area (a reply list's rows share a few grids)."""

    def __init__(self):
        self.labels = {}

    def __call__(self, pk):
        if pk not in self.labels:
            area = Area.objects.select_related("parent").filter(pk=pk).first()
            self.labels[pk] = "" if area is None else area.full_label()
        return self.labels[pk]


@register_export
class AssistReplyExport(Export):
    """协查反馈表: one row per person of the request(s) the list shows."""

    name = "assist-reply"
    title = "协查反馈表"
    model = AssistPerson
    filterset_class = AssistPersonFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = HEADERS
    text_columns = frozenset({2})  # 证件号码: text, or Excel rounds an 18-digit number

    def rows(self, queryset):
        doc = (lambda v: v) if self.unmasked else mask_document
        areas = AreaLabels()
        rows = (
            queryset.annotate(measure=current_measure())
            .order_by("request__received_at", "request_id", "number", "id")
            .values_list(
                "number", "name", "doc_number", "status", "measure", "area_id", "answered_at", "answer_note"
            )
        )
        for number, name, number_doc, status, measure, area, answered, note in rows.iterator(chunk_size=2000):
            found = status == AssistPerson.Status.FOUND
            yield [
                number,
                name,
                doc(number_doc),
                RESULT_LABELS.get(status, status),
                MEASURE_LABELS.get(measure, "") if found else "",
                areas(area) if status in (AssistPerson.Status.FOUND, AssistPerson.Status.NOT_TRACED) else "",
                timezone.localtime(answered).strftime("%Y-%m-%d %H:%M") if answered else "",
                note,
            ]
