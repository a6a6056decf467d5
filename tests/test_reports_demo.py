"""The demo's daily reports: two weeks for every community, a few late, a few zero reports, one
community missing today; the commander's roll-up shows it and its secretary sends it."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from epigrid.accounts.models import User
from epigrid.areas.models import Area, Level
from epigrid.reports import services
from epigrid.reports.models import ReportForm, Submission


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_two_weeks_of_reports_and_one_missing_today(demo):
    counts = demo["counts"]["reports"]
    communities = Area.objects.filter(level=Level.COMMUNITY).count()
    assert counts["reports"] == communities * 14 - 1
    assert counts["missing_today"] == 1
    assert 0 < counts["late"] < counts["reports"] // 4
    assert 0 < counts["zero"] < counts["reports"] // 3
    form = ReportForm.objects.get(code="community_daily")
    district = Area.objects.get(level=Level.DISTRICT)
    (missing,) = services.missing_units(form, timezone.localdate(), district)
    assert missing["area"] == Area.objects.filter(level=Level.COMMUNITY).order_by("path").first()


def test_the_commander_sees_the_rollup_and_the_secretary_sends_todays(demo):
    commander = Client()
    commander.force_login(User.objects.get(username="demo_commander"))
    page = commander.get("/reports/rollup/")
    assert page.status_code == 200 and page.context["total"]["missing"] == 1
    secretary = Client()
    secretary.force_login(User.objects.get(username="demo_community"))
    today = secretary.get("/reports/today/")
    assert today.status_code == 200
    card = next(c for c in today.context["cards"] if c["form"].code == "community_daily")
    assert card["row"] is None
    form = secretary.get(card["url"])
    data = {r["key"]: "" if r["value"] is None else str(r["value"]) for r in form.context["rows"]}
    # Pre-filled from the ledger and testing; what epigrid does not hold is typed.
    assert data["kp_close_contact"] != "" and data["service_requests"] == ""
    data.update(service_requests="2", problems_found="0")
    assert secretary.post(card["url"], data).status_code == 302
    assert Submission.objects.filter(unit=card["unit"], day=timezone.localdate()).exists()
