"""The roll-up's Excel export (jobs.exports), in the layout offices forward upward: a title row,
the day and deadline, one row per unit (status, times, every field), a totals row."""

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date

from epigrid.areas.models import Area
from epigrid.jobs.exports import Export, register_export
from epigrid.reports import schema, services
from epigrid.reports.models import ReportForm, Submission

STATUS = {
    "on_time": "按时",
    "late": "迟报",
    "zero": "零报告",
    "zero_late": "零报告（迟报）",
    "pending": "未报（未到时限）",
    "overdue": "未报",
}


@register_export
class RollupExport(Export):
    """Query: form=<code>&day=YYYY-MM-DD&area=<code> (the roll-up page's)."""

    name = "report-rollup"
    title = "日报告汇总"
    model = Submission
    headers = ()

    def queryset(self, query):
        params = QueryDict(query)
        self.form = ReportForm.objects.filter(code=params.get("form", "")).first()
        self.day = parse_date(params.get("day", "")) or timezone.localdate()
        paths = self.user.scope_paths("reports.view_submission")
        root = Area.objects.filter(code=params.get("area", "")).first()
        if (
            self.form is None
            or root is None
            or not (paths is None or any(root.path.startswith(p) for p in paths))
        ):
            self.root, self.units = None, []
            self.headers = ["无可导出的汇总"]
            return Submission.objects.none()
        self.root = root
        self.units = services.unit_rows(self.form, self.day, root)
        fields = [f for f in self.form.fields if f["type"] != "text"]
        self.fields = fields
        width = 6 + len(fields)
        # stream_xlsx's first row is the bold frozen one: the title; the column headings follow.
        self.headers = [f"{root.name}{self.form.name}汇总表", *[""] * (width - 1)]
        return Submission.objects.filter(form=self.form, day=self.day, unit__path__startswith=root.path)

    def rows(self, queryset):
        if self.root is None:
            return
        deadline = timezone.localtime(self.form.deadline(self.day))
        yield [
            f"日期：{self.day:%Y年%m月%d日}",
            f"截止时间：{deadline:%H:%M}",
            f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}",
        ]
        # A form sent by records (enterprises, outlets) names the record after its area.
        by_record = bool(self.form.sender_kind)
        yield [
            "序号",
            "所在区域" if by_record else "街道",
            "报送单位" if by_record else "社区",
            "状态",
            "报送时间",
            "修改次数",
            *[schema.label(f, "zh") for f in self.fields],
        ]
        totals = {f["key"]: 0 for f in self.fields if f["type"] in schema.NUMERIC}
        counts = {"sent": 0, "late": 0, "zero": 0, "missing": 0}
        for number, (unit, row) in enumerate(self.units, start=1):
            status = services.status_of(row, self.form, self.day)
            values = []
            for field in self.fields:
                value = row.values.get(field["key"]) if row else None
                if field["type"] in schema.NUMERIC and value is not None:
                    value = services._number(value)
                    totals[field["key"]] += value
                elif field["type"] == "bool" and value is not None:
                    value = "是" if value else "否"
                values.append("" if value is None else value)
            counts["sent" if row else "missing"] += 1
            counts["late"] += bool(row and row.late)
            counts["zero"] += bool(row and row.zero)
            place = self.form.senders.area_of(unit) if by_record else unit.parent
            yield [
                number,
                place.name if place else "",
                str(unit) if by_record else unit.name,
                STATUS[status],
                timezone.localtime(row.first_submitted_at).strftime("%m-%d %H:%M") if row else "",
                row.revision - 1 if row else "",
                *values,
            ]
        summary = f"已报{counts['sent']} 迟报{counts['late']} 零报告{counts['zero']} 未报{counts['missing']}"
        yield [
            "合计",
            "",
            f"{len(self.units)}个单位",
            summary,
            "",
            "",
            *[totals.get(f["key"], "") for f in self.fields],
        ]
