"""The roll-up street → district → city against a brute-force recount, the missing units with
their officers, a unit's history, and the Excel export (decision 0029)."""

import datetime
import random

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Area, Level
from epigrid.jobs.exports import start_export
from epigrid.jobs.models import Job
from epigrid.reports import services
from epigrid.reports.models import Submission
from tests.reports_cast import DAY, reports

pytestmark = pytest.mark.django_db


def _random_reports(cast, seed=7):
    """Three streets of four communities each over the cast's district, most sending at random."""
    r = reports(cast)
    rng = random.Random(seed)
    units = [cast.community, r.community_2, r.community_3]
    for s in range(3, 6):
        street = Area.objects.create(
            code=f"620102{s:03d}000", name=f"街道{s}", level=Level.STREET, parent=cast.district
        )
        for c in range(1, 5):
            units.append(
                Area.objects.create(
                    code=f"620102{s:03d}{c:03d}", name=f"社区{s}-{c}", level=Level.COMMUNITY, parent=street
                )
            )
    for unit in units:
        for day in (DAY - datetime.timedelta(days=1), DAY):
            if rng.random() < 0.25:
                continue  # not sent
            r.send(
                unit=unit,
                day=day,
                hour=rng.choice((9, 15, 17, 21)),
                zero=rng.random() < 0.2,
                explanations={"new_arrivals": "说明", "kp_close_contact": "说明"},
                new_arrivals=rng.randint(0, 5),
                service_requests=rng.randint(0, 9),
                problems_found=rng.randint(0, 3),
                kp_close_contact=rng.randint(0, 40),
            )
    return units


def _brute(form, day, parent):
    """Recount in Python from every row, child by child."""
    found = {}
    rows = list(Submission.objects.filter(form=form, day=day).select_related("unit"))
    for child in Area.objects.filter(parent=parent):
        units = [a for a in Area.objects.filter(level=form.unit_level) if a.path.startswith(child.path)]
        mine = [s for s in rows if s.unit.path.startswith(child.path)]
        found[child.pk] = {
            "expected": len(units),
            "received": len(mine),
            "late": sum(s.late for s in mine),
            "on_time": sum(not s.late for s in mine),
            "zero": sum(s.zero for s in mine),
            "missing": len(units) - len(mine),
            "sums": {k: sum(s.values[k] or 0 for s in mine) for k in form.numeric_keys()},
        }
    return found


@pytest.mark.parametrize("level", ["city", "district", "street"])
def test_it_rolls_up_like_a_brute_force_recount(cast, level):
    _random_reports(cast)
    form = cast.reports.daily
    root = getattr(cast, level)
    expected = _brute(form, DAY, root)
    got = services.rollup(form, DAY, root)
    assert len(got) == len(expected)
    for row in got:
        want = expected[row["area"].pk]
        assert {k: row[k] for k in want} == want, row["area"].name


def test_it_rolls_up_a_unit_as_itself(cast):
    r = reports(cast)
    r.send(new_arrivals=0, service_requests=2)
    (row,) = services.rollup(r.daily, DAY, cast.community)
    assert row["area"] == cast.community and row["received"] == 1
    assert row["sums"]["service_requests"] == 2


def test_it_lists_the_missing_units_with_their_officers(cast):
    r = reports(cast)
    r.send()
    missing = services.missing_units(r.daily, DAY, cast.district)
    assert [m["area"] for m in missing] == [r.community_2, r.community_3]
    assert missing[0]["officers"] == [r.officer_2]
    assert missing[1]["officers"] == []
    assert services.missing_units(r.daily, DAY, cast.community) == []


def test_it_keeps_a_units_history_newest_first(cast):
    r = reports(cast)
    r.send(day=DAY - datetime.timedelta(days=2), hour=18)
    r.send(day=DAY, zero=True)
    entries = services.history(r.daily, cast.community, days=3, until=DAY)
    assert [d for d, _row, _deadline in entries] == [DAY - datetime.timedelta(days=n) for n in range(3)]
    statuses = [services.status_of(row, r.daily, d, now=timezone.now()) for d, row, _deadline in entries]
    assert statuses == ["zero", "overdue", "late"]


def _export(user, query, capture):
    with capture(execute=True):
        start_export(user, "report-rollup", query)
    job = Job.objects.filter(user=user).latest("created")
    assert job.status == "succeeded", job.result
    return list(load_workbook(job.output_file.open("rb")).active.iter_rows(values_only=True))


def test_it_exports_the_rollup_in_the_offices_layout(cast, django_capture_on_commit_callbacks):
    r = reports(cast)
    r.send(service_requests=2, problems_found=1)
    r.send(unit=r.community_3, hour=18, service_requests=5)
    sheet = _export(
        cast.commander,
        f"form=community_daily&day={DAY}&area={cast.district.code}",
        django_capture_on_commit_callbacks,
    )
    assert sheet[0][0] == "城关区社区日报告汇总表"
    assert sheet[1][0] == "日期：2026年03月10日" and sheet[1][1] == "截止时间：16:00"
    assert sheet[2][:4] == ("序号", "街道", "社区", "状态")
    units = [row[2] for row in sheet[3:-1]]
    assert units == ["九州社区", "东岗社区", "雁滩社区"]
    assert [row[3] for row in sheet[3:-1]] == ["按时", "未报", "迟报"]
    total = sheet[-1]
    assert total[0] == "合计" and "未报1" in total[3]
    col = sheet[2].index("群众服务诉求")
    assert total[col] == 7


def test_it_exports_nothing_outside_the_users_scope(cast, django_capture_on_commit_callbacks):
    r = reports(cast)
    r.send()
    other = User.objects.create_user("other_street", password="x")
    Grant.objects.create(user=other, role="street_officer", area=r.street_2)
    sheet = _export(
        other, f"form=community_daily&day={DAY}&area={cast.street.code}", django_capture_on_commit_callbacks
    )
    assert "九州社区" not in str(sheet)
