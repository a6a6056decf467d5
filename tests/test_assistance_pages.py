"""Assistance pages: scoping through the generic mixins (requests by their receiving area, persons
by the community or grid they are assigned to: a grid worker sees only their grid's rows), the
deadline clock, the request form with rows typed by hand, answers from the phone cards, the
overdue block on today's work, and no full numbers for roles without the reveal right."""

import pytest
from django.utils import timezone

from epigrid.assistance import services
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.control.models import KeyPerson
from tests.scoping import ScopedViewTests, make_person
from tests.test_assistance_cast import assist, outsider_id, row_of


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def aid(cast):
    return assist(cast)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


class TestRequestPages(ScopedViewTests):
    """A request is seen in its receiving area's subtree: a community officer of grid A sees one
    filed under grid A, the officer of grid B does not."""

    model = AssistRequest
    list_url = "/assistance/"
    viewer = "assist_a"
    outsider = "assist_b"
    unrevealing = "auditor"

    def make_object(self, cast, grid):
        person = make_person(household=cast.household_a if grid == cast.grid_a else cast.household_b)
        return assist(cast).request(area=grid, rows=[row_of(person)])

    def list_text(self, obj):
        return obj.get_absolute_url()

    def edit_data(self, cast, obj):
        return {
            "requester": obj.requester,
            "reference": obj.reference,
            "contact": "刘老师",
            "in_province": "",
            "received_at": timezone.localtime(obj.received_at).strftime("%Y-%m-%dT%H:%M"),
            "area": obj.area.pk,
            "notes": "补充说明",
        }


class TestPersonPages(ScopedViewTests):
    """A person of a request is seen by the grid it is assigned to, not by the next grid."""

    model = AssistPerson
    list_url = "/assistance/persons/"

    def make_object(self, cast, grid):
        person = make_person(household=cast.household_a if grid == cast.grid_a else cast.household_b)
        return assist(cast).row(grid=grid, person=person)

    def list_text(self, obj):
        return obj.get_absolute_url()

    def edit_data(self, cast, obj):
        return {"area": cast.community.pk}


def test_the_request_list_shows_the_deadline_clock(cast, aid):
    aid.request(rows=[row_of()], hours_ago=30, reference="迟到1号")
    aid.request(rows=[row_of()], hours_ago=1, in_province=False, reference="准时2号")
    body = cast.client_for(cast.commander).get("/assistance/").content.decode()
    assert "overdue by 6 h" in body and "46 h 5" in body
    assert "data-due=" in body and "assistance/clock.js" in body
    assert "1 request overdue" in body


def test_a_grid_worker_answers_found_from_the_card(cast, aid):
    person = make_person(household=cast.household_a)
    row = aid.row(person=person)
    client = cast.client_for(cast.grid_worker)
    page = client.get(row.get_absolute_url()).content.decode()
    assert 'data-testid="answer-found"' in page
    response = client.post(
        f"/assistance/persons/{row.pk}/answer/", {"answer": "found", "note": "已核实"}, follow=True
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.status == "found" and KeyPerson.objects.get(person=person).source == "assistance"
    # The same tap again (a retried request) changes nothing and says so without an error.
    again = client.post(f"/assistance/persons/{row.pk}/answer/", {"answer": "found"}, follow=True)
    assert not [m for m in again.context["messages"] if m.level_tag == "error"]
    assert KeyPerson.objects.filter(person=person).count() == 1


def test_not_here_without_a_note_is_refused_with_a_message(cast, aid):
    row = aid.row()
    client = cast.client_for(cast.grid_worker)
    response = client.post(
        f"/assistance/persons/{row.pk}/answer/", {"answer": "left", "note": ""}, follow=True
    )
    assert any("where the person went" in m for m in messages_of(response))
    assert AssistPerson.objects.get(pk=row.pk).status == "pending"


def test_another_grids_worker_cannot_answer(cast, aid):
    row = aid.row()
    response = cast.client_for(cast.grid_worker_b).post(
        f"/assistance/persons/{row.pk}/answer/", {"answer": "found"}
    )
    assert response.status_code == 404


def test_an_auditor_sees_but_cannot_answer(cast, aid):
    row = aid.row()
    client = cast.client_for(cast.auditor)
    assert 'data-testid="answer-found"' not in client.get(row.get_absolute_url()).content.decode()
    assert client.post(f"/assistance/persons/{row.pk}/answer/", {"answer": "found"}).status_code == 403


def test_the_request_page_shows_progress_and_the_secondary_contact_note_under_twenty(cast, aid):
    from epigrid.control import services as control_services
    from epigrid.control.models import Protocol

    control_services.activate(Protocol.objects.get(code="twenty"))
    request = aid.request(
        area=cast.street, rows=[row_of(name="甲"), row_of(name="乙", category="secondary_contact")]
    )
    services.answer_not_here(cast.street_officer, request.persons.get(name="甲"), "no_such_person", "无此人")
    body = cast.client_for(cast.street_officer).get(request.get_absolute_url()).content.decode()
    assert 'data-testid="progress-percent">50%' in body
    assert 'data-testid="not-traced"' in body and "二十条" in body


def test_the_request_form_takes_rows_typed_by_hand(cast, aid):
    client = cast.client_for(cast.street_officer)
    assert client.get("/assistance/requests/add/").status_code == 200
    number = outsider_id()
    data = {
        "requester": "西安市疫情防控指挥部",
        "reference": "西协〔2022〕8号",
        "contact": "",
        "in_province": "",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "area": cast.street.pk,
        "notes": "",
        "rows-TOTAL_FORMS": "2",
        "rows-INITIAL_FORMS": "0",
        # An untouched row posts its selects' first values, as a browser does: it is skipped.
        "rows-1-doc_type": "111",
        "rows-1-category": "close_contact",
        "rows-0-name": "外地人",
        "rows-0-doc_type": "111",
        "rows-0-doc_number": number,
        "rows-0-phone": "138 1234 5678",
        "rows-0-category": "close_contact",
        "rows-0-exposure_on": "2022-11-18",
    }
    response = client.post("/assistance/requests/add/", data)
    assert response.status_code == 302, response.context and response.context["rows"].errors
    request = AssistRequest.objects.get()
    row = request.persons.get()
    assert (row.doc_number, row.phone, row.area) == (number, "+8613812345678", cast.street)
    assert request.due_at - request.received_at == timezone.timedelta(hours=48)
    assert request.created_by == cast.street_officer


def test_the_request_form_reports_a_bad_row_and_saves_nothing(cast, aid):
    client = cast.client_for(cast.street_officer)
    data = {
        "requester": "西安市",
        "reference": "西协〔2022〕9号",
        "in_province": "on",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "area": cast.street.pk,
        "rows-TOTAL_FORMS": "1",
        "rows-INITIAL_FORMS": "0",
        "rows-0-name": "错号",
        "rows-0-doc_type": "111",
        "rows-0-doc_number": "360426199101010072",
        "rows-0-category": "close_contact",
    }
    response = client.post("/assistance/requests/add/", data)
    assert response.status_code == 200 and not AssistRequest.objects.exists()
    assert response.context["rows"].forms[0].errors["doc_number"]


def test_a_person_is_added_on_the_request_page(cast, aid):
    request = aid.request(area=cast.street)
    client = cast.client_for(cast.street_officer)
    data = {"name": "补录", "doc_type": "111", "doc_number": outsider_id(), "category": "close_contact"}
    client.post(f"/assistance/requests/{request.pk}/persons/add/", data)
    assert request.persons.get().name == "补录"
    assert cast.client_for(cast.community_officer).post(
        f"/assistance/requests/{request.pk}/persons/add/", data
    ).status_code in (403, 404)


def test_todays_work_heads_with_the_overdue_persons_of_the_grid(cast, aid):
    late = aid.row(name="逾期人")
    AssistRequest.objects.filter(pk=late.request_id).update(
        received_at=timezone.now() - timezone.timedelta(hours=30),
        due_at=timezone.now() - timezone.timedelta(hours=6),
    )
    body = cast.client_for(cast.grid_worker).get("/control/today/").content.decode()
    assert 'data-testid="assist-overdue"' in body and "逾期人" in body
    other = cast.client_for(cast.grid_worker_b).get("/control/today/").content.decode()
    assert "逾期人" not in other


def test_pages_never_show_a_full_row_number_to_a_role_without_reveal(cast, aid):
    number = outsider_id()
    row = aid.row(doc_number=number, phone="+8613987654321")
    client = cast.client_for(cast.grid_worker)
    for url in ("/assistance/persons/", row.get_absolute_url()):
        body = client.get(url).content.decode()
        assert number not in body and "13987654321" not in body
    auditor = cast.client_for(cast.auditor)
    assert number not in auditor.get(row.request.get_absolute_url()).content.decode()


def test_the_list_pages_query_count_does_not_grow_with_rows(cast, aid, django_assert_max_num_queries):
    for n in range(12):
        aid.row(name=f"人{n}")
    client = cast.client_for(cast.commander)
    with django_assert_max_num_queries(25):
        assert client.get("/assistance/persons/").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get("/assistance/").status_code == 200
