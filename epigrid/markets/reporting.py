"""The seam between shops and markets and the report forms of `reports` (decisions 0033, 0035):
the outlet daily report is the form "outlet_daily", sent by outlets (sender kind "outlet"), so its
deadlines, roll-up, missing list, history and export are the reports app's. This module only
sends through `reports.services.submit` and reads the submitted values back for the changes and
alerts (`markets.alerts`)."""

import json
from pathlib import Path

from django.utils.translation import gettext_lazy as _

FORM_CODE = "outlet_daily"
SENDER_KIND = "outlet"
FORM_FILE = Path(__file__).resolve().parent / "forms" / f"{FORM_CODE}.json"


def expected_outlets(day):
    """The outlets expected to send the daily report: the monitored ones that are open."""
    from epigrid.markets.models import Outlet

    return Outlet.objects.filter(monitored=True, is_open=True)


def evaluate_report(form, submission):
    """An outlet's daily report written (sent or corrected, on any page or the API): raise or clear
    its alerts in the same transaction (reports calls this once per new or changed report)."""
    from epigrid.markets import services
    from epigrid.markets.models import Outlet

    if form.code != FORM_CODE:
        return
    outlet = Outlet.objects.select_related("area").filter(pk=submission.sender_id).first()
    if outlet is not None:
        services.evaluate(outlet, submission.day)


def register_sender():
    from epigrid.reports import senders

    senders.register(
        SENDER_KIND, "markets.outlet", _("Outlet"), expected=expected_outlets, on_submit=evaluate_report
    )


def form_fields(commodities):
    """The field list of the outlet daily form for the catalogue: per item its supply, price and
    stock in days (reports.schema), then a note."""
    fields = []
    for c in commodities:
        fields += [
            {
                "key": f"{c['code']}_supply",
                "label": {
                    "zh": f"{c['name']}供应量（{c['unit']}）",
                    "en": f"{c['name_en']} supply ({c['unit']})",
                },
                "type": "decimal",
                "required": False,
                "min": 0,
                "max": 100000000,
            },
            {
                "key": f"{c['code']}_price",
                "label": {
                    "zh": f"{c['name']}价格（元/{c['unit']}）",
                    "en": f"{c['name_en']} price (yuan/{c['unit']})",
                },
                "type": "decimal",
                "required": False,
                "min": 0,
                "max": 100000,
            },
            {
                "key": f"{c['code']}_stock_days",
                "label": {"zh": f"{c['name']}库存可供天数", "en": f"{c['name_en']} stock (days)"},
                "type": "decimal",
                "required": False,
                "min": 0,
                "max": 3650,
            },
        ]
    fields.append(
        {"key": "notes", "label": {"zh": "情况说明", "en": "Notes"}, "type": "text", "required": False}
    )
    return fields


def shipped_form():
    return json.loads(FORM_FILE.read_text(encoding="utf-8"))


def report_form():
    from epigrid.reports.models import ReportForm

    return ReportForm.objects.filter(code=FORM_CODE).first()


def submit(user, outlet, day, values, note="", now=None):
    """Send (or correct) the outlet's report for `day` through the report forms."""
    from django.core.exceptions import ValidationError

    from epigrid.reports import services

    form = report_form()
    if form is None or not form.active:
        raise ValidationError(_("The outlet daily report form is not in use."))
    return services.submit(user, form, None, day, values, note=note, sender=outlet, now=now)


def values_between(outlet_ids, since, until):
    """{(outlet id, day): values} of the outlets' daily reports from `since` to `until` inclusive
    (reports' named service `values_by_sender`)."""
    import datetime

    from epigrid.reports import services

    form = report_form()
    if form is None or not outlet_ids:
        return {}
    days = [since + datetime.timedelta(days=n) for n in range((until - since).days + 1)]
    return services.values_by_sender(form, outlet_ids, days)


def completeness(outlet_ids, since, until):
    """Per outlet id: days due, received, on time, late (reports' named service)."""
    from epigrid.reports import services

    form = report_form()
    return services.completeness(form, outlet_ids, since, until) if form is not None else {}


def may_send(user, form, outlet):
    """Whether `user` may send the outlet's report (the reports app's rule for senders)."""
    from epigrid.reports import services

    return bool(
        form
        and form.active
        and outlet.monitored
        and outlet.is_open
        and services.may_send_for(user, form, outlet)
    )


def fill_url(form, outlet, day):
    """The reports app's page where the outlet's report for `day` is typed (or corrected)."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("reports:fill_sender", args=[form.code, outlet.pk, day.isoformat()])
    except NoReverseMatch:
        return ""
