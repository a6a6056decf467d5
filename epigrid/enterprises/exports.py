"""Exports (jobs.exports): 复工企业台账 — the register in the import's own columns, so an export
re-imports unchanged, with the stage and staff; 复工申请台账 — the applications; 企业员工名录 — the
rosters with the registry's persons, masked unless a role that may reveal asks with a reason. Fixed
Chinese labels whatever the exporter's language, as the other exports do."""

from django.db.models import Count, Q
from django.utils import timezone

from epigrid.core.identity import display_phone, mask_document, mask_phone
from epigrid.enterprises.filtersets import (
    ApplicationFilterSet,
    EmployeeFilterSet,
    EnterpriseFilterSet,
    with_stage,
)
from epigrid.enterprises.models import Application, Employee, Enterprise
from epigrid.jobs.exports import Export, register_export

KIND_LABELS = {Enterprise.Kind.ENTERPRISE: "企业", Enterprise.Kind.SITE: "工地"}
SIZE_LABELS = {Enterprise.Size.ABOVE: "规上", Enterprise.Size.BELOW: "规下"}
STATUS_LABELS = {
    None: "未申请",
    Application.Status.DRAFT: "草稿",
    Application.Status.SUBMITTED: "已提交",
    Application.Status.CONDITIONAL: "有条件通过",
    Application.Status.CHECKED: "现场核查通过",
    Application.Status.PERMITTED: "已准予复工",
    Application.Status.REFUSED: "未通过",
}
# The import's columns first (enterprises.imports.COLUMNS), then what the register adds.
REGISTER_HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "类型",
    "规模",
    "行业",
    "复工批次",
    "所属区域代码",
    "地址",
    "联系人",
    "联系电话",
    "防疫负责人",
]


def _phone(unmasked):
    return (lambda v: display_phone(v) if v else "") if unmasked else (lambda v: mask_phone(v) if v else "")


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@register_export
class EnterpriseExport(Export):
    name = "enterprises"
    title = "复工企业台账"
    model = Enterprise
    filterset_class = EnterpriseFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = [*REGISTER_HEADERS, "复工状态", "在册员工"]
    text_columns = frozenset({1, 6, 9})

    def rows(self, queryset):
        phone = _phone(self.unmasked)
        rows = (
            with_stage(queryset)
            .annotate(staff=Count("employees", filter=Q(employees__is_active=True)))
            .order_by("area__path", "name", "pk")
            .values_list(
                "name",
                "uscc",
                "kind",
                "size",
                "industry",
                "phase__code",
                "area__code",
                "address",
                "contact_name",
                "contact_phone",
                "prevention_lead",
                "stage",
                "staff",
            )
        )
        for (
            name,
            uscc,
            kind,
            size,
            industry,
            phase,
            area,
            address,
            contact,
            contact_phone,
            lead,
            stage,
            staff,
        ) in rows.iterator(chunk_size=2000):
            yield [
                name,
                uscc,
                KIND_LABELS.get(kind, kind),
                SIZE_LABELS.get(size, size),
                industry,
                phase or "",
                area,
                address,
                contact,
                phone(contact_phone),
                lead,
                STATUS_LABELS.get(stage, stage),
                staff,
            ]


@register_export
class ApplicationExport(Export):
    name = "enterprise-applications"
    title = "复工申请台账"
    model = Application
    filterset_class = ApplicationFilterSet
    headers = [
        "企业名称",
        "统一社会信用代码",
        "计划复工日期",
        "在册员工",
        "状态",
        "提交时间",
        "有条件通过时间",
        "现场核查时间",
        "复工许可编号",
        "准予复工日期",
        "不予通过环节",
        "不予通过原因",
    ]
    text_columns = frozenset({1, 8})

    def rows(self, queryset):
        rows = queryset.order_by("created_at", "pk").values_list(
            "enterprise__name",
            "enterprise__uscc",
            "planned_start",
            "staff_count",
            "status",
            "submitted_at",
            "approved_at",
            "checked_at",
            "permit_number",
            "permitted_from",
            "refused_in",
            "refusal_reason",
        )
        for (
            name,
            uscc,
            planned,
            staff,
            status,
            submitted,
            approved,
            checked,
            permit,
            permitted,
            refused_in,
            reason,
        ) in rows.iterator(chunk_size=2000):
            yield [
                name,
                uscc,
                planned.isoformat(),
                staff,
                STATUS_LABELS.get(status, status),
                _when(submitted),
                _when(approved),
                _when(checked),
                permit,
                permitted.isoformat() if permitted else "",
                STATUS_LABELS.get(refused_in, refused_in) if refused_in else "",
                reason,
            ]


@register_export
class StaffExport(Export):
    """The import's columns (enterprises.imports StaffResource) first: a roster re-imports."""

    name = "enterprise-staff"
    title = "企业员工名录"
    model = Employee
    filterset_class = EmployeeFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = ["姓名", "证件类型", "证件号码", "部门岗位", "企业名称", "统一社会信用代码", "联系电话", "在册"]
    text_columns = frozenset({2, 5, 6})

    def rows(self, queryset):
        from epigrid.people.imports import DOC_TYPES

        phone = _phone(self.unmasked)
        doc = (lambda v: v) if self.unmasked else mask_document
        doc_types = {}
        for label, code in DOC_TYPES.items():
            if label != code:
                doc_types.setdefault(code, label)  # the first Chinese name of each type
        rows = queryset.order_by("enterprise__name", "person__name_key", "pk").values_list(
            "person__name",
            "person__doc_type",
            "person__doc_number",
            "department",
            "enterprise__name",
            "enterprise__uscc",
            "person__phone",
            "is_active",
        )
        for name, doc_type, number, department, enterprise, uscc, person_phone, active in rows.iterator(
            chunk_size=2000
        ):
            yield [
                name,
                str(doc_types.get(doc_type, doc_type)),
                doc(number),
                department,
                enterprise,
                uscc,
                phone(person_phone),
                "是" if active else "否",
            ]
