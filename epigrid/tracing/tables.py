"""Tables of the tracing pages (django-tables2; below 576 px the shared template turns rows into
cards). Times are rendered here: a date column would compile a template for every cell."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from epigrid.tracing.models import Case, Cluster, Contact, Team

CLASS_BADGES = {"close": "text-bg-danger", "secondary": "text-bg-warning", "general": "text-bg-secondary"}
STATUS_BADGES = {"proposed": "text-bg-info", "confirmed": "text-bg-success", "dismissed": "text-bg-light"}


def when(value):
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "—"


def badge(css, label):
    return format_html('<span class="badge {}">{}</span>', css, label)


class CaseTable(tables.Table):
    person = tables.Column(
        verbose_name=_("Case"),
        linkify=lambda record: record.get_absolute_url(),
        order_by=("person__name_key",),
    )
    positive_at = tables.Column(verbose_name=_("positive known at"))
    contact_count = tables.Column(verbose_name=_("contacts"), orderable=False)
    team = tables.Column(verbose_name=_("tracing team"), order_by=("team__name",))

    class Meta:
        model = Case
        fields = [
            "person",
            "classification",
            "status",
            "positive_at",
            "onset_date",
            "team",
            "cluster",
            "contact_count",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_person(self, record):
        return format_html("{}（{}）", record.person.name, record.pk)

    def render_positive_at(self, value):
        return when(value)

    def render_team(self, value):
        return value.name


class ContactTable(tables.Table):
    person = tables.Column(verbose_name=_("Person"), order_by=("person__name_key",))
    case = tables.Column(
        verbose_name=_("Case"), linkify=lambda record: record.get_absolute_url(), order_by=("case_id",)
    )
    contact_class = tables.Column(verbose_name=_("Class"))
    status = tables.Column(verbose_name=_("Status"))
    identified_at = tables.Column(verbose_name=_("identified at"))
    controlled_at = tables.Column(verbose_name=_("under control at"))

    class Meta:
        model = Contact
        fields = [
            "person",
            "case",
            "contact_class",
            "setting",
            "last_contact",
            "status",
            "identified_at",
            "controlled_at",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_person(self, record):
        return record.person.name

    def render_case(self, record):
        return format_html("{}（{}）", record.case.person.name, record.case_id)

    def render_contact_class(self, record):
        return badge(CLASS_BADGES.get(record.contact_class, ""), record.get_contact_class_display())

    def render_status(self, record):
        return badge(STATUS_BADGES.get(record.status, ""), record.get_status_display())

    def render_identified_at(self, value):
        return when(value)

    def render_controlled_at(self, value):
        return when(value)


class ClusterTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    case_count = tables.Column(verbose_name=_("cases"), orderable=False)
    contact_count = tables.Column(verbose_name=_("contacts"), orderable=False)

    class Meta:
        model = Cluster
        fields = ["name", "kind", "place", "started_on", "case_count", "contact_count"]
        attrs = {"class": "table table-sm table-hover align-middle"}


class TeamTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(verbose_name=_("filed under"), order_by=("area__path",))
    open_cases = tables.Column(verbose_name=_("open cases"), orderable=False)

    class Meta:
        model = Team
        fields = ["name", "area", "open_cases"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.name
