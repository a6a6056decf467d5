import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from epigrid.people.models import Person


class PersonTable(tables.Table):
    name = tables.Column(linkify=True)
    doc_number = tables.Column(
        verbose_name=_("document number"), accessor="masked_doc_number", orderable=False
    )
    phone = tables.Column(verbose_name=_("phone"), accessor="masked_phone", orderable=False)
    household = tables.Column(linkify=True, orderable=False)
    area = tables.Column(verbose_name=_("grid"), orderable=False)
    tags = tables.ManyToManyColumn(verbose_name=_("vulnerable tags"), orderable=False)
    birth_year = tables.Column(verbose_name=_("birth year"), accessor="birth_year", orderable=False)

    class Meta:
        model = Person
        fields = [
            "name",
            "doc_number",
            "sex",
            "birth_year",
            "phone",
            "residence_type",
            "area",
            "household",
            "tags",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}
