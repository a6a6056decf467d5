from collections import defaultdict

from epigrid.core.identity import display_phone, mask_document, mask_phone
from epigrid.jobs.exports import Export, register_export
from epigrid.people.filtersets import PersonFilterSet
from epigrid.people.imports import COLUMNS, EXPORT_LABELS
from epigrid.people.models import Person

FIELDS = (
    "pk",
    "name",
    "doc_type",
    "doc_number",
    "phone",
    "area__code",
    "area__name",
    "household__building__name",
    "household__unit",
    "household__room",
    "residence_type",
    "sex",
    "birth_date",
    "notes",
)


@register_export
class PersonExport(Export):
    """The resident ledger: the import's own columns (so an export re-imports unchanged) plus birth date."""

    name = "persons"
    title = "居民台账"
    model = Person
    filterset_class = PersonFilterSet
    personal = True
    headers = [c.header for c in COLUMNS[:11]] + ["出生日期"] + [c.header for c in COLUMNS[11:]]
    text_columns = frozenset({2, 3, 4, 7, 8})

    def rows(self, queryset):
        tags = defaultdict(list)
        through = Person.tags.through.objects.filter(person__in=queryset.values("pk")).order_by("tag_id")
        for person_id, tag_name in through.values_list("person_id", "tag__name").iterator(chunk_size=10_000):
            tags[person_id].append(tag_name)
        doc = (lambda v: v) if self.unmasked else mask_document
        phone = display_phone if self.unmasked else mask_phone
        # Masked: the birth year only (people.models.Person.birth_year says why).
        born = (lambda d: d) if self.unmasked else (lambda d: d.year if d else None)
        for row in queryset.order_by("pk").values_list(*FIELDS).iterator(chunk_size=5000):
            (
                pk,
                name,
                doc_type,
                number,
                tel,
                grid_code,
                grid_name,
                building,
                unit,
                room,
                residence,
                sex,
                birth,
                notes,
            ) = row
            yield [
                name,
                EXPORT_LABELS["doc_type"].get(doc_type, doc_type),
                doc(number),
                phone(tel),
                grid_code,
                grid_name,
                building or "",
                unit or "",
                room or "",
                EXPORT_LABELS["residence_type"].get(residence, residence),
                EXPORT_LABELS["sex"].get(sex, ""),
                born(birth),
                "、".join(tags.get(pk, ())),
                notes,
            ]
