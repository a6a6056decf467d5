"""Exports of checkpoints (jobs.exports): passages (masked like every export) and the statistics per
checkpoint and day."""

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_date

from epigrid.checkpoints import stats
from epigrid.checkpoints.filtersets import PassageFilterSet
from epigrid.checkpoints.models import Checkpoint, Decision, Direction, Passage, VehicleCheck
from epigrid.core.identity import display_phone, mask_document, mask_name, mask_phone
from epigrid.jobs.exports import Export, register_export


@register_export
class PassageExport(Export):
    name = "passages"
    title = "卡口登记"
    model = Passage
    filterset_class = PassageFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = [
        "时间",
        "卡口",
        "方向",
        "姓名",
        "证件号码",
        "联系电话",
        "车牌",
        "来自",
        "来源地风险",
        "目的地",
        "体温",
        "健康码",
        "建议",
        "处置",
        "原因",
        "移交社区",
    ]
    text_columns = frozenset({4, 5})

    def rows(self, queryset):
        doc = (lambda v: v or "") if self.unmasked else (lambda v: mask_document(v) if v else "")
        phone = (
            (lambda v: display_phone(v) if v else "")
            if self.unmasked
            else (lambda v: mask_phone(v) if v else "")
        )
        name = (
            (lambda v: v or "")
            if self.unmasked or self.user.has_scoped_perm("people.view_person")
            else mask_name
        )
        decisions, directions = dict(Decision.choices), dict(Direction.choices)
        risks, codes = dict(Passage.OriginRisk.choices), dict(Passage.HealthCode.choices)
        fields = (
            "at",
            "checkpoint__name",
            "direction",
            "person__name",
            "person__doc_number",
            "person__phone",
            "vehicle__plate",
            "origin",
            "origin_risk",
            "destination__name",
            "temperature",
            "health_code",
            "suggested",
            "decision",
            "reason",
            "handed_to__name",
        )
        for row in queryset.order_by("at", "id").values_list(*fields).iterator(chunk_size=5000):
            (
                at,
                cp,
                direction,
                p_name,
                number,
                p_phone,
                plate,
                origin,
                risk,
                dest,
                temp,
                code,
                sug,
                dec,
                reason,
                handed,
            ) = row
            yield [
                timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
                cp,
                str(directions.get(direction, direction)),
                name(p_name),
                doc(number),
                phone(p_phone),
                plate or "",
                origin,
                str(risks.get(risk, risk)),
                dest or "",
                float(temp) if temp is not None else "",
                str(codes.get(code, code)),
                str(decisions.get(sug, sug)),
                str(decisions.get(dec, dec)),
                reason,
                handed or "",
            ]


@register_export
class StatsExport(Export):
    """The statistics page's table: one row per checkpoint and day (query: since, until)."""

    name = "checkpoint-stats"
    title = "卡口统计"
    model = Passage
    filterset_class = PassageFilterSet
    headers = [
        "日期",
        "卡口",
        "车辆",
        "人员",
        "劝返",
        "送检",
        "送隔离",
        "移交社区",
        "高风险区来",
        "中风险区来",
        "低风险区来",
    ]

    def queryset(self, query):
        from django.http import QueryDict

        params = QueryDict(query)
        today = timezone.localdate()
        until = parse_date(params.get("until", "")) or today
        since = parse_date(params.get("since", "")) or until - datetime.timedelta(days=6)
        start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
        end = timezone.make_aware(
            datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)
        )
        self.vehicles = VehicleCheck.objects.restrict(self.user, "view").filter(at__gte=start, at__lt=end)
        self.pass_scans = stats.pass_scans(Checkpoint.objects.restrict(self.user, "view"), start, end)
        return Passage.objects.restrict(self.user, "view").filter(at__gte=start, at__lt=end)

    def rows(self, queryset):
        for r in stats.daily(queryset, self.vehicles, self.pass_scans):
            yield [
                r["day"].isoformat(),
                r["name"],
                r["vehicles"],
                *(r[c] for c in (*stats.COLUMNS, *stats.PASS_COLUMNS)),
            ]
