import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from epigrid.control.models import ZONE_LEVEL_LABELS, KeyPerson, Protocol, Zone
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
    # Rendered here: django-tables2's date column compiles a template for every cell.
    identified_on = tables.Column(verbose_name=_("identified on"))

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

    def render_identified_on(self, value):
        return date_format(value, "SHORT_DATE_FORMAT")

    def render_measure(self, record):
        step = self._step(record)
        return step.get_kind_display() if step else "—"

    def render_measure_end(self, record):
        step = self._step(record)
        return f"{step.planned_end:%Y-%m-%d}" if step and step.planned_end else "—"


class ZoneTable(tables.Table):
    """Risk zones. Case-free days and the downgrade date come from each row's own fields (and its
    prefetched protocol); the household and person counts are attached to the page's rows by
    `zone_views.attach_counts` in a few grouped queries, whatever the page's length."""

    where = tables.Column(
        verbose_name=_("where"),
        empty_values=(),
        order_by=("area__path", "building__name", "unit"),
        linkify=lambda record: record.get_absolute_url(),
    )
    level = tables.Column(verbose_name=_("level"), accessor="level_label", order_by=("level",))
    case_free = tables.Column(verbose_name=_("case-free days"), empty_values=(), orderable=False)
    downgrade = tables.Column(verbose_name=_("next level from"), empty_values=(), orderable=False)
    households = tables.Column(
        verbose_name=_("households"), accessor="household_count", orderable=False, default="—"
    )
    persons = tables.Column(verbose_name=_("persons"), accessor="person_count", orderable=False, default="—")

    class Meta:
        model = Zone
        fields = [
            "where",
            "level",
            "status",
            "started_on",
            "last_case_on",
            "case_free",
            "downgrade",
            "households",
            "persons",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_where(self, record):
        return zone_where(record)

    def render_case_free(self, record):
        if record.status == Zone.Status.LIFTED:
            return "—"
        return record.case_free_days(timezone.localdate())

    def render_downgrade(self, record):
        if record.status == Zone.Status.LIFTED:
            return "—"
        return downgrade_text(record)


def zone_where(zone):
    """area / building / unit"""
    parts = [zone.area.name]
    if zone.building_id:
        parts.append(zone.building.name)
    if zone.unit:
        parts.append(_("unit %(unit)s") % {"unit": zone.unit})
    return " / ".join(str(p) for p in parts)


def downgrade_text(zone):
    """“Medium-risk area from 2022-07-09”, “lifted from …”, or “—” when no count of days applies."""
    next_level, day = zone.downgrade()
    if day is None:
        return "—"
    lift_at = zone.protocol.rules["zones"].get("lift_at")
    if next_level == lift_at:
        return _("lifted from %(date)s") % {"date": f"{day:%Y-%m-%d}"}
    return _("%(level)s from %(date)s") % {
        "level": ZONE_LEVEL_LABELS.get(next_level, next_level),
        "date": f"{day:%Y-%m-%d}",
    }


class ProtocolTable(tables.Table):
    short_name = tables.Column(linkify=lambda record: reverse("control:protocol_detail", args=[record.pk]))
    is_active = tables.BooleanColumn(verbose_name=_("active"), yesno=("✔", ""))
    used = tables.BooleanColumn(verbose_name=_("in use"), yesno=("✔", ""), orderable=False)

    class Meta:
        model = Protocol
        fields = ["short_name", "name", "code", "published", "is_active", "used"]
        attrs = {"class": "table table-sm table-hover align-middle"}
        row_attrs = {"class": lambda record: "table-success" if record.is_active else ""}
