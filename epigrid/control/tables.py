import django_tables2 as tables
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.control.models import KeyPerson
from epigrid.control.worklists import current_step


class KeyPersonTable(tables.Table):
    """The ledger. The current step comes from the measures prefetched for the page's rows
    (`open_measures`), so a page costs the same number of queries whatever its length."""

    person = tables.Column(
        verbose_name=_("person"),
        accessor="person__name",
        order_by=("person__name", "id"),
        linkify=lambda record: record.get_absolute_url(),
    )
    doc_number = tables.Column(
        verbose_name=_("document number"),
        accessor="person__masked_doc_number",
        orderable=False,
        attrs={"td": {"class": "masked"}},
    )
    area = tables.Column(verbose_name=_("responsible area"), order_by=("area__path",))
    measure = tables.Column(verbose_name=_("current measure"), empty_values=(), orderable=False)
    measure_end = tables.Column(verbose_name=_("planned end"), empty_values=(), orderable=False)

    class Meta:
        model = KeyPerson
        fields = [
            "person",
            "doc_number",
            "category",
            "source",
            "status",
            "area",
            "measure",
            "measure_end",
            "identified_on",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def _step(self, record):
        if not hasattr(record, "_current_step"):
            record._current_step = current_step(getattr(record, "open_measures", ()), timezone.localdate())
        return record._current_step

    def render_area(self, value):
        return value.name

    def render_measure(self, record):
        step = self._step(record)
        return step.get_kind_display() if step else "—"

    def render_measure_end(self, record):
        step = self._step(record)
        return f"{step.planned_end:%Y-%m-%d}" if step and step.planned_end else "—"
