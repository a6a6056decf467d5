"""Daily-report additions to the cast (no tests here): a second community on the cast's street and
a second street with one community, an officer of the second community, and helpers to send."""

import datetime

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Area, Level
from epigrid.reports import services
from epigrid.reports.models import ReportForm

DAY = datetime.date(2026, 3, 10)


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


class Reports:
    def __init__(self, cast):
        self.cast = cast
        if not ReportForm.objects.filter(code="community_daily").exists():
            services.load_shipped_forms()  # a flushed database (transactional and browser tests)
        self.daily = ReportForm.objects.get(code="community_daily")
        self.zero_form = ReportForm.objects.get(code="community_zero")
        self.community_2 = Area.objects.create(
            code="620102001002", name="东岗社区", level=Level.COMMUNITY, parent=cast.street
        )
        self.street_2 = Area.objects.create(
            code="620102002000", name="雁南街道", level=Level.STREET, parent=cast.district
        )
        self.community_3 = Area.objects.create(
            code="620102002001", name="雁滩社区", level=Level.COMMUNITY, parent=self.street_2
        )
        self.officer_2 = User.objects.create_user("officer_2", password="x", phone="+8613900001111")
        Grant.objects.create(user=self.officer_2, role="community_officer", area=self.community_2)
        cast.reports = self
        cast.officer_2 = self.officer_2

    def typed(self, **values):
        """A complete daily report with every figure 0 (what the live data says of an empty area)."""
        base = {f["key"]: 0 for f in self.daily.fields if f["type"] == "int"}
        base["notes"] = ""
        base.update(values)
        return base

    def send(
        self, unit=None, day=DAY, hour=15, user=None, form=None, zero=False, explanations=None, **values
    ):
        form = form or self.daily
        raw = self.typed(**values) if form == self.daily else values
        return services.submit(
            user, form, unit or self.cast.community, day, raw, explanations, zero=zero, now=at(day, hour)
        )


def reports(cast):
    return getattr(cast, "reports", None) or Reports(cast)
