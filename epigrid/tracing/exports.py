"""Export of contacts 密接/次密接名单 per case or per cluster (the contact list's filters), masked like
every export unless a role that may reveal persons asks for full data with a reason."""

from django.utils import timezone

from epigrid.core.identity import display_phone, mask_document, mask_name, mask_phone
from epigrid.jobs.exports import Export, register_export
from epigrid.tracing.filtersets import ContactFilterSet
from epigrid.tracing.models import Contact

HEADERS = [
    "病例编号",
    "病例姓名",
    "接触者姓名",
    "证件号码",
    "联系电话",
    "接触者类别",
    "接触场景",
    "接触方式",
    "末次接触日期",
    "聚集性疫情",
    "状态",
    "发现时间",
    "管控时间",
    "备注",
]


@register_export
class ContactExport(Export):
    name = "tracing-contacts"
    title = "密接名单"
    model = Contact
    filterset_class = ContactFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = HEADERS
    text_columns = frozenset({3, 4})

    def rows(self, queryset):
        doc = (lambda v: v or "") if self.unmasked else (lambda v: mask_document(v) if v else "")
        phone = (
            (lambda v: display_phone(v) if v else "")
            if self.unmasked
            else (lambda v: mask_phone(v) if v else "")
        )
        full_names = self.unmasked or self.user.has_scoped_perm("people.view_person")
        name = (lambda v: v or "") if full_names else mask_name
        labels = {
            "class": dict(Contact.Class.choices),
            "setting": dict(Contact.Setting.choices),
            "closeness": dict(Contact.Closeness.choices),
            "status": dict(Contact.Status.choices),
        }
        fields = (
            "case_id",
            "case__person__name",
            "person__name",
            "person__doc_number",
            "person__phone",
            "contact_class",
            "setting",
            "closeness",
            "last_contact",
            "cluster__name",
            "status",
            "identified_at",
            "controlled_at",
            "note",
        )
        for row in (
            queryset.order_by("case_id", "contact_class", "id").values_list(*fields).iterator(chunk_size=5000)
        ):
            (case, case_name, p_name, number, p_phone, klass, setting, closeness, last, cluster, status) = (
                row[:11]
            )
            identified, controlled, note = row[11:]
            yield [
                case,
                name(case_name),
                name(p_name),
                doc(number),
                phone(p_phone),
                str(labels["class"].get(klass, klass)),
                str(labels["setting"].get(setting, setting)),
                str(labels["closeness"].get(closeness, closeness)),
                last.isoformat() if last else "",
                cluster or "",
                str(labels["status"].get(status, status)),
                timezone.localtime(identified).strftime("%Y-%m-%d %H:%M") if identified else "",
                timezone.localtime(controlled).strftime("%Y-%m-%d %H:%M") if controlled else "",
                note,
            ]
