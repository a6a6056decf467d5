"""API writes are in the change log (real token authentication), and the read-only audit-log
endpoint masks personal fields and stays within the user's area subtree."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from epigrid.accounts.models import Grant
from epigrid.audit.models import ObjectChange
from epigrid.core.identity import make_resident_id
from epigrid.people.models import Person
from tests.scoping import make_person


def _token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def wang(cast):
    return make_person(household=cast.household_a, name="王小明", phone="+8613912345678")


def test_it_logs_an_api_update_with_the_token_user_and_request_id(cast, wang):
    response = _token_client(cast.grid_worker).patch(
        f"/api/v1/persons/{wang.pk}/", {"name": "王晓明"}, format="json"
    )
    assert response.status_code == 200
    row = ObjectChange.objects.get(object_id=wang.pk, action="update")
    assert (row.user, row.user_name, row.source) == (cast.grid_worker, "grid_worker", "api")
    assert str(row.request_id) == response["X-Request-ID"]
    assert (row.prechange_data, row.postchange_data) == ({"name": "王小明"}, {"name": "王晓明"})


def test_it_logs_an_api_create_with_the_token_user(cast):
    number = make_resident_id("620102", datetime.date(1990, 1, 2), 901)
    response = _token_client(cast.grid_worker).post(
        "/api/v1/persons/",
        {"doc_number": number, "name": "赵六", "household": cast.household_a.pk},
        format="json",
    )
    person = Person.objects.get(doc_number=number)
    row = ObjectChange.objects.get(object_id=person.pk, content_type__model="person", action="create")
    assert (row.user, row.source, str(row.request_id)) == (cast.grid_worker, "api", response["X-Request-ID"])


def test_it_rejects_an_unknown_token(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    assert client.get("/api/v1/persons/").status_code == 401


def test_it_masks_personal_fields_in_the_audit_log(cast, wang):
    response = _api(cast.auditor).get("/api/v1/audit-log/", {"object_id": wang.pk, "action": "create"})
    row = response.json()["results"][0]
    assert row["object_type"] == "people.person"
    assert row["postchange_data"]["doc_number"] == wang.masked_doc_number
    assert row["postchange_data"]["phone"] == wang.masked_phone
    assert wang.doc_number not in response.content.decode()


def test_it_filters_the_audit_log_by_content_type_and_action(cast, wang):
    person_type = ContentType.objects.get_for_model(Person)
    data = (
        _api(cast.auditor)
        .get("/api/v1/audit-log/", {"content_type": person_type.pk, "action": "create"})
        .json()
    )
    assert [(row["object_type"], row["object_id"]) for row in data["results"]] == [("people.person", wang.pk)]


def test_it_filters_the_audit_log_by_user_and_date(cast, wang):
    _api(cast.grid_worker).patch(f"/api/v1/persons/{wang.pk}/", {"name": "王晓明"}, format="json")
    today = timezone.localdate()
    client = _api(cast.auditor)
    data = client.get("/api/v1/audit-log/", {"user": "grid_worker", "date": today.isoformat()}).json()
    assert [row["action"] for row in data["results"]] == ["update"]
    yesterday = today - datetime.timedelta(days=1)
    assert client.get("/api/v1/audit-log/", {"date": yesterday.isoformat()}).json()["results"] == []


def test_it_limits_the_audit_log_to_the_users_subtree(cast, wang):
    Grant.objects.create(user=cast.grid_worker_b, role="auditor", area=cast.grid_b)
    data = _api(cast.grid_worker_b).get("/api/v1/audit-log/", {"object_id": wang.pk}).json()
    assert all(row["object_type"] != "people.person" for row in data["results"])


def test_it_refuses_the_audit_log_to_a_role_without_it(cast, wang):
    assert _api(cast.grid_worker).get("/api/v1/audit-log/").status_code == 403


def test_it_keeps_the_audit_log_read_only(cast, wang):
    row = ObjectChange.objects.filter(object_id=wang.pk).first()
    client = _api(cast.admin)
    assert client.delete(f"/api/v1/audit-log/{row.pk}/").status_code in (403, 405)
    assert ObjectChange.objects.filter(pk=row.pk).exists()
