"""Tracing pages (issue 11): scoping (a tracing team its cases, officials their area), the case page's
moves (stops, contacts, a person from elsewhere, the building rule, confirm, dismiss, the clocks), the
published trajectory PDF, the contact export, the chain graph's data, and today's overdue panel."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from epigrid.control.models import KeyPerson, Protocol
from epigrid.core.identity import make_resident_id
from epigrid.tracing import services
from epigrid.tracing.models import Case, Cluster, Contact, Team, TrajectoryEntry
from tests.scoping import ScopedViewTests, assert_no_full_numbers
from tests.test_control_pdf import text_of
from tests.tracing_cast import tracing

TODAY = timezone.localdate


@pytest.fixture
def tr(cast):
    return tracing(cast)


class TestCasePages(ScopedViewTests):
    model = Case
    list_url = "/tracing/"
    viewer = "tracer_a"
    outsider = "tracer_b"
    unrevealing = "auditor"

    def make_object(self, cast, grid):
        return tracing(cast).case("b" if grid == cast.grid_b else "a")

    def edit_data(self, cast, obj):
        return {"classification": "asymptomatic", "onset_date": "", "notes": "转定点医院"}

    def list_text(self, obj):
        return f"{obj.person.name}（{obj.pk}）"


class TestClusterPages(ScopedViewTests):
    model = Cluster
    list_url = "/tracing/clusters/"
    viewer = "trace_official_a"
    outsider = "trace_official_b"
    unrevealing = "auditor"

    def make_object(self, cast, grid):
        tracing(cast)
        return Cluster.objects.create(name=f"{grid.name}面馆聚集", kind="restaurant", area=grid)

    def edit_data(self, cast, obj):
        return {"name": obj.name + "（二）", "kind": "restaurant", "area": obj.area.pk, "place": "张掖路"}


class TestTeamPages(ScopedViewTests):
    model = Team
    list_url = "/tracing/teams/"
    viewer = "trace_official_a"
    outsider = "trace_official_b"
    unrevealing = "auditor"

    def make_object(self, cast, grid):
        tracing(cast)
        return Team.objects.create(name=f"{grid.name}流调队", area=grid)

    def edit_data(self, cast, obj):
        return {"name": obj.name + "（二）", "area": obj.area.pk}


def test_a_tracer_sees_only_the_teams_they_are_on(cast, tr):
    client = cast.client_for(tr.tracer_a)
    assert client.get(tr.team_a.get_absolute_url()).status_code == 200
    assert client.get(tr.team_b.get_absolute_url()).status_code == 404


def test_a_community_sees_its_areas_cases_and_a_grid_worker_none(cast, tr):
    case = tr.case("a")
    assert cast.client_for(cast.community_officer).get(case.get_absolute_url()).status_code == 200
    assert cast.client_for(cast.grid_worker).get("/tracing/").status_code == 403
    assert cast.client_for(cast.grid_worker).get(case.get_absolute_url()).status_code == 404


def test_a_tracer_records_a_stop_and_contacts_on_the_case_page(cast, tr):
    case = tr.case("a")
    client = cast.client_for(tr.tracer_a)
    url = case.get_absolute_url()
    response = client.post(
        reverse("tracing:add_stop", args=[case.pk]),
        {
            "date": TODAY().isoformat(),
            "time_from": "12:00",
            "time_to": "13:00",
            "place": "牛肉面馆",
            "transport": "",
            "public": "on",
        },
    )
    assert response.status_code == 302
    assert TrajectoryEntry.objects.get(case=case).place == "牛肉面馆"
    # A stop without a place is refused with the reason, nothing saved.
    client.post(reverse("tracing:add_stop", args=[case.pk]), {"date": TODAY().isoformat(), "transport": ""})
    assert TrajectoryEntry.objects.count() == 1
    person = tr.person("b", name="食客")
    response = client.post(
        reverse("tracing:add_contact", args=[case.pk]),
        {
            "person": person.pk,
            "contact_class": "close",
            "setting": "meal",
            "closeness": "close",
            "last_contact": TODAY().isoformat(),
            "new_person": "",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(case=case, person=person)
    page = client.get(url).content.decode()
    assert "食客" in page and 'data-testid="confirm-contact"' in page
    client.post(reverse("tracing:contact_move", args=[contact.pk, "confirm"]))
    assert KeyPerson.objects.get(person=person).category == "close_contact"


def test_a_person_from_elsewhere_is_registered_and_added_from_the_case_page(cast, tr):
    case = tr.case("a")
    client = cast.client_for(tr.tracer_a)
    number = make_resident_id("310101", datetime.date(1985, 3, 3), 5)
    data = {
        "contact_class": "close",
        "setting": "vehicle",
        "closeness": "close",
        "last_contact": TODAY().isoformat(),
        "name": "外地乘客",
        "doc_type": "111",
        "doc_number": number,
        "phone": "13912345678",
        "new_person": ["", "1"],
    }
    client.post(reverse("tracing:add_contact", args=[case.pk]), data)
    contact = Contact.objects.get(case=case)
    assert contact.person.name == "外地乘客" and contact.person.residence_type == "migrant"
    # A wrong check digit: refused, no person, with the reason.
    bad = {**data, "name": "错号", "doc_number": number[:-1] + ("0" if number[-1] != "0" else "1")}
    response = client.post(reverse("tracing:add_contact", args=[case.pk]), bad, follow=True)
    assert Contact.objects.count() == 1
    assert "错号" not in [c.person.name for c in Contact.objects.all()]
    assert response.status_code == 200


def test_the_page_says_secondary_contacts_are_not_traced_under_the_twenty_measures(cast, tr):
    Protocol.objects.update(is_active=False)
    Protocol.objects.filter(code="twenty").update(is_active=True)
    case = tr.case("a")
    page = (
        cast.client_for(tr.tracer_a).get(case.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert "secondary contacts are no longer traced" in page
    assert '<option value="secondary"' not in page


def test_the_building_rule_proposes_from_the_page_and_confirm_all_registers(cast, tr):
    case_person = tr.person(room="201", name="病例")
    tr.person(room="201", name="同住")
    tr.person(room="301", name="楼上")
    case = tr.case(person=case_person)
    client = cast.client_for(tr.tracer_a)
    client.post(reverse("tracing:building_rule", args=[case.pk]), {"own_facilities": "1"})
    assert set(case.contacts.values_list("person__name", "contact_class")) == {
        ("同住", "close"),
        ("楼上", "secondary"),
    }
    client.post(reverse("tracing:confirm_all", args=[case.pk]))
    assert set(KeyPerson.objects.values_list("person__name", "category")) == {
        ("同住", "close_contact"),
        ("楼上", "secondary_contact"),
    }


def test_a_dismissal_needs_a_reason(cast, tr):
    case = tr.case("a")
    contact, _ = services.add_contact(None, case, tr.person(), last_contact=TODAY())
    client = cast.client_for(tr.tracer_a)
    client.post(reverse("tracing:contact_move", args=[contact.pk, "dismiss"]), {"note": ""})
    contact.refresh_from_db()
    assert contact.status == "proposed"
    client.post(reverse("tracing:contact_move", args=[contact.pk, "dismiss"]), {"note": "当天不在"})
    contact.refresh_from_db()
    assert (contact.status, contact.note) == ("dismissed", "当天不在")


def test_the_clocks_are_stopped_from_the_page(cast, tr):
    case = tr.case("a", hours_ago=1)
    client = cast.client_for(tr.tracer_a)
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'data-testid="mark-reported"' in page
    client.post(reverse("tracing:case_move", args=[case.pk, "reported"]))
    case.refresh_from_db()
    assert case.reported_at is not None
    assert 'data-testid="mark-reported"' not in client.get(case.get_absolute_url()).content.decode()
    # Another team's tracer cannot.
    assert (
        cast.client_for(tr.tracer_b)
        .post(reverse("tracing:case_move", args=[case.pk, "trajectory"]))
        .status_code
        == 404
    )


def test_the_published_trajectory_names_no_one(cast, tr):
    from pypdf import PdfReader

    case = tr.case("a", person=tr.person(name="王秘密"), onset=TODAY() - datetime.timedelta(days=1))
    case.person.phone = "+8613912345678"
    case.person.save()
    services.add_stop(
        None,
        case,
        date=TODAY(),
        place="张掖路牛肉面馆",
        activity="就餐",
        transport="bus",
        transport_number="1路",
    )
    services.add_stop(None, case, date=TODAY(), place="某公司（不公开）", public=False)
    response = cast.client_for(cast.auditor).get(reverse("tracing:trajectory_pdf", args=[case.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = text_of(reader)
    assert "张掖路牛肉面馆" in text and "1路" in text
    assert "某公司" not in text
    assert case.person.name not in text and case.person.doc_number not in text and "13912345678" not in text
    assert "确诊病例" in text  # Chinese by default
    fonts = [str(f) for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert fonts  # the CJK font is embedded, not referenced


def test_the_contact_export_is_masked(cast, tr, django_capture_on_commit_callbacks):
    from epigrid.jobs.models import Job

    case = tr.case("a")
    person = tr.person("b", name="密接甲", phone="+8613912345678")
    services.add_contact(None, case, person, last_contact=TODAY())
    client = cast.client_for(cast.auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("jobs:export_start", args=["tracing-contacts"]), {"query": f"case={case.pk}"}
        )
    assert response.status_code == 302
    job = Job.objects.latest("created")
    assert job.status == "succeeded", job.result
    from openpyxl import load_workbook

    with job.output_file.open("rb") as fh:
        rows = list(load_workbook(fh).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("病例编号", "病例姓名", "接触者姓名", "证件号码")
    assert len(rows) == 2
    assert person.doc_number not in str(rows) and "13912345678" not in str(rows)


def test_the_chain_data_is_scoped_to_the_team(cast, tr):
    case_a = tr.case("a")
    case_b = tr.case("b")
    services.add_contact(None, case_a, tr.person(name="甲的密接"), last_contact=TODAY())
    data = cast.client_for(tr.tracer_a).get(reverse("tracing:chain_data")).json()
    assert data["counts"]["cases"] == 1
    case_ids = {n[5] for n in data["nodes"]} - {0}
    assert case_ids == {case_a.pk}
    commander = cast.client_for(cast.commander).get(reverse("tracing:chain_data")).json()
    assert commander["counts"]["cases"] == 2 and commander["counts"]["chains"] == 2
    one = cast.client_for(cast.commander).get(reverse("tracing:chain_data") + f"?case={case_b.pk}").json()
    assert one["counts"]["cases"] == 1
    page = cast.client_for(tr.tracer_a).get(reverse("tracing:chain_page")).content.decode()
    assert 'id="chain-graph"' in page and "echarts.min.js" in page


def test_overdue_tracing_heads_todays_work(cast, tr):
    case = tr.case("a", hours_ago=9)
    services.add_contact(
        None,
        case,
        tr.person(name="超时密接"),
        last_contact=TODAY(),
        now=timezone.now() - datetime.timedelta(hours=9),
    )
    page = cast.client_for(cast.community_officer).get("/control/today/").content.decode()
    assert 'data-testid="tracing-overdue-today"' in page and "超时密接" in page
    assert_no_full_numbers(page)
    # Nothing overdue: no section.
    Case.objects.update(
        reported_at=timezone.now(), trajectory_done_at=timezone.now(), report_done_at=timezone.now()
    )
    Contact.objects.all().delete()
    assert (
        'data-testid="tracing-overdue-today"'
        not in cast.client_for(cast.community_officer).get("/control/today/").content.decode()
    )


def test_the_person_page_links_the_case_or_opens_one(cast, tr):
    person = tr.person(name="待流调")
    client = cast.client_for(cast.commander)
    page = client.get(person.get_absolute_url()).content.decode()
    assert 'data-testid="open-case"' in page
    form = client.get(reverse("tracing:case_add") + f"?person={person.pk}").content.decode()
    assert f'value="{person.pk}" selected' in form
    case = tr.case(person=person)
    page = client.get(person.get_absolute_url()).content.decode()
    assert 'data-testid="open-case"' not in page and case.get_absolute_url() in page
    # A grid worker (no tracing) sees no panel.
    assert (
        'data-testid="tracing-panel"'
        not in cast.client_for(cast.grid_worker).get(person.get_absolute_url()).content.decode()
    )


def test_a_case_is_opened_from_the_form(cast, tr):
    person = tr.person(name="新病例")
    client = cast.client_for(cast.commander)
    response = client.post(
        reverse("tracing:case_add"),
        {
            "person": person.pk,
            "classification": "confirmed",
            "sampled_on": TODAY().isoformat(),
            "positive_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "team": tr.team_a.pk,
        },
    )
    case = Case.objects.get(person=person)
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    assert case.team == tr.team_a
