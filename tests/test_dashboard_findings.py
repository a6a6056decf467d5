"""Late items anywhere in epigrid become supervision items (dashboard.findings, decision 0030
addendum): raised once per late record in its area, signed off by the system when the record is
no longer late; a daily report missing after its deadline likewise, per unit."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from epigrid.assistance.models import AssistRequest
from epigrid.dashboard import findings
from epigrid.reports import services as report_services
from epigrid.reports.models import ReportForm
from epigrid.supervision.models import Category, FoundBy, Item
from tests.reports_cast import reports

pytestmark = pytest.mark.django_db


def _late_request(cast):
    return AssistRequest.objects.create(
        requester="成都市疫情防控指挥部",
        reference="协查〔2026〕17号",
        received_at=timezone.now() - datetime.timedelta(days=3),
        area=cast.street,
    )


def _before_the_deadline():
    form = ReportForm.objects.get(code="community_daily")
    return form.deadline(timezone.localdate()) - datetime.timedelta(hours=1)


def test_an_overdue_record_raises_one_item_until_it_is_answered(cast):
    reports(cast)  # the shipped forms
    request = _late_request(cast)
    now = _before_the_deadline()
    assert findings.sweep(now) == {"raised": 1, "resolved": 0}
    item = Item.objects.get()
    assert (item.area, item.category, item.found_by) == (cast.street, Category.KEY_PERSONS, FoundBy.SYSTEM)
    assert item.source_id == request.pk and item.is_open
    assert item.due_at == now + datetime.timedelta(hours=findings.FIX_HOURS)
    assert findings.sweep(now) == {"raised": 0, "resolved": 0}  # the same late record: the same item
    request.status = AssistRequest.Status.ANSWERED
    request.save()
    assert findings.sweep(now) == {"raised": 0, "resolved": 1}
    item.refresh_from_db()
    assert item.status == Item.Status.SIGNED_OFF and item.signed_off_by is None


def test_a_missing_daily_report_raises_an_item_per_unit_after_its_deadline(cast):
    r = reports(cast)
    form = r.daily
    today = timezone.localdate()
    assert findings.sweep(form.deadline(today) - datetime.timedelta(minutes=1))["raised"] == 0
    after = form.deadline(today) + datetime.timedelta(minutes=1)
    report_services.submit(None, form, r.community_3, today, r.typed(), now=after)
    out = io.StringIO()
    call_command("raise_findings", stdout=out)  # now: after or before the deadline, the same sweep
    findings.sweep(after)
    items = Item.objects.filter(category=Category.REPORTING)
    assert {i.area for i in items} == {cast.community, r.community_2}
    report_services.submit(None, form, cast.community, today, r.typed(), now=after)
    assert findings.sweep(after)["resolved"] == 1
    assert {i.area for i in items.filter(status__in=Item.OPEN)} == {r.community_2}
