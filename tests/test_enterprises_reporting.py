"""An enterprise's contact sends the enterprise's daily report (decision 0033, 0034): through the
reports pages, only for their own enterprise, never the community's own report, and without
following the area's reports."""

import pytest
from django.utils import timezone

from epigrid.enterprises import daily
from epigrid.enterprises.models import Application
from epigrid.reports import services as report_services
from epigrid.reports.models import Submission
from tests.enterprises_cast import works
from tests.reports_cast import reports

pytestmark = pytest.mark.django_db


def test_a_contact_sends_their_enterprises_daily_report_and_nothing_else(cast):
    reports(cast)  # the community's own forms
    w = works(cast)
    w.at(Application.Status.PERMITTED, w.a)
    w.at(Application.Status.PERMITTED, w.b)
    form = daily.daily_form()
    today = timezone.localdate()
    client = cast.client_for(w.contact)
    assert "send-report" in client.get("/enterprises/mine/").content.decode()
    cards = client.get("/reports/today/").content.decode()
    assert w.a.name in cards and w.b.name not in cards
    assert "/reports/community_daily/" not in cards  # the community's report is its officers'
    url = f"/reports/{form.code}/s/{w.a.pk}/{today.isoformat()}/"
    assert client.get(url).status_code == 200
    values = report_services.live_figures(form, None, today, sender=w.a)
    values.update(staff_on_duty=1, from_risk_areas=0, disinfections=3, isolation_room_ready="true")
    assert client.post(url, values).status_code == 302
    row = Submission.objects.get(form=form, sender_id=w.a.pk, day=today)
    assert row.submitted_by == w.contact and row.unit == w.a.area
    # Another enterprise's report, the community's report and the roll-up are not theirs.
    assert client.get(f"/reports/{form.code}/s/{w.b.pk}/{today.isoformat()}/").status_code == 404
    community = client.post(f"/reports/community_daily/{cast.community.code}/{today.isoformat()}/", {})
    assert community.status_code in (403, 404)
    assert client.get("/reports/rollup/").status_code == 403
    assert client.get(f"/reports/{form.code}/s/{w.a.pk}/history/").status_code == 200
