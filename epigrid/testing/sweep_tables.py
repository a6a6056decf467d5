"""Tables of the sweep pages. Personal numbers only ever masked; the birth year, never the date."""

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from epigrid.testing.models import Exemption, Find, Group, HomeTask, SweepOutcome

TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}
# Stand-ins for a row's values in the missed list's action cell (MissedTable.render_actions).
STUB_PK = 987654321987
TEAM_SENTINEL = "TEAMSENTINEL5E7A1C"


class _Stub:
    pk = STUB_PK

    def __init__(self, home_team):
        self.home_team = home_team


OUTCOME_LABELS = dict(SweepOutcome.choices)


def _moment(value):
    return date_format(localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"


class ExemptionTable(tables.Table):
    person = tables.Column(
        verbose_name=_("person"),
        accessor="person__name",
        order_by=("person__name_key", "id"),
        linkify=lambda record: reverse("testing:exemption_detail", args=[record.pk]),
    )
    doc_number = tables.Column(
        verbose_name=_("document number"),
        accessor="person__masked_doc_number",
        orderable=False,
        attrs={"td": {"class": "masked"}},
    )
    birth_year = tables.Column(verbose_name=_("Birth year"), accessor="person__birth_year", orderable=False)
    area = tables.Column(verbose_name=_("area"), accessor="area__name", order_by=("area__path",))
    created = tables.Column(verbose_name=_("recorded"))

    class Meta:
        model = Exemption
        fields = ["person", "doc_number", "birth_year", "campaign", "reason", "note", "area", "created"]
        attrs = TABLE_ATTRS

    def render_created(self, value):
        return _moment(value)


class FindTable(tables.Table):
    name = tables.Column(verbose_name=_("full name"), linkify=True, empty_values=())
    doc_number = tables.Column(
        verbose_name=_("document number"),
        accessor="masked_doc_number",
        orderable=False,
        attrs={"td": {"class": "masked"}},
    )
    phone = tables.Column(
        verbose_name=_("phone"), accessor="masked_phone", orderable=False, attrs={"td": {"class": "masked"}}
    )
    area = tables.Column(verbose_name=_("area"), accessor="area__name", order_by=("area__path",))
    samples = tables.Column(verbose_name=_("Samples"), accessor="sample_count", orderable=False, default=0)
    created = tables.Column(verbose_name=_("found"))

    class Meta:
        model = Find
        fields = ["name", "doc_number", "phone", "status", "campaign", "area", "samples", "created"]
        attrs = TABLE_ATTRS

    def render_name(self, value):
        return value or "—"

    def render_created(self, value):
        return _moment(value)


class HomeTaskTable(tables.Table):
    person = tables.Column(
        verbose_name=_("person"), accessor="person__name", order_by=("person__name_key", "id")
    )
    address = tables.Column(
        verbose_name=_("address"), accessor="person__household__address", orderable=False, default="—"
    )
    phone = tables.Column(
        verbose_name=_("phone"),
        accessor="person__masked_phone",
        orderable=False,
        attrs={"td": {"class": "masked"}},
    )
    birth_year = tables.Column(verbose_name=_("Birth year"), accessor="person__birth_year", orderable=False)
    actions = tables.TemplateColumn(
        template_name="testing/hometask_actions.html", verbose_name=_("Actions"), orderable=False
    )

    class Meta:
        model = HomeTask
        fields = ["person", "address", "phone", "birth_year", "team", "status", "note", "actions"]
        attrs = TABLE_ATTRS


class GroupTable(tables.Table):
    code = tables.Column(verbose_name=_("group code"))
    size = tables.Column(verbose_name=_("members"), accessor="member_count", orderable=False)
    member_names = tables.Column(verbose_name=_("Names"), empty_values=(), orderable=False)
    area = tables.Column(verbose_name=_("area"), accessor="area__name", order_by=("area__path",))

    class Meta:
        model = Group
        fields = ["code", "campaign", "size", "member_names", "area"]
        attrs = TABLE_ATTRS

    def render_member_names(self, record):
        return "、".join(p.name for p in record.members.all()) or "—"


class MissedTable(tables.Table):
    """The sweep list, in address order (services.missed); the last column records a visit."""

    address = tables.Column(
        verbose_name=_("address"), empty_values=(), orderable=False, attrs={"td": {"class": "text-nowrap"}}
    )
    room = tables.Column(verbose_name=_("room"), accessor="household__room", orderable=False, default="—")
    name = tables.Column(verbose_name=_("full name"), orderable=False)
    phone = tables.Column(
        verbose_name=_("phone"), accessor="masked_phone", orderable=False, attrs={"td": {"class": "masked"}}
    )
    birth_year = tables.Column(verbose_name=_("Birth year"), orderable=False)
    last_outcome = tables.Column(verbose_name=_("Last visit"), orderable=False, empty_values=())
    actions = tables.Column(verbose_name=_("Record a visit"), orderable=False, empty_values=())

    # Set by the page (MissedView.get_table): what testing/missed_actions.html needs besides the
    # record. The cell is the same form on every row but for the person's id and home team, so it
    # is rendered twice per page (with and without a team) and copied per row: rendering the
    # template for each of 100 rows took most of the page's time.
    action_context = None

    class Meta:
        attrs = TABLE_ATTRS
        orderable = False

    def render_address(self, record):
        household = record.household
        if household is None:
            return record.area.name
        unit = f"{household.unit}单元" if household.unit and household.unit.isdigit() else household.unit
        return " ".join(part for part in (household.building.name, unit) if part)

    def render_phone(self, value):
        return value or "—"

    def render_actions(self, record):
        if self.action_context is None:
            return ""
        if not hasattr(self, "_action_html"):
            self._action_html = {
                team: render_to_string(
                    "testing/missed_actions.html",
                    {**self.action_context, "record": _Stub(TEAM_SENTINEL if team else None)},
                    request=self.action_context["request"],
                )
                for team in (False, True)
            }
        html = self._action_html[bool(record.home_team)].replace(str(STUB_PK), str(record.pk))
        if record.home_team:
            html = html.replace(TEAM_SENTINEL, str(escape(record.home_team)))
        # Safe: our template's output; the only inserts are an int and escaped text.
        return mark_safe(html)

    def render_last_outcome(self, record):
        if not record.last_outcome:
            return "—"
        label = OUTCOME_LABELS.get(record.last_outcome, record.last_outcome)
        return f"{label} {_moment(record.last_visit)}"
