"""Every create, update and delete is logged with who, when, which request and before/after."""

import pytest

from epigrid.areas.models import Building, Household
from epigrid.audit.models import ObjectChange
from epigrid.audit.services import log_bulk_create, log_bulk_update
from epigrid.core.context import change_context
from tests.scoping import make_person


def test_it_logs_a_page_edit_with_user_request_and_changed_fields(cast):
    person = make_person(household=cast.household_a, name="张三")
    client = cast.client_for(cast.grid_worker)
    response = client.post(
        f"/people/{person.pk}/edit/",
        {"name": "张叁", "residence_type": "migrant", "household": cast.household_a.pk},
    )
    row = ObjectChange.objects.get(object_id=person.pk, action="update")
    assert row.user == cast.grid_worker and row.source == "web"
    assert str(row.request_id) == response["X-Request-ID"]
    assert row.prechange_data == {"name": "张三", "residence_type": "registered"}
    assert row.postchange_data == {"name": "张叁", "residence_type": "migrant"}


def test_it_logs_creation_and_deletion(cast):
    client = cast.client_for(cast.community_officer)
    client.post("/areas/households/add/", {"building": cast.building_a.pk, "unit": "1", "room": "909"})
    household = Household.objects.get(room="909")
    client.post(f"/areas/households/{household.pk}/delete/")
    actions = list(
        ObjectChange.objects.filter(object_id=household.pk, content_type__model="household").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["create", "delete"]


def test_it_logs_changes_made_by_commands_under_a_change_context(cast):
    with change_context(user=cast.admin, source="command"):
        Building.objects.create(area=cast.grid_a, name="5号楼")
    row = ObjectChange.objects.get(object_repr__endswith="5号楼")
    assert (row.user, row.source, row.action) == (cast.admin, "command", "create")


def test_it_logs_bulk_creates_and_updates(cast):
    buildings = Building.objects.bulk_create([Building(area=cast.grid_a, name=f"{i}栋") for i in range(3)])
    with change_context(user=cast.admin, source="import"):
        log_bulk_create(buildings)
        for b in buildings:
            b.address = "新地址"
        Building.objects.bulk_update(buildings, ["address"])
        log_bulk_update(buildings)
    rows = ObjectChange.objects.filter(source="import")
    assert rows.filter(action="create").count() == 3
    assert rows.filter(action="update").count() == 3
    assert rows.filter(action="update").first().postchange_data["address"] == "新地址"


def test_it_files_changes_under_the_objects_area_for_scoped_auditing(cast):
    person = make_person(household=cast.household_a)
    row = ObjectChange.objects.get(object_id=person.pk, content_type__model="person", action="create")
    assert row.area_path == cast.grid_a.path


def test_it_shows_the_audit_log_to_an_auditor_with_ids_masked(cast):
    person = make_person(household=cast.household_a, name="钱七")
    html = cast.client_for(cast.auditor).get("/audit/").content.decode()
    assert "钱七" in html
    assert person.doc_number not in html and person.masked_doc_number in html


def test_it_filters_the_audit_log_by_user_and_object(cast):
    person = make_person(household=cast.household_a, name="孙八")
    client = cast.client_for(cast.grid_worker)
    client.post(
        f"/people/{person.pk}/edit/",
        {"name": "孙捌", "residence_type": "registered", "household": cast.household_a.pk},
    )
    auditor = cast.client_for(cast.auditor)
    html = auditor.get("/audit/", {"user": "grid_worker", "object_id": person.pk}).content.decode()
    assert "孙捌" in html
    assert "1号楼" not in auditor.get("/audit/", {"user": "grid_worker"}).content.decode()


@pytest.mark.parametrize("username", ["grid_worker", "community_officer"])
def test_it_keeps_the_audit_log_from_roles_without_the_right(cast, username):
    make_person(household=cast.household_a, name="钱七")
    assert cast.client_for(getattr(cast, username)).get("/audit/").status_code == 403


def test_it_keeps_a_district_auditor_from_another_districts_changes(cast):
    from epigrid.accounts.models import Grant
    from epigrid.areas.models import Area, Level

    other = Area.objects.create(code="620103", name="七里河区", level=Level.DISTRICT, parent=cast.city)
    Grant.objects.filter(user=cast.auditor).update(area=other)
    make_person(household=cast.household_a, name="周九")
    assert "周九" not in cast.client_for(cast.auditor).get("/audit/").content.decode()


def test_it_filters_the_log_by_local_days(cast):
    """since/until are days in Asia/Shanghai: 23:30 UTC on the 1st is already the 2nd there."""
    import datetime as dt

    from django.utils import timezone as tz

    ObjectChange.objects.all().delete()
    make_person(household=cast.household_a, name="早")
    row = ObjectChange.objects.get()
    row.time = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 2026-03-02 07:30 in Shanghai
    row.save()
    client = cast.client_for(cast.admin)

    def ids(**params):
        return [r["id"] for r in _api_client(cast.admin).get("/api/v1/audit-log/", params).json()["results"]]

    assert ids(since="2026-03-02", until="2026-03-02") == [row.pk]
    assert ids(until="2026-03-01") == [] and ids(since="2026-03-03") == []
    assert tz.localtime(row.time).date() == dt.date(2026, 3, 2)
    assert client.get("/audit/", {"since": "2026-03-02"}).status_code == 200


def _api_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client
