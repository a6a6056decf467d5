"""Exports (registered with jobs.exports): 居民服务需求台账 and 特殊人群台账. Phones are masked unless
a role that may reveal persons exports full data with a reason, as every other export."""

from django.utils import timezone

from epigrid.core.identity import display_phone, mask_document, mask_name, mask_phone
from epigrid.homeservices.filtersets import ServiceRequestFilterSet, SpecialCareFilterSet
from epigrid.homeservices.kinds import summary
from epigrid.homeservices.models import ServiceRequest, SpecialCare
from epigrid.jobs.exports import Export, register_export

KIND_LABELS = {
    "shopping": "代购",
    "medicine": "代购药品",
    "hospital": "外出就医",
    "farming": "代耕代种",
    "animals": "畜禽代养",
    "psychological": "心理疏导",
    "other": "其他",
}
URGENCY_LABELS = {"urgent": "紧急", "high": "较急", "normal": "一般", "low": "不急"}
STATUS_LABELS = {
    "new": "待分派",
    "assigned": "已分派",
    "in_progress": "办理中",
    "done": "已办结待确认",
    "confirmed": "居民已确认",
    "cancelled": "已取消",
}
GROUP_LABELS = {
    "elderly_alone": "独居老人",
    "disabled": "残疾人",
    "pregnant": "孕产妇",
    "dialysis": "透析患者",
    "chemotherapy": "放化疗患者",
}


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class _Masks:
    def __init__(self, export):
        unmasked = export.unmasked
        self.phone = (
            (lambda v: display_phone(v) if v else "") if unmasked else (lambda v: mask_phone(v) if v else "")
        )
        self.doc = (lambda v: v or "") if unmasked else (lambda v: mask_document(v) if v else "")
        full_names = unmasked or export.user.has_scoped_perm("people.view_person")
        self.name = (lambda v: v or "") if full_names else mask_name


@register_export
class ServiceRequestExport(Export):
    name = "service-requests"
    title = "居民服务需求台账"
    model = ServiceRequest
    filterset_class = ServiceRequestFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = [
        "编号",
        "网格",
        "楼栋",
        "单元",
        "房号",
        "申请人",
        "联系电话",
        "服务类型",
        "紧急程度",
        "需求内容",
        "说明",
        "登记时间",
        "办理时限",
        "状态",
        "办理人",
        "办结时间",
        "办理情况",
        "确认时间",
        "确认方式",
        "追加次数",
    ]
    text_columns = frozenset({6})

    def rows(self, queryset):
        masks = _Masks(self)
        fields = (
            "id",
            "area__name",
            "household__building__name",
            "household__unit",
            "household__room",
            "person__name",
            "person__phone",
            "kind",
            "urgency",
            "details",
            "description",
            "requested_at",
            "due_at",
            "status",
            "assignee__username",
            "done_at",
            "done_note",
            "confirmed_at",
            "confirmed_how",
            "additions",
        )
        for row in queryset.order_by("requested_at", "id").values_list(*fields).iterator(chunk_size=2000):
            (pk, grid, building, unit, room, name, phone, kind, urgency, details, description) = row[:11]
            (requested, due, status, assignee, done, note, confirmed, how, additions) = row[11:]
            yield [
                pk,
                grid,
                building,
                unit,
                room,
                masks.name(name),
                masks.phone(phone),
                KIND_LABELS.get(kind, kind),
                URGENCY_LABELS.get(urgency, urgency),
                summary(kind, details or {}),
                description,
                _when(requested),
                _when(due),
                STATUS_LABELS.get(status, status),
                assignee or "",
                _when(done),
                note,
                _when(confirmed),
                {
                    "in_person": "当面确认",
                    "phone": "电话回访",
                    "online": "线上确认",
                    "family": "家属确认",
                }.get(how, ""),
                additions,
            ]


@register_export
class SpecialCareExport(Export):
    """特殊人群台账: the import's own columns first, so an export re-imports unchanged."""

    name = "special-groups"
    title = "特殊人群台账"
    model = SpecialCare
    filterset_class = SpecialCareFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = [
        "姓名",
        "身份证",
        "类别",
        "预产期",
        "治疗日",
        "治疗时间",
        "医院",
        "探视间隔天数",
        "备注",
        "网格",
        "住址",
        "联系电话",
    ]
    text_columns = frozenset({1, 11})

    def rows(self, queryset):
        masks = _Masks(self)
        fields = (
            "person__name",
            "person__doc_number",
            "group",
            "due_date",
            "treatment_days",
            "treatment_time",
            "hospital",
            "visit_every_days",
            "notes",
            "area__name",
            "household__building__name",
            "household__unit",
            "household__room",
            "person__phone",
        )
        for row in (
            queryset.order_by("area__path", "group", "id").values_list(*fields).iterator(chunk_size=2000)
        ):
            (
                name,
                number,
                group,
                due,
                days,
                time,
                hospital,
                every,
                notes,
                grid,
                building,
                unit,
                room,
                phone,
            ) = row
            yield [
                masks.name(name),
                masks.doc(number),
                GROUP_LABELS.get(group, group),
                due.isoformat() if due else "",
                days,
                time.strftime("%H:%M") if time else "",
                hospital,
                every,
                notes,
                grid,
                " ".join(p for p in (building, f"{unit}单元" if unit else "", room) if p),
                masks.phone(phone),
            ]
