"""督导问题清单: the items list as offices forward it (registered with jobs.exports). No personal
data beyond officials' names, so nothing to mask; fixed Chinese labels whatever the exporter's
language, as the other exports do."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from epigrid.areas.models import Area
from epigrid.jobs.exports import Export, register_export
from epigrid.supervision.filtersets import ItemFilterSet
from epigrid.supervision.models import Category, FoundBy, Item

HEADERS = [
    "编号",
    "区域",
    "问题",
    "类别",
    "发现方式",
    "责任人",
    "整改时限",
    "状态",
    "提交整改时间",
    "销号时间",
    "是否按时销号",
    "退回次数",
    "已升级至",
    "问题描述",
    "整改情况",
]
STATUS_LABELS = {
    Item.Status.NEW: "待交办",
    Item.Status.ASSIGNED: "已交办",
    Item.Status.RECTIFYING: "整改中",
    Item.Status.SUBMITTED: "待核查销号",
    Item.Status.SIGNED_OFF: "已销号",
    Item.Status.CANCELLED: "已撤销",
}
CATEGORY_LABELS = {
    Category.CHECKPOINT: "卡口管理",
    Category.SAMPLING: "核酸采样",
    Category.KEY_PERSONS: "重点人员管控",
    Category.ISOLATION: "隔离管控",
    Category.DISINFECTION: "消杀",
    Category.SUPPLIES: "物资保障",
    Category.REPORTING: "信息报送",
    Category.OTHER: "其他",
}
FOUND_BY_LABELS = {
    FoundBy.INSPECTION: "督导检查",
    FoundBy.REPORT: "报告",
    FoundBy.COMPLAINT: "群众投诉",
    FoundBy.SYSTEM: "系统发现",
}


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class Names:
    """Labels of areas and users, read once each (an export's rows share a few)."""

    def __init__(self):
        self.areas, self.users = {}, {}

    def area(self, pk):
        if pk and pk not in self.areas:
            area = Area.objects.select_related("parent").filter(pk=pk).first()
            self.areas[pk] = "" if area is None else area.full_label()
        return self.areas.get(pk, "")

    def user(self, pk):
        if pk and pk not in self.users:
            user = get_user_model().objects.filter(pk=pk).first()
            self.users[pk] = "" if user is None else (user.get_full_name() or user.get_username())
        return self.users.get(pk, "")


@register_export
class ItemExport(Export):
    name = "supervision-items"
    title = "督导问题清单"
    model = Item
    filterset_class = ItemFilterSet
    headers = HEADERS

    def rows(self, queryset):
        names = Names()
        rows = queryset.order_by("raised_at", "id").values_list(
            "id",
            "area_id",
            "title",
            "category",
            "found_by",
            "responsible_id",
            "due_at",
            "status",
            "submitted_at",
            "signed_off_at",
            "reopen_count",
            "escalated_to_id",
            "description",
            "evidence_note",
        )
        for (
            pk,
            area,
            title,
            category,
            found_by,
            responsible,
            due,
            status,
            submitted,
            signed,
            reopened,
            escalated,
            description,
            evidence,
        ) in rows.iterator(chunk_size=2000):
            on_time = "" if signed is None else ("是" if signed <= due else "否")
            yield [
                pk,
                names.area(area),
                title,
                CATEGORY_LABELS.get(category, category),
                FOUND_BY_LABELS.get(found_by, found_by),
                names.user(responsible),
                _when(due),
                STATUS_LABELS.get(status, status),
                _when(submitted),
                _when(signed),
                on_time,
                reopened,
                names.area(escalated) if status in Item.OPEN else "",
                description,
                evidence,
            ]
