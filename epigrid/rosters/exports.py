"""Exports of the rosters (jobs.exports): the roster (one row a person a shift, phones masked unless
revealed) and the hours per person over a period, both with the assignment list's filters."""

from django.utils import timezone

from epigrid.core.identity import display_phone, mask_phone
from epigrid.jobs.exports import Export, register_export
from epigrid.rosters import services
from epigrid.rosters.filtersets import AssignmentFilterSet
from epigrid.rosters.models import Assignment, Post, StaffMember


def _period(query):
    """The period of an hours export: the filters' since/until, by default the last 7 days."""
    import datetime

    from django.http import QueryDict
    from django.utils.dateparse import parse_date

    params = QueryDict(query)
    today = timezone.localdate()
    until = parse_date(params.get("until", "") or "") or today
    since = parse_date(params.get("since", "") or "") or until - datetime.timedelta(days=6)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


@register_export
class RosterExport(Export):
    name = "roster"
    title = "值班排班表"
    model = Assignment
    filterset_class = AssignmentFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = [
        "日期",
        "岗位",
        "岗位类型",
        "所在区域",
        "开始",
        "结束",
        "姓名",
        "人员类别",
        "派出单位",
        "联系电话",
        "状态",
        "签到",
        "签退",
        "迟到",
        "实际工时",
    ]
    text_columns = frozenset({9})

    def rows(self, queryset):
        phone = (
            (lambda v: display_phone(v) if v else "")
            if self.unmasked
            else (lambda v: mask_phone(v) if v else "")
        )
        kinds, post_kinds = dict(StaffMember.Kind.choices), dict(Post.Kind.choices)
        statuses = dict(Assignment.Status.choices)

        def at(value):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

        fields = (
            "shift__start",
            "shift__end",
            "shift__post__name",
            "shift__post__kind",
            "shift__post__area__name",
            "staff__name",
            "staff__kind",
            "staff__unit",
            "staff__phone",
            "status",
            "checked_in_at",
            "checked_out_at",
            "late",
            "worked_minutes",
        )
        qs = queryset.order_by("shift__start", "shift__post__name", "staff__name", "id").values_list(*fields)
        for (
            start,
            end,
            post,
            pkind,
            area,
            name,
            kind,
            unit,
            ph,
            status,
            cin,
            cout,
            late,
            minutes,
        ) in qs.iterator(chunk_size=5000):
            yield [
                timezone.localtime(start).date().isoformat(),
                post,
                str(post_kinds.get(pkind, pkind)),
                area,
                at(start),
                at(end),
                name,
                str(kinds.get(kind, kind)),
                unit,
                phone(ph),
                str(statuses.get(status, status)),
                at(cin),
                at(cout),
                "是" if late else "",
                round(minutes / 60, 1) if minutes else "",
            ]


@register_export
class HoursExport(Export):
    """Planned and worked hours per person over the period (query: since, until and the list's filters)."""

    name = "roster-hours"
    title = "值班工时统计"
    model = Assignment
    filterset_class = AssignmentFilterSet
    headers = [
        "姓名",
        "人员类别",
        "派出单位",
        "所在区域",
        "班次",
        "计划工时",
        "实际工时",
        "迟到",
        "缺勤",
        "漏签退",
    ]

    def queryset(self, query):
        self.since, self.until = _period(query)
        return super().queryset(query)

    def rows(self, queryset):
        kinds = dict(StaffMember.Kind.choices)
        for r in services.hours(queryset, self.since, self.until):
            m = r["member"]
            yield [
                m.name,
                str(kinds.get(m.kind, m.kind)),
                m.unit,
                m.area.name,
                r["shifts"],
                r["planned"],
                r["worked"],
                r["late"],
                r["absent"],
                r["forgotten"],
            ]
