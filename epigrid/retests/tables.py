import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from epigrid.retests.models import PoolFollowUp, RetestTask, ZoneProposal

TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}


def _moment(value):
    return date_format(localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"


class PoolFollowUpTable(tables.Table):
    tube = tables.Column(
        verbose_name=_("tube"),
        accessor="tube__barcode",
        linkify=lambda record: reverse("retests:poolfollowup_detail", args=[record.pk]),
    )
    area = tables.Column(verbose_name=_("point area"), accessor="area__name", order_by=("area__path",))

    class Meta:
        model = PoolFollowUp
        fields = ["tube", "kind", "status", "opened_at", "due_by", "area"]
        attrs = TABLE_ATTRS

    def render_opened_at(self, value):
        return _moment(value)

    def render_due_by(self, value):
        return _moment(value)


class RetestTaskTable(tables.Table):
    name = tables.Column(
        verbose_name=_("person"),
        linkify=lambda record: reverse("retests:retesttask_detail", args=[record.pk]),
    )
    tube = tables.Column(verbose_name=_("pooled tube"), accessor="follow_up__tube__barcode")
    area = tables.Column(verbose_name=_("grid"), accessor="area__name", order_by=("area__path",))

    class Meta:
        model = RetestTask
        fields = ["name", "kind", "status", "due_by", "tube", "area"]
        attrs = TABLE_ATTRS

    def render_due_by(self, value):
        return _moment(value)


class ZoneProposalTable(tables.Table):
    building = tables.Column(
        verbose_name=_("building"),
        accessor="building__name",
        linkify=lambda record: reverse("retests:zoneproposal_detail", args=[record.pk]),
    )
    area = tables.Column(verbose_name=_("grid"), accessor="area__name", order_by=("area__path",))

    class Meta:
        model = ZoneProposal
        fields = ["building", "area", "status", "proposed_at", "reason"]
        attrs = TABLE_ATTRS

    def render_proposed_at(self, value):
        return _moment(value)
