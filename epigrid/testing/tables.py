"""Tables of the round pages. Dates are rendered here: django-tables2's date column compiles a
template for every cell."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.testing.models import Campaign, SamplingPoint, Tube


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class CampaignTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(verbose_name=_("organised by"), order_by=("area__path",))
    starts_at = tables.Column(verbose_name=_("starts"))
    ends_at = tables.Column(verbose_name=_("ends"))

    class Meta:
        model = Campaign
        fields = ["name", "status", "kind", "pooling", "area", "starts_at", "ends_at"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.name

    def render_starts_at(self, value):
        return _when(value)

    def render_ends_at(self, value):
        return _when(value)


class SamplingPointTable(tables.Table):
    name = tables.Column(linkify=lambda record: record.get_absolute_url())
    area = tables.Column(verbose_name=_("area"), order_by=("area__path",))
    # Annotated by the list view (one grouped count, not a query per row).
    desk_count = tables.Column(verbose_name=_("desks"), orderable=False)

    class Meta:
        model = SamplingPoint
        fields = ["name", "campaign", "area", "address", "hours", "desk_count", "is_home_team"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_area(self, value):
        return value.full_label()


class TubeTable(tables.Table):
    barcode = tables.Column(linkify=lambda record: record.get_absolute_url())
    count = tables.Column(verbose_name=_("persons"), empty_values=())
    opened_at = tables.Column(verbose_name=_("opened"))
    desk = tables.Column(verbose_name=_("desk"), accessor="desk__name", order_by=("desk__name",))

    class Meta:
        model = Tube
        fields = ["barcode", "status", "count", "point", "desk", "campaign", "opened_at"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_count(self, record):
        return f"{record.count}/{record.capacity}"

    def render_opened_at(self, value):
        return _when(value)
