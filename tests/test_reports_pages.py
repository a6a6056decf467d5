"""Daily-report pages: the community's page and a report's page (pre-filled, errors beside the
inputs with the typed values kept, the zero path, one row whatever the taps), the roll-up with its
drill-down and scoping, the history, and the administrator's report forms (decision 0029)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from epigrid.reports.models import ReportForm, Submission
from tests.reports_cast import DAY, reports

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _fill_url(form, unit, day):
    return reverse("reports:fill", args=[form.code, unit.code, day.isoformat()])


def _post_data(r, **values):
    data = {k: str(v) for k, v in r.typed(**values).items()}
    return data


def test_the_community_officer_sees_todays_reports_with_the_deadline(cast):
    r = reports(cast)
    page = cast.client_for(cast.community_officer).get(reverse("reports:today"), **EN)
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count('data-testid="report-card"') == 2  # the daily and the zero report
    assert "Due today by 16:00" in body and r.daily.name in body


def test_the_report_page_is_prefilled_from_live_data(cast):
    r = reports(cast)
    page = cast.client_for(cast.community_officer).get(_fill_url(r.daily, cast.community, DAY), **EN)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="live-new_arrivals"' in body
    assert 'name="new_arrivals" type="text" inputmode="numeric" autocomplete="off" value="0"' in body


def test_a_bad_value_shows_its_error_beside_the_input_and_keeps_what_was_typed(cast):
    r = reports(cast)
    client = cast.client_for(cast.community_officer)
    data = _post_data(r, service_requests="很多", problems_found="2")
    page = client.post(_fill_url(r.daily, cast.community, DAY), data, **EN)
    assert page.status_code == 400
    body = page.content.decode()
    assert 'data-testid="error-service_requests">Enter a number.' in body
    assert (
        'value="很多"' in body
        and 'name="problems_found" type="text" inputmode="numeric" autocomplete="off" value="2"' in body
    )
    assert not Submission.objects.exists()


def test_sending_twice_keeps_one_report(cast):
    r = reports(cast)
    client = cast.client_for(cast.community_officer)
    url = _fill_url(r.daily, cast.community, DAY)
    for _ in range(2):
        assert client.post(url, _post_data(r, service_requests=1)).status_code == 302
    row = Submission.objects.get()
    assert row.submitted_by == cast.community_officer and row.revision == 1


def test_the_zero_path_sends_a_zero_report(cast):
    r = reports(cast)
    client = cast.client_for(cast.community_officer)
    url = _fill_url(r.daily, cast.community, DAY)
    page = client.get(url + "?zero=1", **EN)
    assert r.daily.zero_statement in page.content.decode()
    response = client.post(url, {**_post_data(r, service_requests=4), "zero": "1"})
    assert response.status_code == 302
    row = Submission.objects.get()
    assert row.zero and row.values["service_requests"] == 0


def test_a_late_report_says_so(cast):
    r = reports(cast)
    r.send(hour=18)
    page = cast.client_for(cast.community_officer).get(_fill_url(r.daily, cast.community, DAY), **EN)
    assert 'data-testid="status-late"' in page.content.decode()


def test_a_community_cannot_open_anothers_report(cast):
    r = reports(cast)
    client = cast.client_for(cast.community_officer)
    assert client.get(_fill_url(r.daily, r.community_2, DAY)).status_code == 404
    assert client.post(_fill_url(r.daily, r.community_2, DAY), _post_data(r)).status_code == 404


def test_a_street_reads_its_communities_reports_but_does_not_send(cast):
    r = reports(cast)
    r.send()
    client = cast.client_for(cast.street_officer)
    assert client.get(_fill_url(r.daily, cast.community, DAY)).status_code == 200
    assert client.post(_fill_url(r.daily, cast.community, DAY), _post_data(r)).status_code == 403
    assert client.get(_fill_url(r.daily, r.community_3, DAY)).status_code == 404


def test_a_grid_worker_has_no_reports(cast):
    reports(cast)
    assert cast.client_for(cast.grid_worker).get(reverse("reports:rollup")).status_code == 403


def test_the_street_rollup_shows_its_communities_who_is_missing_and_the_late(cast):
    r = reports(cast)
    r.send(service_requests=3, hour=17)
    client = cast.client_for(cast.street_officer)
    page = client.get(reverse("reports:rollup"), {"form": "community_daily", "day": DAY}, **EN)
    assert page.status_code == 200
    rows = {row["area"].name: row for row in page.context["rows"]}
    assert set(rows) == {"九州社区", "东岗社区"}  # its communities, not another street's
    assert rows["九州社区"]["late"] == 1 and rows["九州社区"]["sums"]["service_requests"] == 3
    assert [m["label"] for m in page.context["missing"]] == ["九州街道 · 东岗社区"]
    assert [s["label"] for s in page.context["late"]] == ["九州街道 · 九州社区"]
    assert "officer_2" in page.content.decode()


def test_the_commander_drills_down_from_the_district(cast):
    r = reports(cast)
    r.send()
    client = cast.client_for(cast.commander)
    page = client.get(reverse("reports:rollup"), {"day": DAY})
    assert page.context["area"] == cast.district
    assert [row["area"] for row in page.context["rows"]] == [cast.street, r.street_2]
    page = client.get(reverse("reports:rollup"), {"day": DAY, "area": cast.street.code})
    assert page.context["total"]["received"] == 1 and page.context["total"]["expected"] == 2


def test_a_street_cannot_open_another_streets_rollup(cast):
    r = reports(cast)
    client = cast.client_for(cast.street_officer)
    assert client.get(reverse("reports:rollup"), {"area": r.street_2.code}).status_code == 404
    assert client.get(reverse("reports:rollup"), {"area": cast.district.code}).status_code == 404


def test_the_auditor_views_the_rollup_and_history(cast):
    r = reports(cast)
    r.send(day=timezone.localdate() - datetime.timedelta(days=1))
    client = cast.client_for(cast.auditor)
    assert client.get(reverse("reports:rollup")).status_code == 200
    page = client.get(reverse("reports:history", args=["community_daily", cast.community.code]))
    assert page.status_code == 200
    assert len(page.context["entries"]) == 14
    assert page.context["entries"][1]["row"] is not None


def test_the_admin_sees_clear_errors_of_a_field_list(cast):
    client = cast.client_for(cast.admin)
    data = {
        "code": "point_daily",
        "name": "采样点日报",
        "name_en": "",
        "kind": "daily",
        "unit_level": "4",
        "due_time": "18:00",
        "period": "day",
        "zero_statement": "",
        "active": "on",
        "fields_json": '[{"key": "tests", "label": {"zh": "采样数"}, "type": "integer"}]',
    }
    page = client.post(reverse("reports:reportform_add"), data, **EN)
    assert page.status_code == 400
    assert (
        "Field 1 (tests): the type must be one of int, decimal, text, bool, choice." in page.content.decode()
    )
    page = client.post(reverse("reports:reportform_add"), {**data, "fields_json": "[{"}, **EN)
    assert "Not valid JSON" in page.content.decode()
    data["fields_json"] = '[{"key": "tests", "label": {"zh": "采样数"}, "type": "int", "min": 0}]'
    assert client.post(reverse("reports:reportform_add"), data).status_code == 302
    form = ReportForm.objects.get(code="point_daily")
    assert form.fields[0]["type"] == "int" and form.due_time == datetime.time(18, 0)


def test_only_the_admin_edits_forms(cast):
    r = reports(cast)
    url = reverse("reports:reportform_edit", args=[r.daily.pk])
    assert cast.client_for(cast.commander).get(url).status_code == 403
    assert cast.client_for(cast.admin).get(url).status_code == 200
