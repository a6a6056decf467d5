"""The demo district's daily reports 日报告: two weeks of the community daily report for every
community, so the roll-up and the histories show trends from the first `make run`.

- Most communities send before the 16:00 deadline; one report in nine comes late (in the
  evening), one in seven is a zero report 零报告 (the period's event counts 0).
- The key persons under control are the ledger's figures of each community (one grouped query), so
  typed and live agree; now and then the typed new arrivals differ from the ledger, explained.
- Today: every community has sent except the first one (the demo community officer's), which is
  missing until its secretary sends it from /reports/today/. Reports of today are dated before now.

Rows are bulk-written with their change-log rows. Deterministic for a seed on a given day."""

import datetime
import random

from django.db.models import Count
from django.utils import timezone

from epigrid.areas.models import Area, Level
from epigrid.audit.services import log_bulk_create
from epigrid.control.figures import key_persons_by_category
from epigrid.reports.models import ReportForm, Submission

DAYS = 14
FORM = "community_daily"


def _typed(form, rng, key_persons, zero):
    values = {}
    for field in form.fields:
        key, live = field["key"], field.get("live", "")
        if live.startswith("key_persons."):
            values[key] = key_persons.get(live.split(".", 1)[1], 0)
        elif field["type"] == "text":
            values[key] = (
                "" if rng.random() < 0.7 else rng.choice(("已完成扫楼", "督促返兰人员报备", "物资已配送"))
            )
        elif field["type"] != "int":
            values[key] = None
        elif zero and field.get("event"):
            values[key] = 0
        elif key == "persons_tested":
            values[key] = rng.randint(200, 2500)
        elif key == "sweep_visits":
            values[key] = rng.randint(10, 120)
        elif key == "service_requests_solved":
            values[key] = None
        else:
            values[key] = rng.randint(0, 4)
    if values.get("service_requests"):
        values["service_requests_solved"] = rng.randint(0, values["service_requests"])
    return values


def build_reports(users, today, seed=0):
    form = ReportForm.objects.filter(code=FORM, active=True).first()
    if form is None:
        return []
    rng = random.Random(f"demo-reports:{seed}:{today.isoformat()}")
    communities = list(Area.objects.filter(level=form.unit_level).order_by("path"))
    officer = users.get("community_officer")
    now = timezone.now()
    rows = []
    for index, unit in enumerate(communities):
        key_persons = key_persons_by_category(unit, today)
        for back in range(DAYS):
            day = today - datetime.timedelta(days=back)
            if back == 0 and index == 0:
                continue  # the one missing today
            deadline = form.deadline(day)
            # A few late and a few zero reports whatever the number of communities (1 in 9, 1 in 7).
            late = back > 0 and (index + back) % 9 == 4
            sent = (
                deadline + datetime.timedelta(hours=rng.randint(1, 5))
                if late
                else deadline - datetime.timedelta(minutes=rng.randint(30, 600))
            )
            sent = min(sent, now - datetime.timedelta(minutes=rng.randint(5, 60)))
            zero = (index + back) % 7 == 3
            values = _typed(form, rng, key_persons, zero)
            live = {f["key"]: values[f["key"]] for f in form.fields if f.get("live")}
            explanations = {}
            if not zero and rng.random() < 0.05:
                live["new_arrivals"] = values["new_arrivals"] + 1
                explanations["new_arrivals"] = "一人已转往外地，系统尚未移交"
            rows.append(
                Submission(
                    form=form,
                    unit=unit,
                    day=day,
                    values=values,
                    live=live,
                    explanations=explanations,
                    zero=zero,
                    first_submitted_at=sent,
                    submitted_at=sent,
                    submitted_by=officer if index == 0 else None,
                    late=late or sent > deadline,
                )
            )
    created = Submission.objects.bulk_create(rows, batch_size=2000)
    log_bulk_create(created)
    return created


def reports_counts():
    """Reports by day state: sent, late, zero; and today's missing units."""
    today = timezone.localdate()
    form = ReportForm.objects.filter(code=FORM).first()
    rows = Submission.objects.filter(form=form) if form else Submission.objects.none()
    totals = rows.aggregate(n=Count("id"))
    units = Area.objects.filter(level=form.unit_level if form else Level.COMMUNITY).count()
    return {
        "reports": totals["n"],
        "late": rows.filter(late=True).count(),
        "zero": rows.filter(zero=True).count(),
        "missing_today": units - rows.filter(day=today).count(),
    }
