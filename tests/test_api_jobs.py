"""Jobs, imports and exports through the API: the same services and rules as the pages, with a
real token; only the user's own jobs; a retried confirm imports nothing twice."""

import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from epigrid.audit.models import ObjectChange
from epigrid.jobs import services
from epigrid.jobs.models import Job, Status
from epigrid.people.models import Person
from tests.test_import_residents import ID1, good_rows, xlsx

BAD_ID = ID1[:-1] + ("0" if ID1[-1] != "0" else "1")  # wrong check digit


def api(user):
    """A client that authenticates like an API consumer: with the user's token, no session."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def upload(client, capture, area, rows=None, ledger="residents", **fields):
    with capture(execute=True):
        response = client.post(
            f"/api/v1/imports/{ledger}/",
            {"file": xlsx(good_rows() if rows is None else rows), "area": area.code, **fields},
            format="multipart",
        )
    return response


def job_of(client, response):
    assert response.status_code == 202, response.content
    body = client.get(response["Location"]).json()
    assert body["id"] == response.json()["id"]
    return body


def test_it_previews_and_confirms_an_import_with_a_token(cast, django_capture_on_commit_callbacks):
    client = api(cast.community_officer)
    rows = [*good_rows(), [9, "孙九", BAD_ID, "", "第一网格", "1号楼", "1", "109", "", "", ""]]
    response = upload(client, django_capture_on_commit_callbacks, cast.community, rows)
    preview = job_of(client, response)
    assert (preview["kind"], preview["status"], preview["percent"]) == ("import", Status.SUCCEEDED, 100)
    result = preview["result"]
    assert (result["dry_run"], result["created"], result["rejected"]) == (True, 3, 1)
    assert [(e["row"], e["column"]) for e in result["errors"]] == [(6, "证件号码")]
    assert preview["download"] == f"http://testserver/jobs/{preview['id']}/download/"
    assert not Person.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/jobs/{preview['id']}/confirm/")
    job = job_of(client, response)
    assert job["status"] == Status.SUCCEEDED and job["id"] != preview["id"]
    assert (job["result"]["dry_run"], job["result"]["created"], job["result"]["rejected"]) == (False, 3, 1)
    assert Person.objects.count() == 3
    # The rows are logged as the token's user, from the job.
    change = ObjectChange.objects.get(content_type__model="person", action="create", object_repr="王磊")
    assert (change.user, change.source) == (cast.community_officer, "job")


def test_it_does_not_import_twice_when_a_confirm_is_retried(cast, django_capture_on_commit_callbacks):
    client = api(cast.community_officer)
    preview = job_of(client, upload(client, django_capture_on_commit_callbacks, cast.community))
    url = f"/api/v1/jobs/{preview['id']}/confirm/"
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url)
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["id"] == first.json()["id"] and second.json()["status"] == Status.SUCCEEDED
    assert Job.objects.filter(params__dry_run=False).count() == 1
    assert Person.objects.count() == 3
    assert ObjectChange.objects.filter(content_type__model="person", action="create").count() == 3


@pytest.mark.django_db(transaction=True)
def test_it_confirms_in_autocommit_with_inline_tasks(cast):
    # No test transaction: each job runs inside the request that starts it, as under
    # EPIGRID_TASKS=immediate. The confirm must have stored the upload's name before it runs.
    client = api(cast.community_officer)
    preview = client.post(
        "/api/v1/imports/residents/",
        {"file": xlsx(good_rows()), "area": cast.community.code},
        format="multipart",
    ).json()
    assert preview["status"] == Status.SUCCEEDED
    job = client.post(f"/api/v1/jobs/{preview['id']}/confirm/").json()
    assert (job["status"], job["result"]["created"]) == (Status.SUCCEEDED, 3), job["message"]
    assert Person.objects.count() == 3


def test_it_confirms_again_after_the_import_failed(cast, django_capture_on_commit_callbacks):
    client = api(cast.community_officer)
    preview = job_of(client, upload(client, django_capture_on_commit_callbacks, cast.community))
    url = f"/api/v1/jobs/{preview['id']}/confirm/"
    first = client.post(url)  # not committed: stays queued
    Job.objects.filter(pk=first.json()["id"]).update(status=Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url)
    assert second.status_code == 202 and second.json()["id"] != first.json()["id"]
    assert Person.objects.count() == 3


def test_it_refuses_to_confirm_what_is_not_a_finished_preview(cast, django_capture_on_commit_callbacks):
    client = api(cast.community_officer)
    queued = client.post(
        "/api/v1/imports/residents/",
        {"file": xlsx(good_rows()), "area": cast.community.code},
        format="multipart",
    ).json()
    response = client.post(f"/api/v1/jobs/{queued['id']}/confirm/")
    assert response.status_code == 409 and "detail" in response.json()
    preview = job_of(client, upload(client, django_capture_on_commit_callbacks, cast.community))
    with django_capture_on_commit_callbacks(execute=True):
        real = client.post(f"/api/v1/jobs/{preview['id']}/confirm/").json()
    assert client.post(f"/api/v1/jobs/{real['id']}/confirm/").status_code == 400
    assert Job.objects.filter(params__dry_run=False).count() == 1


def test_it_imports_at_once_when_dry_run_is_false(cast, django_capture_on_commit_callbacks):
    client = api(cast.community_officer)
    job = job_of(client, upload(client, django_capture_on_commit_callbacks, cast.community, dry_run="false"))
    assert job["result"]["created"] == 3 and job["download"] is None
    assert Person.objects.count() == 3


def test_it_takes_a_column_mapping(cast, django_capture_on_commit_callbacks):
    wb = openpyxl.Workbook()
    wb.active.append(["名字", "证件", "楼", "房"])
    wb.active.append(["张桂英", ID1, "1号楼", "101"])
    data = io.BytesIO()
    wb.save(data)
    data.seek(0)
    data.name = "odd.xlsx"
    client = api(cast.grid_worker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/residents/",
            {
                "file": data,
                "area": cast.grid_a.code,
                "mapping": json.dumps({"证件": "doc_number", "楼": "building", "房": "room"}),
            },
            format="multipart",
        )
    assert job_of(client, response)["result"]["created"] == 1


def test_it_refuses_a_mapping_to_unknown_fields(cast):
    client = api(cast.grid_worker)
    response = client.post(
        "/api/v1/imports/residents/",
        {"file": xlsx(good_rows()), "area": cast.grid_a.code, "mapping": json.dumps({"证件": "passport"})},
        format="multipart",
    )
    assert response.status_code == 400 and "mapping" in response.json()
    assert not Job.objects.exists()


def test_it_refuses_an_area_outside_the_users_scope(cast):
    client = api(cast.grid_worker)
    for code in (cast.grid_b.code, cast.community.code, "999999"):
        response = client.post(
            "/api/v1/imports/residents/", {"file": xlsx(good_rows()), "area": code}, format="multipart"
        )
        assert response.status_code == 400, code
        assert code in response.json()["area"][0]
    assert not Job.objects.exists()


def test_it_refuses_imports_to_roles_without_the_ledgers_permission(cast):
    response = api(cast.lab).post(
        "/api/v1/imports/residents/",
        {"file": xlsx(good_rows()), "area": cast.grid_a.code},
        format="multipart",
    )
    assert response.status_code == 403 and not Job.objects.exists()


def test_it_answers_404_for_an_unknown_ledger(cast):
    response = api(cast.admin).post(
        "/api/v1/imports/nonsense/", {"file": xlsx(good_rows()), "area": cast.grid_a.code}, format="multipart"
    )
    assert response.status_code == 404


def test_it_requires_authentication(cast):
    client = APIClient()
    assert client.get("/api/v1/jobs/").status_code == 401
    response = client.post(
        "/api/v1/imports/residents/",
        {"file": xlsx(good_rows()), "area": cast.grid_a.code},
        format="multipart",
    )
    assert response.status_code == 401 and not Job.objects.exists()


def test_it_answers_404_for_another_users_job(cast, django_capture_on_commit_callbacks):
    owner = api(cast.grid_worker)
    preview = job_of(
        owner,
        upload(
            owner, django_capture_on_commit_callbacks, cast.grid_a, [[1, "", ID1, "", "", "1号楼", "1", "1"]]
        ),
    )
    assert preview["download"]  # an error report to hide
    other = api(cast.grid_worker_b)
    assert other.get("/api/v1/jobs/").json()["results"] == []
    for method, suffix in (("get", ""), ("get", "download/"), ("post", "cancel/"), ("post", "confirm/")):
        response = getattr(other, method)(f"/api/v1/jobs/{preview['id']}/{suffix}")
        assert response.status_code == 404, suffix
    assert Job.objects.count() == 1 and Job.objects.get().status == Status.SUCCEEDED
    assert [j["id"] for j in owner.get("/api/v1/jobs/").json()["results"]] == [preview["id"]]


def test_it_exports_through_the_api_with_a_download(cast, django_capture_on_commit_callbacks):
    from tests.scoping import make_person

    make_person(household=cast.household_a, name="张桂英", phone="+8613812345678")
    make_person(household=cast.household_b, name="刘洋")
    client = api(cast.commander)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/exports/persons/", {"query": f"area={cast.grid_a.code}"}, format="json"
        )
    job = job_of(client, response)
    assert (job["kind"], job["status"]) == ("export", Status.SUCCEEDED)
    assert job["download"] == f"http://testserver/jobs/{job['id']}/download/"
    data = b"".join(client.get(job["api_download"]).streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["张桂英"] and "138****5678" in rows[1]
    # The page route in `download` serves the same file to the user's browser session.
    page = cast.client_for(cast.commander)
    assert b"".join(page.get(job["download"]).streaming_content) == data
    assert ObjectChange.objects.filter(action="export", user=cast.commander).exists()


def test_it_exports_full_data_only_with_the_right_and_a_reason(cast, django_capture_on_commit_callbacks):
    assert (
        api(cast.grid_worker)
        .post("/api/v1/exports/persons/", {"unmasked": True, "reason": "上报"}, format="json")
        .status_code
        == 403
    )
    officer = api(cast.community_officer)
    for reason in ("", " x "):
        response = officer.post(
            "/api/v1/exports/persons/", {"unmasked": True, "reason": reason}, format="json"
        )
        assert response.status_code == 400 and "reason" in response.json()
    assert not Job.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            "/api/v1/exports/persons/", {"unmasked": True, "reason": "上报疾控"}, format="json"
        )
    assert job_of(officer, response)["status"] == Status.SUCCEEDED
    assert Job.objects.get().params["unmasked"] is True


def test_it_refuses_exports_of_unknown_or_invisible_lists(cast):
    client = api(cast.grid_worker)
    assert client.post("/api/v1/exports/nonsense/", {}, format="json").status_code == 404
    assert client.post("/api/v1/exports/audit/", {}, format="json").status_code == 403


def test_it_cancels_a_queued_job(cast):
    client = api(cast.grid_worker)
    job = client.post(
        "/api/v1/imports/residents/",
        {"file": xlsx(good_rows()), "area": cast.grid_a.code},
        format="multipart",
    ).json()
    assert job["status"] == Status.QUEUED  # the test's transaction never commits: not started
    response = client.post(f"/api/v1/jobs/{job['id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == Status.CANCELLED
    services.execute(job["id"])  # a worker picking it up now does nothing
    assert Job.objects.get().status == Status.CANCELLED and not Person.objects.exists()


def test_it_filters_the_job_list_by_status(cast, django_capture_on_commit_callbacks):
    client = api(cast.grid_worker)
    done = job_of(client, upload(client, django_capture_on_commit_callbacks, cast.grid_a, [good_rows()[0]]))
    client.post(
        "/api/v1/imports/residents/",
        {"file": xlsx(good_rows()), "area": cast.grid_a.code},
        format="multipart",
    )
    results = client.get("/api/v1/jobs/", {"status": "succeeded"}).json()["results"]
    assert [j["id"] for j in results] == [done["id"]]
    assert len(client.get("/api/v1/jobs/").json()["results"]) == 2


def test_it_hides_a_failed_jobs_traceback(cast, django_capture_on_commit_callbacks):
    client = api(cast.grid_worker)
    garbage = io.BytesIO(b"\x00not a sheet")
    garbage.name = "garbage.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/residents/", {"file": garbage, "area": cast.grid_a.code}, format="multipart"
        )
    job = job_of(client, response)
    assert job["status"] == Status.FAILED and job["message"]
    assert job["result"] is None and "traceback" in Job.objects.get().result


def test_it_documents_the_job_endpoints_in_a_valid_schema(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/jobs/{id}/confirm/", "/api/v1/imports/{ledger}/", "/api/v1/exports/{name}/"):
        assert path in text
