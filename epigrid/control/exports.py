"""The key-person ledger as an export: the import's own columns (so a full-data export re-imports
unchanged) followed by the plan: protocol, status, current measure and each step with its dates,
test days and status. Masked unless exported with full data."""

from collections import defaultdict

from epigrid.control.filtersets import KeyPersonFilterSet
from epigrid.control.imports import (
    CATEGORY_LABELS,
    COLUMNS,
    MEASURE_LABELS,
    TEAM_FIELDS,
    format_team,
)
from epigrid.control.models import ControlMeasure, KeyPerson
from epigrid.core.identity import display_phone, mask_document, mask_phone
from epigrid.jobs.exports import Export, register_export
from epigrid.people.imports import EXPORT_LABELS

MAX_STEPS = 3  # 第九版 and 二十条 chains have at most 2 steps; a protocol switch may add one
ENTRY_STATUS_LABELS = {"open": "管控中", "released": "已解除", "closed": "已关闭"}
STEP_STATUS_LABELS = {
    "planned": "待开始",
    "active": "进行中",
    "hospitalized": "转送医院",
    "completed": "已完成",
    "released_early": "提前解除",
    "cancelled": "已取消",
}
STEP_HEADERS = ("措施", "开始", "计划结束", "检测日", "状态")
FIELDS = (
    "pk",
    "person__name",
    "person__doc_type",
    "person__doc_number",
    "person__phone",
    "person__area__code",
    "person__area__name",
    "person__household__building__name",
    "person__household__unit",
    "person__household__room",
    "origin",
    "arrival",
    "transport",
    "category",
    "last_exposure",
    *TEAM_FIELDS,
    "notes",
    "protocol__short_name",
    "status",
)
_TEXT_HEADERS = ("证件号", "电话", "网格编码", "楼栋", "单元", "房号")


class _RequestLike:
    """Filtersets read request.user for their scoped choices; a job has no request."""

    def __init__(self, user):
        self.user = user


def _address(grid, building, unit, room):
    place = "".join(
        part
        for part in (
            building or "",
            f"{unit}单元" if unit and not unit.endswith("单元") else unit or "",
            room or "",
        )
    )
    return " ".join(part for part in (grid or "", place) if part)


@register_export
class KeyPersonExport(Export):
    """重点人员排查登记表 with measures and schedules."""

    name = "keypersons"
    title = "重点人员排查登记表"
    model = KeyPerson
    filterset_class = KeyPersonFilterSet
    personal = True
    # Full data of a key person is the person's: whoever may reveal persons of the entry's area.
    reveal_perm = "people.reveal_person"
    headers = [
        *(c.header for c in COLUMNS),
        "方案",
        "状态",
        "当前措施",
        *(f"第{n}步{h}" for n in range(1, MAX_STEPS + 1) for h in STEP_HEADERS),
    ]
    text_columns = frozenset(i for i, h in enumerate(headers) if h in _TEXT_HEADERS)

    def rows(self, queryset):
        steps = defaultdict(list)
        measures = (
            ControlMeasure.objects.filter(key_person__in=queryset.values("pk"))
            .exclude(status=ControlMeasure.Status.CANCELLED)
            .order_by("key_person_id", "sequence")
            .values_list("key_person_id", "kind", "status", "start", "planned_end", "test_dates")
        )
        for entry_id, *step in measures.iterator(chunk_size=10_000):
            steps[entry_id].append(step)
        doc = (lambda v: v) if self.unmasked else mask_document
        phone = display_phone if self.unmasked else mask_phone
        for row in queryset.order_by("pk").values_list(*FIELDS).iterator(chunk_size=5000):
            (pk, name, doc_type, number, tel, grid_code, grid_name, building, unit, room) = row[:10]
            (origin, arrival, transport, category, last_exposure) = row[10:15]
            team = dict(zip(TEAM_FIELDS, row[15:20], strict=True))
            notes, protocol, status = row[20:]
            chain = steps.get(pk, [])
            yield [
                name,
                EXPORT_LABELS["doc_type"].get(doc_type, doc_type),
                doc(number),
                phone(tel),
                _address(grid_name, building, unit, room),
                grid_code or "",
                grid_name or "",
                building or "",
                unit or "",
                room or "",
                origin,
                arrival,
                transport,
                "",  # 车次/航班号: kept together with the transport in one field
                CATEGORY_LABELS.get(category, category),
                "+".join(MEASURE_LABELS.get(kind, kind) for kind, *_rest in chain),
                last_exposure,
                format_team(team),
                notes,
                protocol,
                ENTRY_STATUS_LABELS.get(status, status),
                _current(chain),
                *_step_cells(chain[-MAX_STEPS:]),
            ]


def _current(chain):
    """The step in progress, else the next one planned; blank when the plan is over."""
    for wanted in (("active", "hospitalized"), ("planned",)):
        for kind, status, *_rest in chain:
            if status in wanted:
                return MEASURE_LABELS.get(kind, kind)
    return ""


def _step_cells(chain):
    cells = []
    for kind, status, start, planned_end, test_dates in chain:
        cells += [
            MEASURE_LABELS.get(kind, kind),
            start,
            planned_end,
            "、".join(day[5:] for day in test_dates),
            STEP_STATUS_LABELS.get(status, status),
        ]
    return cells + [None] * (len(STEP_HEADERS) * MAX_STEPS - len(cells))
