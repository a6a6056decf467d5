"""Tables of the antigen lists (the shared template turns them into cards on a phone). Personal
numbers only ever masked; the birth year, never the date."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from epigrid.antigen.models import AntigenFollowUp, AntigenReport, AntigenRound, KitDistribution

TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}


def _moment(value):
    return date_format(localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"


class AntigenRoundTable(tables.Table):
    name = tables.Column(linkify=True)
    area = tables.Column(verbose_name=_("organised by"), accessor="area__name", order_by=("area__path",))

    class Meta:
        model = AntigenRound
        fields = ["name", "area", "starts_on", "ends_on", "allocation", "kits_per", "results_due_at"]
        attrs = TABLE_ATTRS

    def render_results_due_at(self, value):
        return _moment(value)


class KitDistributionTable(tables.Table):
    household = tables.Column(
        verbose_name=_("household"),
        accessor="household__address",
        order_by=("household__building__name", "household__unit", "household__room"),
        linkify=lambda record: reverse("antigen:kitdistribution_detail", args=[record.pk]),
    )
    area = tables.Column(verbose_name=_("grid"), accessor="area__name", order_by=("area__path",))
    round = tables.Column(verbose_name=_("antigen round"), accessor="round__name")
    handed_out_by = tables.Column(
        verbose_name=_("handed out by"), accessor="handed_out_by__username", default="—"
    )

    class Meta:
        model = KitDistribution
        fields = ["household", "kits", "round", "area", "handed_out_at", "handed_out_by"]
        attrs = TABLE_ATTRS

    def render_handed_out_at(self, value):
        return _moment(value)


class AntigenReportTable(tables.Table):
    person = tables.Column(
        verbose_name=_("person"),
        accessor="person__name",
        order_by=("person__name_key", "id"),
        linkify=lambda record: reverse("antigen:antigenreport_detail", args=[record.pk]),
    )
    doc_number = tables.Column(
        verbose_name=_("document number"),
        accessor="person__masked_doc_number",
        orderable=False,
        attrs={"td": {"class": "masked"}},
    )
    household = tables.Column(
        verbose_name=_("household"), accessor="household__address", orderable=False, default="—"
    )
    area = tables.Column(verbose_name=_("grid"), accessor="area__name", order_by=("area__path",))
    photo = tables.BooleanColumn(verbose_name=_("photo"), accessor="photo", orderable=False)

    class Meta:
        model = AntigenReport
        fields = ["person", "doc_number", "result", "tested_at", "household", "area", "via", "photo"]
        attrs = TABLE_ATTRS

    def render_tested_at(self, value):
        return _moment(value)

    def render_result(self, record, value):
        if record.retest_state == "requested":
            return f"{value} · {_('retest requested')}"
        return value


class AntigenFollowUpTable(tables.Table):
    person = tables.Column(
        verbose_name=_("person"),
        accessor="person__name",
        order_by=("person__name_key", "id"),
        linkify=lambda record: reverse("antigen:antigenfollowup_detail", args=[record.pk]),
    )
    doc_number = tables.Column(
        verbose_name=_("document number"),
        accessor="person__masked_doc_number",
        orderable=False,
        attrs={"td": {"class": "masked"}},
    )
    area = tables.Column(verbose_name=_("grid"), accessor="area__name", order_by=("area__path",))

    class Meta:
        model = AntigenFollowUp
        fields = ["person", "doc_number", "status", "due_by", "area"]
        attrs = TABLE_ATTRS

    def render_due_by(self, value):
        return _moment(value)
