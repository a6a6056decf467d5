"""The person API: masking, reveal, merge, duplicates, search and scope on writes."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from epigrid.accounts.models import Grant
from epigrid.audit.models import ObjectChange
from epigrid.core.identity import make_resident_id
from epigrid.people import services
from epigrid.people.models import Person, Tag
from tests.scoping import make_person


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def wang(cast):
    return make_person(household=cast.household_a, name="王小明", phone="+8613912345678")


def _new_person(cast, **extra):
    number = make_resident_id("620102", datetime.date(1990, 1, 2), 901)
    return {"doc_number": number, "name": "赵六", "household": cast.household_a.pk, **extra}


def test_it_masks_document_and_phone_in_the_list(cast, wang):
    response = _api(cast.grid_worker).get("/api/v1/persons/")
    row = response.json()["results"][0]
    assert (row["doc_number"], row["phone"]) == (wang.masked_doc_number, wang.masked_phone)
    assert wang.doc_number not in response.content.decode()
    assert "13912345678" not in response.content.decode()


def test_it_masks_document_and_phone_in_the_detail(cast, wang):
    response = _api(cast.grid_worker).get(f"/api/v1/persons/{wang.pk}/")
    assert (response.json()["doc_number"], response.json()["phone"]) == (
        wang.masked_doc_number,
        wang.masked_phone,
    )
    assert wang.doc_number not in response.content.decode()


def test_it_masks_the_echo_of_a_create(cast):
    data = _new_person(cast, phone="13812345678")
    response = _api(cast.grid_worker).post("/api/v1/persons/", data, format="json")
    assert response.status_code == 201, response.json()
    assert data["doc_number"] not in response.content.decode()
    assert "13812345678" not in response.content.decode()


def test_it_derives_sex_and_birth_date_from_the_id_and_ignores_given_ones(cast):
    data = _new_person(cast, sex="F", birth_date="2000-01-01")
    body = _api(cast.grid_worker).post("/api/v1/persons/", data, format="json").json()
    assert (body["sex"], body["birth_year"]) == ("M", 1990)
    assert "birth_date" not in body  # with the masked number it would narrow the ID (issue 7)


def test_it_normalises_id_and_phone_on_input(cast):
    data = _new_person(cast, phone="138 1234 5678")
    data["doc_number"] = " ".join([data["doc_number"][:6], data["doc_number"][6:]]).lower()
    _api(cast.grid_worker).post("/api/v1/persons/", data, format="json")
    person = Person.objects.get(name="赵六")
    assert (person.doc_number, person.phone) == (
        data["doc_number"].replace(" ", "").upper(),
        "+8613812345678",
    )


def test_it_accepts_an_id_with_an_unknown_region_code(cast):
    data = _new_person(cast, doc_number=make_resident_id("999999", datetime.date(1950, 3, 4), 7))
    assert _api(cast.grid_worker).post("/api/v1/persons/", data, format="json").status_code == 201


def test_it_reports_a_bad_check_digit_on_the_doc_number_field(cast):
    data = _new_person(cast, doc_number="360426199101010072")
    response = _api(cast.grid_worker).post("/api/v1/persons/", data, format="json")
    assert response.status_code == 400 and list(response.json()) == ["doc_number"]
    assert response.json()["doc_number"][0]


def test_it_reports_a_bad_phone_on_the_phone_field(cast):
    response = _api(cast.grid_worker).post(
        "/api/v1/persons/", _new_person(cast, phone="12345"), format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["phone"]


def test_it_keeps_masked_values_sent_back_unchanged(cast, wang):
    client = _api(cast.grid_worker)
    data = client.get(f"/api/v1/persons/{wang.pk}/").json()
    response = client.put(f"/api/v1/persons/{wang.pk}/", {**data, "name": "王晓明"}, format="json")
    assert response.status_code == 200, response.json()
    wang.refresh_from_db()
    assert (wang.name, wang.phone, wang.doc_number[-4:]) == (
        "王晓明",
        "+8613912345678",
        data["doc_number"][-4:],
    )


def test_it_refuses_changing_the_document_of_a_person(cast, wang):
    other = make_resident_id("620102", datetime.date(1970, 1, 1), 5)
    response = _api(cast.grid_worker).patch(
        f"/api/v1/persons/{wang.pk}/", {"doc_number": other}, format="json"
    )
    assert response.status_code == 400 and "doc_number" in response.json()


def test_it_answers_409_with_the_record_for_a_duplicate_in_scope(cast, wang):
    data = _new_person(cast, doc_number=wang.doc_number.lower())
    response = _api(cast.grid_worker).post("/api/v1/persons/", data, format="json")
    assert response.status_code == 409
    assert response.json()["existing"].endswith(f"/api/v1/persons/{wang.pk}/")
    assert Person.objects.count() == 1


def test_it_answers_409_without_data_for_a_duplicate_out_of_scope(cast, wang):
    data = _new_person(cast, doc_number=wang.doc_number, household=cast.household_b.pk)
    response = _api(cast.grid_worker_b).post("/api/v1/persons/", data, format="json")
    assert response.status_code == 409
    assert list(response.json()) == ["detail"]
    text = response.content.decode()
    assert "王小明" not in text and str(wang.pk) not in text and cast.grid_a.code not in text
    assert Person.objects.count() == 1


def test_it_answers_409_when_the_unique_constraint_catches_a_concurrent_create(cast, wang, monkeypatch):
    # Another request registered the document between the look-up and the insert.
    monkeypatch.setattr(services, "find_by_document", lambda doc_type, number: None)
    data = _new_person(cast, doc_number=wang.doc_number)
    response = _api(cast.grid_worker).post("/api/v1/persons/", data, format="json")
    assert response.status_code == 409
    assert Person.objects.count() == 1


def test_it_refuses_moving_a_person_into_a_household_the_user_cannot_see(cast, wang):
    response = _api(cast.grid_worker).patch(
        f"/api/v1/persons/{wang.pk}/", {"household": cast.household_b.pk, "name": "改名"}, format="json"
    )
    assert response.status_code == 400 and "household" in response.json()
    wang.refresh_from_db()
    assert (wang.name, wang.household) == ("王小明", cast.household_a)


def test_it_rolls_back_a_move_to_a_household_the_user_may_only_view(cast, wang):
    Grant.objects.create(user=cast.grid_worker, role="auditor", area=cast.district)
    user = get_user_model().objects.get(pk=cast.grid_worker.pk)  # fresh grant cache
    response = _api(user).patch(
        f"/api/v1/persons/{wang.pk}/", {"household": cast.household_b.pk, "name": "改名"}, format="json"
    )
    assert response.status_code == 403
    wang.refresh_from_db()
    assert (wang.name, wang.household, wang.area) == ("王小明", cast.household_a, cast.grid_a)
    assert not ObjectChange.objects.filter(object_id=wang.pk, action="update").exists()


@pytest.mark.parametrize(
    "term",
    [
        lambda p: "王小",  # name prefix
        lambda p: p.doc_number,  # full ID
        lambda p: p.doc_number[-4:],  # last four ID characters
        lambda p: "139 1234 5678",  # phone as typed
    ],
    ids=["name", "full-id", "id-tail", "phone"],
)
def test_it_searches_persons_through_q(cast, wang, term):
    make_person(household=cast.household_a, name="李四", phone="+8613700000000")
    data = _api(cast.grid_worker).get("/api/v1/persons/", {"q": term(wang)}).json()
    assert [row["id"] for row in data["results"]] == [wang.pk]


def test_it_limits_search_to_the_users_scope(cast, wang):
    data = _api(cast.grid_worker_b).get("/api/v1/persons/", {"q": wang.doc_number}).json()
    assert data["results"] == []


def test_it_filters_persons_by_area_code(cast, wang):
    other = make_person(household=cast.household_b, name="赵六")
    data = _api(cast.commander).get("/api/v1/persons/", {"area": cast.grid_b.code}).json()
    assert [row["id"] for row in data["results"]] == [other.pk]


def test_it_keeps_the_person_list_query_count_flat(cast):
    tag = Tag.objects.get(code="elderly_alone")

    def count_queries():
        user = get_user_model().objects.get(pk=cast.grid_worker.pk)  # no grant cache carried over
        with CaptureQueriesContext(connection) as queries:
            assert _api(user).get("/api/v1/persons/").status_code == 200
        return len(queries)

    make_person(household=cast.household_a, name="甲").tags.add(tag)
    few = count_queries()
    for i in range(10):
        make_person(household=cast.household_a, name=f"乙{i}").tags.add(tag)
    assert count_queries() == few


def test_it_reveals_full_data_and_logs_the_reason(cast, wang):
    response = _api(cast.community_officer).post(
        f"/api/v1/persons/{wang.pk}/reveal/", {"reason": "核实身份"}, format="json"
    )
    assert response.json() == {
        "doc_number": wang.doc_number,
        "phone": "13912345678",
        "birth_date": wang.birth_date.isoformat(),
    }
    row = ObjectChange.objects.get(action="reveal", object_id=wang.pk)
    assert (row.user, row.reason, row.source) == (cast.community_officer, "核实身份", "api")


def test_it_refuses_a_reveal_to_a_grid_worker(cast, wang):
    response = _api(cast.grid_worker).post(
        f"/api/v1/persons/{wang.pk}/reveal/", {"reason": "想看看"}, format="json"
    )
    assert response.status_code == 403
    assert not ObjectChange.objects.filter(action="reveal").exists()


def test_it_hides_a_person_of_another_grid_from_reveal(cast, wang):
    Grant.objects.create(user=cast.grid_worker_b, role="community_officer", area=cast.grid_b)
    user = get_user_model().objects.get(pk=cast.grid_worker_b.pk)
    response = _api(user).post(f"/api/v1/persons/{wang.pk}/reveal/", {"reason": "核实身份"}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("body", [{}, {"reason": " x "}], ids=["missing", "short"])
def test_it_refuses_a_reveal_without_a_real_reason(cast, wang, body):
    response = _api(cast.community_officer).post(f"/api/v1/persons/{wang.pk}/reveal/", body, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert not ObjectChange.objects.filter(action="reveal").exists()


def test_it_merges_a_duplicate_for_a_community_officer(cast, wang):
    duplicate = make_person(household=cast.household_a, name="王小明", doc_type="400", doc_number="E12345678")
    response = _api(cast.community_officer).post(
        f"/api/v1/persons/{wang.pk}/merge/", {"duplicate": duplicate.pk, "reason": "重复登记"}, format="json"
    )
    assert response.status_code == 200, response.json()
    duplicate.refresh_from_db()
    assert duplicate.merged_into == wang


def test_it_refuses_merging_for_a_grid_worker(cast, wang):
    duplicate = make_person(household=cast.household_a, name="王晓明")
    response = _api(cast.grid_worker).post(
        f"/api/v1/persons/{wang.pk}/merge/", {"duplicate": duplicate.pk, "reason": "重复登记"}, format="json"
    )
    assert response.status_code == 403
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


def test_it_refuses_merging_a_duplicate_the_user_may_not_change(cast, wang):
    # The commander's district view puts the duplicate in sight; the merge grant covers grid A only.
    duplicate = make_person(household=cast.household_b, name="王晓明")
    Grant.objects.create(user=cast.commander, role="community_officer", area=cast.grid_a)
    user = get_user_model().objects.get(pk=cast.commander.pk)
    response = _api(user).post(
        f"/api/v1/persons/{wang.pk}/merge/", {"duplicate": duplicate.pk, "reason": "重复登记"}, format="json"
    )
    assert response.status_code == 400 and "duplicate" in response.json()
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


def test_it_still_serves_a_merged_record_by_its_url(cast, wang):
    duplicate = make_person(household=cast.household_a, name="王晓明")
    services.merge(wang, duplicate)
    response = _api(cast.grid_worker).get(f"/api/v1/persons/{duplicate.pk}/")
    assert response.json()["merged_into"] == wang.pk
