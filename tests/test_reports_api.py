"""The daily-report API: forms (read), reports (scoped list; POST sends, idempotent), the roll-up."""

import pytest

from epigrid.reports.models import Submission
from tests.reports_cast import DAY, reports
from tests.scoping import ScopedAPITests

pytestmark = pytest.mark.django_db


def api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


class TestSubmissionAPIScope(ScopedAPITests):
    model = Submission
    api_list_url = "/api/v1/reports/"
    viewer = "community_officer"
    outsider = "officer_2"
    unrevealing = "auditor"
    read_only = True  # reports change only by sending again (POST)

    def make_object(self, cast, grid):
        return reports(cast).send()

    def write_data(self, cast, obj):
        return {"zero": True}


def _body(r, cast, unit=None, **values):
    return {
        "form": "community_daily",
        "unit": (unit or cast.community).code,
        "day": DAY.isoformat(),
        "values": r.typed(**values),
    }


def test_it_lists_the_forms(cast):
    reports(cast)
    data = api(cast.community_officer).get("/api/v1/report-forms/").json()
    forms = {f["code"]: f for f in data["results"]}
    assert {"community_daily", "community_zero"} <= set(forms)
    # Forms sent by records (an outlet's, an enterprise's) say by which kind.
    assert {f["sender_kind"] for f in forms.values()} >= {"", "outlet", "enterprise"}
    one = api(cast.auditor).get("/api/v1/report-forms/community_daily/").json()
    assert one["fields"][0]["key"] == "kp_close_contact"


def test_a_post_sends_once_and_a_retry_answers_the_same_row(cast):
    r = reports(cast)
    client = api(cast.community_officer)
    first = client.post("/api/v1/reports/", _body(r, cast, service_requests=2), format="json")
    assert first.status_code == 201, first.json()
    again = client.post("/api/v1/reports/", _body(r, cast, service_requests=2), format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["revision"] == 1
    assert Submission.objects.count() == 1


def test_a_post_with_a_bad_value_answers_400_per_field(cast):
    r = reports(cast)
    response = api(cast.community_officer).post(
        "/api/v1/reports/", _body(r, cast, problems_found=-3), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json() == {"problems_found": ["At least 0."]}


def test_a_post_outside_the_scope_answers_404_and_without_the_right_403(cast):
    r = reports(cast)
    assert (
        api(cast.community_officer)
        .post("/api/v1/reports/", _body(r, cast, unit=r.community_3), format="json")
        .status_code
        == 404
    )
    assert api(cast.auditor).post("/api/v1/reports/", _body(r, cast), format="json").status_code == 403
    assert api(cast.street_officer).post("/api/v1/reports/", _body(r, cast), format="json").status_code == 403


def test_the_rollup_action_answers_per_child_and_the_missing(cast):
    r = reports(cast)
    r.send(service_requests=4)
    r.send(unit=r.community_3, hour=17, service_requests=1)
    data = (
        api(cast.commander)
        .get(
            "/api/v1/reports/rollup/",
            {"form": "community_daily", "day": DAY.isoformat(), "area": cast.district.code},
        )
        .json()
    )
    rows = {row["name"]: row for row in data["rows"]}
    assert rows["九州街道"]["received"] == 1 and rows["九州街道"]["missing"] == 1
    assert rows["雁南街道"]["late"] == 1
    assert data["total"]["sums"]["service_requests"] == 5
    assert [m["name"] for m in data["missing"]] == ["东岗社区"]
    assert data["missing"][0]["officers"][0]["username"] == "officer_2"
    street = api(cast.street_officer).get(
        "/api/v1/reports/rollup/",
        {"form": "community_daily", "day": DAY.isoformat(), "area": cast.district.code},
    )
    assert street.status_code == 404


def test_the_missing_units_officers_phones_are_masked_without_the_reveal_right(cast):
    """The officers to chase: the commander (reveal right) gets their numbers to call, the auditor
    (none) a mask, on the API and the page alike."""
    from django.test import Client

    reports(cast).send()  # the cast's officer_2 of the community that has not reported
    cast.officer_2.phone = "+8613912345678"
    cast.officer_2.save(update_fields=["phone"])
    query = {"form": "community_daily", "day": DAY.isoformat(), "area": cast.district.code}

    def officer_phones(user):
        data = api(user).get("/api/v1/reports/rollup/", query).json()
        return [o["phone"] for m in data["missing"] for o in m["officers"] if o["username"] == "officer_2"]

    assert officer_phones(cast.commander) == ["+8613912345678"]
    assert officer_phones(cast.auditor) and "13912345678" not in officer_phones(cast.auditor)[0]
    client = Client()
    client.force_login(cast.auditor)
    page = client.get("/reports/rollup/", query)
    assert page.status_code == 200 and "13912345678" not in page.content.decode()
