"""Enterprise pages: the generic scope tests for enterprises, employees and applications; an
enterprise contact sees and edits only their enterprise, a community only its own subtree; the
contact's phone masked (revealed with a reason); the workflow buttons; the roster by document;
the gate's phone page recording who measured; imports with bad rows; exports masked."""

import datetime
import io

import openpyxl
import pytest
from django.utils import translation

from epigrid.accounts.models import Grant, User
from epigrid.core.identity import make_resident_id
from epigrid.core.imports import run_import
from epigrid.enterprises import services
from epigrid.enterprises.imports import EnterpriseResource, StaffResource
from epigrid.enterprises.models import Application, Employee, Enterprise, TemperatureReading
from epigrid.jobs.models import Job
from tests.enterprises_cast import USCC_A, works
from tests.scoping import ScopedViewTests, assert_no_full_numbers, make_person

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
S = Application.Status


@pytest.fixture
def w(cast):
    return works(cast)


class TestEnterprisePages(ScopedViewTests):
    model = Enterprise
    list_url = "/enterprises/"

    def make_object(self, cast, grid):
        return works(cast).enterprise(grid)

    def list_text(self, obj):
        return obj.name

    def edit_data(self, cast, obj):
        return {
            "name": obj.name,
            "uscc": obj.uscc,
            "kind": obj.kind,
            "size": obj.size,
            "area": obj.area.pk,
            "contact_phone": obj.masked_contact_phone,
            "contact_logins": "",
        }


class TestEmployeePages(ScopedViewTests):
    model = Employee
    list_url = "/enterprises/employees/"

    def make_object(self, cast, grid):
        w = works(cast)
        return w.employee(w.enterprise(grid))

    def list_text(self, obj):
        return obj.person.name

    def edit_data(self, cast, obj):
        return {"department": "仓库", "is_active": "on"}


class TestApplicationPages(ScopedViewTests):
    model = Application
    list_url = "/enterprises/applications/"

    def make_object(self, cast, grid):
        w = works(cast)
        return w.draft(w.enterprise(grid))

    def list_text(self, obj):
        return obj.enterprise.name

    def edit_data(self, cast, obj):
        return {
            "planned_start": obj.planned_start.isoformat(),
            "prevention_plan": "新预案",
            "emergency_plan": "x",
        }


def test_an_enterprise_contact_sees_and_edits_only_their_enterprise(cast, w):
    client = cast.client_for(w.contact)
    body = client.get("/enterprises/").content.decode()
    assert w.a.name in body and w.b.name not in body
    assert client.get(w.b.get_absolute_url()).status_code == 404
    assert client.get(w.a.get_absolute_url()).status_code == 200
    assert client.get(f"/enterprises/{w.a.pk}/edit/").status_code == 200
    # Not a contact of any: a contact-role grant alone reaches nothing.
    stranger = User.objects.create_user("contact_c", password="x")
    Grant.objects.create(user=stranger, role="enterprise_contact", area=cast.community)
    assert w.a.name not in cast.client_for(stranger).get("/enterprises/").content.decode()


def test_a_community_sees_only_its_own_subtree(cast, w):
    from epigrid.areas.models import Area, Level

    other = Area.objects.create(
        code="620102001002", name="雁滩社区", level=Level.COMMUNITY, parent=cast.street
    )
    grid = Area.objects.create(code="620102001002001", name="雁滩一网格", level=Level.GRID, parent=other)
    far = Enterprise.objects.create(name="雁滩食品厂", uscc="91620100MA72UQ8D5M", area=grid)
    body = cast.client_for(cast.community_officer).get("/enterprises/").content.decode()
    assert w.a.name in body and w.b.name in body and far.name not in body
    assert cast.client_for(cast.street_officer).get(far.get_absolute_url()).status_code == 200


def test_the_contact_phone_is_masked_and_revealed_with_a_reason(cast, w):
    body = cast.client_for(cast.grid_worker).get(w.a.get_absolute_url()).content.decode()
    assert "139****5678" in body and "13912345678" not in body
    client = cast.client_for(cast.community_officer)
    response = client.post(
        f"/enterprises/{w.a.pk}/reveal/", {"reason_choice": "", "reason": "联系企业复工核查"}
    )
    assert "139 1234 5678" in response.content.decode() or "13912345678" in response.content.decode()


def test_the_roster_on_the_page_is_masked(cast, w):
    w.employee()
    body = cast.client_for(cast.grid_worker).get(w.a.get_absolute_url()).content.decode()
    assert "张工" in body and w.worker.masked_doc_number in body
    assert_no_full_numbers(body)


def test_a_contact_adds_an_employee_by_document_and_an_unknown_one_is_explained(cast, w):
    client = cast.client_for(w.contact)
    response = client.post(
        f"/enterprises/{w.a.pk}/employees/add/", {"doc_type": "111", "doc_number": w.worker.doc_number}, **EN
    )
    assert response.status_code == 302 and Employee.objects.filter(enterprise=w.a, person=w.worker).exists()
    unknown = make_resident_id("620102", datetime.date(1991, 2, 3), 777)
    response = client.post(
        f"/enterprises/{w.a.pk}/employees/add/", {"doc_type": "111", "doc_number": unknown}, follow=True, **EN
    )
    assert "not in the resident registry" in response.content.decode()
    assert Employee.objects.count() == 1


def test_the_workflow_buttons_move_the_application(cast, w):
    w.ready()
    app = w.draft()
    contact = cast.client_for(w.contact)
    body = contact.get(app.get_absolute_url(), **EN).content.decode()
    assert 'data-testid="submit"' in body and 'data-testid="approve"' not in body
    contact.post(f"/enterprises/applications/{app.pk}/submit/")
    officer = cast.client_for(cast.community_officer)
    body = officer.get(app.get_absolute_url()).content.decode()
    assert 'data-testid="approve"' in body and 'data-testid="refuse"' in body
    assert contact.post(f"/enterprises/applications/{app.pk}/approve/", {"note": ""}).status_code == 302
    assert Application.objects.get(pk=app.pk).status == S.SUBMITTED  # the contact cannot approve
    officer.post(f"/enterprises/applications/{app.pk}/approve/", {"note": "加强通风"})
    officer.post(f"/enterprises/applications/{app.pk}/check/", {"note": "五到位"})
    officer.post(f"/enterprises/applications/{app.pk}/permit/", {"permitted_from": ""})
    app.refresh_from_db()
    assert app.status == S.PERMITTED
    assert app.permit_number in cast.client_for(w.contact).get(w.a.get_absolute_url()).content.decode()


def test_a_refusal_shows_its_reason_to_the_enterprise(cast, w):
    app = w.at(S.SUBMITTED)
    cast.client_for(cast.street_officer).post(
        f"/enterprises/applications/{app.pk}/refuse/", {"reason": "承诺书未签字"}
    )
    body = cast.client_for(w.contact).get(w.a.get_absolute_url()).content.decode()
    assert "承诺书未签字" in body


def test_the_phase_error_comes_back_as_a_message(cast, w):
    w.a.phase = w.phase(days_ahead=7)
    w.a.save()
    w.ready()
    app = w.draft()
    response = cast.client_for(w.contact).post(
        f"/enterprises/applications/{app.pk}/submit/", follow=True, **EN
    )
    assert "at the earliest" in response.content.decode()


def test_the_gate_page_records_who_measured(cast, w):
    employee = w.employee()
    client = cast.client_for(w.contact)
    page = client.get(f"/enterprises/{w.a.pk}/gate/", **EN)
    assert page.status_code == 200 and 'data-testid="gate-employee"' in page.content.decode()
    response = client.post(
        f"/enterprises/employees/{employee.pk}/temperature/", {"temperature": "37.5", "back": "gate"}
    )
    assert response.status_code == 302 and response.url.endswith(f"/enterprises/{w.a.pk}/gate/")
    reading = TemperatureReading.objects.get()
    assert reading.measured_by == w.contact and reading.fever
    assert cast.client_for(cast.grid_worker).get(f"/enterprises/{w.a.pk}/gate/").status_code == 403


def test_the_contacts_phone_page_lists_their_enterprise(cast, w):
    w.employee()
    body = cast.client_for(w.contact).get("/enterprises/mine/", **EN).content.decode()
    assert w.a.name in body and w.b.name not in body and 'data-testid="gate-link"' in body


def test_the_card_form_comes_from_the_protocol(cast, w):
    employee = w.employee()
    client = cast.client_for(w.contact)
    body = client.get(employee.get_absolute_url()).content.decode()
    assert "近14天是否到过中高风险区所在县（市、区、旗）" in body
    data = {
        "left_city": "no",
        "places": "兰州",
        "risk_area": "yes",
        "contact": "no",
        "symptoms": "no",
        "family_ill": "no",
        "returned_on": "2022-11-01",
        "transport": "自驾",
        "health_code": "绿码",
    }
    client.post(f"/enterprises/employees/{employee.pk}/card/", data)
    assert employee.cards.get().answers["risk_area"] == "yes"
    assert 'data-testid="card-flags"' in client.get(employee.get_absolute_url()).content.decode()


# -- imports and exports ------------------------------------------------------------------------


def _xlsx(header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def test_the_enterprise_import_refuses_a_bad_code_and_writes_the_rest(cast, w):
    header = ["企业名称", "统一社会信用代码", "类型", "规模", "所属区域代码", "联系电话"]
    rows = [
        ["兰州新材料厂", "91620100MA72UQ8D5M", "企业", "规上", cast.grid_a.code, "13800001234"],
        ["坏码公司", "91620100MA72UQ8D5X", "企业", "规下", "", ""],
        ["九州建材有限公司（改）", USCC_A, "企业", "规上", cast.grid_a.code, ""],
    ]
    with translation.override("en"):
        result = run_import(
            EnterpriseResource(cast.community_officer, cast.community),
            _xlsx(header, rows),
            "企业.xlsx",
            dry_run=False,
        )
    assert result.created == 1 and result.updated == 1 and result.rejected == 1
    assert result.errors[0]["row"] == 3 and "credit code" in result.errors[0]["message"]
    assert (
        Enterprise.objects.get(uscc=USCC_A).name == "九州建材有限公司(改)"
    )  # full-width brackets normalised


def test_the_staff_import_links_registry_persons_and_explains_unknown_documents(cast, w):
    other = make_person(household=cast.household_b, name="王五")
    unknown = make_resident_id("620102", datetime.date(1992, 3, 4), 888)
    header = ["姓名", "证件号码", "部门岗位"]
    rows = [
        ["张工", w.worker.doc_number, "一班"],
        ["王五", other.doc_number, "二班"],
        ["赵六", unknown, "三班"],
        ["李四", other.doc_number[:-1] + "0", ""],
    ]
    with translation.override("en"):
        result = run_import(StaffResource(w.contact, w.a), _xlsx(header, rows), "名录.xlsx", dry_run=False)
    assert result.created == 2 and result.rejected == 2
    messages = {e["row"]: e["message"] for e in result.errors}
    assert "not in the resident registry" in messages[4] and unknown not in messages[4]
    assert set(Employee.objects.filter(enterprise=w.a).values_list("person__name", flat=True)) == {
        "张工",
        "王五",
    }


def test_exports_are_masked(cast, w, django_capture_on_commit_callbacks):
    w.employee()
    for name, url in (("enterprises", "/enterprises/"), ("enterprise-staff", "/enterprises/employees/")):
        with django_capture_on_commit_callbacks(execute=True):
            response = cast.client_for(cast.grid_worker).post(f"/jobs/export/{name}/", {"query": "", "back": url})
        assert response.status_code == 302, (name, response.status_code)
        job = Job.objects.get(kind="export", params__export=name)  # job keys are UUIDs: no order
        assert job.status == "succeeded", job.result
        wb = openpyxl.load_workbook(job.output_file.open("rb"))
        text = " ".join(str(c.value) for row in wb.active.iter_rows() for c in row if c.value is not None)
        assert_no_full_numbers(text)
        assert "13912345678" not in text
    assert "张工" in text and w.worker.masked_doc_number in text


def test_the_application_export_runs(cast, w, django_capture_on_commit_callbacks):
    w.at(S.CONDITIONAL)
    with django_capture_on_commit_callbacks(execute=True):
        cast.client_for(cast.street_officer).post(
            "/jobs/export/enterprise-applications/", {"query": "", "back": "/"}
        )
    assert Job.objects.get(kind="export", params__export="enterprise-applications").status == "succeeded"


def test_services_import_is_not_a_name_clash():
    assert services.PPE_RULE_DAYS == 3


def test_daily_report_completeness_shows_on_the_list_and_the_page(cast, w):
    from django.utils import timezone

    from epigrid.enterprises import daily
    from epigrid.reports import services as reports

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    services.issue_permit(cast.community_officer, w.at(S.CHECKED), yesterday - datetime.timedelta(days=1))
    form = daily.daily_form()
    figures = daily.live(form, w.a, yesterday)
    raw = {"staff_on_duty": 1, "from_risk_areas": 0, "disinfections": 3, "isolation_room_ready": True, **figures}
    sent = form.deadline(yesterday) - datetime.timedelta(hours=1)
    reports.submit(cast.community_officer, form, None, yesterday, raw, sender=w.a, now=sent)
    client = cast.client_for(cast.community_officer)
    # Two days due (three once today's deadline has passed), one received on time.
    due = 2 + (timezone.now() >= form.deadline(timezone.localdate()))
    assert f"1/{due} received, 1 on time" in client.get("/enterprises/", **EN).content.decode()
    body = client.get(w.a.get_absolute_url(), **EN).content.decode()
    assert f"Last 7 days: 1 of {due} reports received, 1 on time, 0 late." in body


def test_the_contact_cannot_change_the_phase_area_or_code(cast, w):
    client = cast.client_for(w.contact)
    body = client.get(f"/enterprises/{w.a.pk}/edit/").content.decode()
    assert 'name="phase"' not in body and 'name="area"' not in body and 'name="name"' in body
    response = client.post(f"/enterprises/{w.a.pk}/edit/", {"name": "九州建材", "area": cast.grid_b.pk, "phase": ""})
    assert response.status_code == 302
    w.a.refresh_from_db()
    assert w.a.name == "九州建材" and w.a.area == cast.grid_a
    assert list(w.a.contacts.all()) == [w.contact]


def test_the_contact_lands_on_their_enterprise(cast, w):
    response = cast.client_for(w.contact).get("/")
    assert response.status_code == 302 and response.url == "/enterprises/mine/"
