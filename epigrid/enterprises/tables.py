"""Tables of the enterprise and application lists (below 576 px the shared template turns rows
into cards)."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from epigrid.enterprises.models import Application, Employee, Enterprise

STAGE_BADGES = {
    None: "text-bg-light",
    Application.Status.DRAFT: "text-bg-light",
    Application.Status.SUBMITTED: "text-bg-warning",
    Application.Status.CONDITIONAL: "text-bg-info",
    Application.Status.CHECKED: "text-bg-primary",
    Application.Status.PERMITTED: "text-bg-success",
    Application.Status.REFUSED: "text-bg-danger",
}


def stage_badge(status):
    label = dict(Application.Status.choices).get(status) if status else _("Not applied")
    return format_html(
        '<span class="badge {}" data-testid="stage">{}</span>', STAGE_BADGES.get(status, ""), label
    )


class EnterpriseTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    uscc = tables.Column()
    kind = tables.Column()
    size = tables.Column()
    area = tables.Column(order_by=("area__path",))
    staff = tables.Column(verbose_name=gettext_lazy("staff"), orderable=False)
    stage = tables.Column(verbose_name=pgettext_lazy("return to work", "stage"), orderable=False)
    reports = tables.Column(
        verbose_name=gettext_lazy("daily reports (7 days)"), empty_values=(), orderable=False
    )

    class Meta:
        model = Enterprise
        fields = ["name", "uscc", "kind", "size", "area", "staff", "stage", "reports"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.full_label()

    def render_stage(self, record):
        return stage_badge(getattr(record, "stage", None))

    def render_reports(self, record):
        # Filled per page by the view (enterprises.daily.completeness, one query for the page).
        return completeness_text(getattr(self, "completeness", {}).get(record.pk))


def completeness_text(row):
    if not row or not row["expected"]:
        return "—"
    return format_html(
        '<span class="{}" data-testid="report-completeness">{}</span>',
        "text-danger" if row["received"] < row["expected"] else "",
        _("%(received)d/%(expected)d received, %(on_time)d on time")
        % {"received": row["received"], "expected": row["expected"], "on_time": row["on_time"]},
    )


class ApplicationTable(tables.Table):
    enterprise = tables.Column(
        linkify=lambda record: record.get_absolute_url(), order_by=("enterprise__name",)
    )
    planned_start = tables.Column()
    staff_count = tables.Column()
    submitted_at = tables.DateTimeColumn(format="m-d H:i")
    status = tables.Column()

    class Meta:
        model = Application
        fields = ["enterprise", "planned_start", "staff_count", "submitted_at", "status"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_status(self, record):
        return stage_badge(record.status)


class EmployeeTable(tables.Table):
    name = tables.Column(
        accessor="person__name",
        linkify=lambda record: record.get_absolute_url(),
        order_by=("person__name_key",),
    )
    doc = tables.Column(accessor="person__doc_number", verbose_name=gettext_lazy("document"), orderable=False)
    enterprise = tables.Column(order_by=("enterprise__name",))
    department = tables.Column()
    is_active = tables.BooleanColumn()

    class Meta:
        model = Employee
        fields = ["name", "doc", "enterprise", "department", "is_active"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_doc(self, record):
        # Masked for everyone in the list: the full number is the registry's, behind its reveal.
        return record.person.masked_doc_number
