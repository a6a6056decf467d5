"""Exports of disinfection (registered with jobs.exports): the site ledger in the import's own
columns (an export re-imports unchanged), the tasks of rounds with their evidence, the vehicles'
trips with tonnage and handover, the terminal disinfections with their notices. Officials appear by
name; there is no resident's personal data to mask. Fixed Chinese labels, as the other exports."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from epigrid.areas.models import Area
from epigrid.disinfection.filtersets import SiteFilterSet, TaskFilterSet, TerminalFilterSet, TripFilterSet
from epigrid.disinfection.imports import EXPORT_NAMES, SiteResource
from epigrid.disinfection.models import Site, Task, Terminal, Trip
from epigrid.jobs.exports import Export, register_export

TASK_STATUS = {"due": "未完成", "done": "已完成"}
WASTE = {"none": "无(喷洒/清扫)", "medical": "医疗废物", "household": "生活垃圾"}
TERMINAL_STATUS = {
    "planned": "待消毒",
    "notified": "已告知居民",
    "disinfected": "已消毒",
    "closed": "已公示",
    "cancelled": "已撤销",
}


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class Names:
    """Labels of areas and users, read once each."""

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
class SiteExport(Export):
    name = "disinfection-sites"
    title = "消杀点位台账"
    model = Site
    filterset_class = SiteFilterSet
    headers = [c.header for c in SiteResource.columns]
    text_columns = frozenset({0})

    def rows(self, queryset):
        rows = queryset.order_by("area__path", "name").values_list(
            "area__code", "name", "site_type", "building__name", "size_m2"
        )
        for code, name, site_type, building, size in rows.iterator(chunk_size=2000):
            yield [code, name, EXPORT_NAMES.get(site_type, site_type), building or "", size]


@register_export
class TaskExport(Export):
    name = "disinfection-tasks"
    title = "消杀记录"
    model = Task
    filterset_class = TaskFilterSet
    headers = [
        "日期",
        "频次",
        "区域",
        "点位名称",
        "类型",
        "状态",
        "完成时间",
        "操作人",
        "消毒剂",
        "浓度(mg/L)",
        "作用时间(分钟)",
        "消杀面积(㎡)",
        "纬度",
        "经度",
        "备注",
    ]

    def rows(self, queryset):
        names = Names()
        rows = queryset.order_by("round__date", "round__period", "area__path", "site__name").values_list(
            "round__date",
            "round__period",
            "area_id",
            "site__name",
            "site__site_type",
            "status",
            "done_at",
            "operator_id",
            "disinfectant",
            "concentration",
            "contact_minutes",
            "area_treated_m2",
            "latitude",
            "longitude",
            "note",
        )
        for day, period, area, site, site_type, status, done_at, operator, *rest in rows.iterator(
            chunk_size=2000
        ):
            yield [
                day.isoformat(),
                period,
                names.area(area),
                site,
                EXPORT_NAMES.get(site_type, site_type),
                TASK_STATUS.get(status, status),
                _when(done_at),
                names.user(operator),
                *["" if v is None else v for v in rest],
            ]


@register_export
class TripExport(Export):
    name = "disinfection-trips"
    title = "车辆趟次与清运量"
    model = Trip
    filterset_class = TripFilterSet
    headers = [
        "日期",
        "车牌",
        "出车时间",
        "装载",
        "吨数",
        "去向",
        "交接人",
        "交接时间",
        "接收人",
        "接收单位",
        "备注",
    ]

    def rows(self, queryset):
        names = Names()
        rows = queryset.order_by("started_at", "id").values_list(
            "date",
            "vehicle__plate",
            "started_at",
            "waste_kind",
            "tonnage",
            "destination",
            "handed_by_id",
            "handed_at",
            "received_by",
            "received_unit",
            "note",
        )
        for day, plate, started, kind, tons, dest, by, at, received, unit, note in rows.iterator(
            chunk_size=2000
        ):
            yield [
                day.isoformat(),
                plate,
                _when(started),
                WASTE.get(kind, kind),
                tons,
                dest,
                names.user(by),
                _when(at),
                received,
                unit,
                note,
            ]


@register_export
class TerminalExport(Export):
    name = "disinfection-terminals"
    title = "终末消毒记录"
    model = Terminal
    filterset_class = TerminalFilterSet
    headers = [
        "病例",
        "类别",
        "区域",
        "地址",
        "状态",
        "告知时间",
        "告知人",
        "消毒时间",
        "操作人",
        "消毒剂",
        "浓度(mg/L)",
        "作用时间(分钟)",
        "消杀面积(㎡)",
        "公示时间",
        "公示人",
    ]

    def rows(self, queryset):
        names = Names()
        rows = queryset.order_by("created_at", "id").values_list(
            "case_label",
            "kind",
            "area_id",
            "address",
            "status",
            "notified_at",
            "notified_by_id",
            "done_at",
            "operator_id",
            "disinfectant",
            "concentration",
            "contact_minutes",
            "area_treated_m2",
            "posted_at",
            "posted_by_id",
        )
        for (
            case,
            kind,
            area,
            address,
            status,
            told,
            told_by,
            done,
            operator,
            chem,
            conc,
            minutes,
            size,
            posted,
            posted_by,
        ) in rows.iterator(chunk_size=2000):
            yield [
                case,
                "住所" if kind == "home" else "活动场所",
                names.area(area),
                address,
                TERMINAL_STATUS.get(status, status),
                _when(told),
                names.user(told_by),
                _when(done),
                names.user(operator),
                chem,
                conc or "",
                minutes or "",
                size or "",
                _when(posted),
                names.user(posted_by),
            ]
