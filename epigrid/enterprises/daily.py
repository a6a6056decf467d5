"""The enterprise daily report 复工企业疫情防控日报 through the report forms (decision 0033): the
enterprise is a sender kind; an enterprise is expected to report on each day from the day its
permit takes effect; the live figures come from its own ledgers (roster, gate temperatures, PPE),
so a typed figure that differs needs an explanation, as the community's report does.
Completeness per enterprise (days due, received, on time) is `reports.services.completeness`."""

import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.enterprises.models import (
    Application,
    Enterprise,
    PPEStock,
    TemperatureReading,
    days_of_cover,
    today_bounds,
)

FORM = "enterprise_daily"
SENDER_KIND = "enterprise"
WINDOW_DAYS = 7  # completeness over the last week


def expected(day):
    """Enterprises back at work on `day`: a permit in effect by then."""
    permitted = Application.objects.filter(
        enterprise=OuterRef("pk"), status=Application.Status.PERMITTED, permitted_from__lte=day
    )
    return Enterprise.objects.filter(Exists(permitted))


def live(form, enterprise, day):
    staff = enterprise.employees.filter(is_active=True).count()
    start, end = today_bounds(day)
    readings = TemperatureReading.objects.filter(
        employee__enterprise=enterprise, measured_at__gte=start, measured_at__lt=end
    )
    mask = PPEStock.objects.filter(enterprise=enterprise, item=PPEStock.Item.MASK).first()
    figures = {
        "staff_on_roster": staff,
        "temperatures_taken": readings.values("employee").distinct().count(),
        "fevers": readings.filter(fever=True).values("employee").distinct().count(),
    }
    if mask is not None:
        days = days_of_cover(mask.stock, staff, mask.daily_use)
        if days is not None:
            figures["mask_days"] = str(days)  # decimals travel as text in the JSON, as schema does
    return {k: v for k, v in figures.items() if form.field(k) is not None}


def register():
    from epigrid.reports import senders

    senders.register(SENDER_KIND, "enterprises.Enterprise", _("enterprise"), expected=expected, live=live)


def daily_form():
    from epigrid.reports.models import ReportForm

    return ReportForm.objects.filter(code=FORM, active=True).first()


def completeness(enterprise_ids, until=None):
    """{enterprise id: {expected, received, on_time, late, zero}} over the last WINDOW_DAYS days, or
    {} without the form. Days before an enterprise's permit are not due: they are counted off."""
    from epigrid.reports import services as reports

    form = daily_form()
    ids = list(enterprise_ids)
    if form is None or not ids:
        return {}
    until = until or timezone.localdate()
    since = until - datetime.timedelta(days=WINDOW_DAYS - 1)
    rows = reports.completeness(form, ids, since, until)
    permitted = dict(
        Application.objects.filter(enterprise_id__in=ids, status=Application.Status.PERMITTED)
        .order_by("enterprise_id", "-permitted_from")  # the earliest permit last: it wins
        .values_list("enterprise_id", "permitted_from")
    )
    now = timezone.now()
    for pk, row in rows.items():
        start = permitted.get(pk)
        if start is None:
            row["expected"] = 0
            continue
        not_due = sum(
            1
            for n in range((until - since).days + 1)
            if (since + datetime.timedelta(days=n)) < start
            and form.deadline(since + datetime.timedelta(days=n)) <= now
        )
        row["expected"] = max(row["expected"] - not_due, 0)
    return rows


def may_send(user, enterprise):
    """Whether `user` may send the enterprise's daily report (its contact, or an officer over it)."""
    from epigrid.reports import services as report_services

    form = daily_form()
    return form is not None and report_services.may_send_for(user, form, enterprise)
