import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Area, Building, Household


class AreaTable(tables.Table):
    name = tables.Column(linkify=True, attrs={"td": {"class": "card-title"}})  # the card's title on a phone
    parent = tables.Column(orderable=False)

    class Meta:
        model = Area
        fields = ["code", "name", "level", "parent"]
        attrs = {"class": "table table-sm table-hover"}


class BuildingTable(tables.Table):
    name = tables.Column(linkify=True)
    area = tables.Column(verbose_name=_("grid"), orderable=False)

    class Meta:
        model = Building
        fields = ["name", "area", "address"]
        attrs = {"class": "table table-sm table-hover"}


class HouseholdTable(tables.Table):
    address = tables.Column(verbose_name=_("address"), linkify=True, orderable=False, accessor="address")
    area = tables.Column(verbose_name=_("grid"), orderable=False)
    members = tables.Column(verbose_name=_("members"), accessor="member_count", orderable=False)

    class Meta:
        model = Household
        fields = ["address", "area", "members"]
        attrs = {"class": "table table-sm table-hover"}
