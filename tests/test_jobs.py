"""Background jobs: progress, cancel, one run per job, recovery after a worker stops."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone, translation

from epigrid.jobs import services
from epigrid.jobs.models import Job, Status
from tests.local_services import needs_redis

RUNS = []


@services.handler("test.count")
def _count(job, progress):
    RUNS.append(job.pk)
    if job.params.get("stop_at_attempt") == job.attempts:
        raise SystemExit(1)  # what django-tasks' db_worker raises on a second stop signal
    if job.params.get("out_of_memory"):
        raise MemoryError
    total = job.params.get("n", 3)
    for i in range(total):
        if job.params.get("cancel_at") == i:
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        progress(i + 1, total, f"step {i + 1}")
    if job.params.get("fail"):
        raise RuntimeError("the file vanished")
    services.attach_output(job, "result.txt", ContentFile(b"done"))
    return {"summary": [["steps", total]]}


@pytest.fixture(autouse=True)
def _clear_runs():
    RUNS.clear()


def _submit(cast, capture, **params):
    with capture(execute=True):
        job = services.submit("test.count", cast.grid_worker, "计数", params)
    job.refresh_from_db()
    return job


def test_it_runs_a_job_to_the_end_with_progress(cast, django_capture_on_commit_callbacks):
    job = _submit(cast, django_capture_on_commit_callbacks, n=4)
    assert (job.status, job.done, job.total, job.percent) == (Status.SUCCEEDED, 4, 4, 100)
    assert job.result == {"summary": [["steps", 4]]}


def test_it_runs_a_job_only_once_even_if_executed_twice(cast, django_capture_on_commit_callbacks):
    job = _submit(cast, django_capture_on_commit_callbacks)
    services.execute(job.pk)
    assert [job.pk] == RUNS


def test_it_cancels_a_running_job_at_its_next_progress_report(cast, django_capture_on_commit_callbacks):
    job = _submit(cast, django_capture_on_commit_callbacks, n=5, cancel_at=2)
    assert job.status == Status.CANCELLED and job.done == 3 and not job.output_file


def test_it_cancels_a_queued_job_before_it_starts(cast):
    job = services.submit("test.count", cast.grid_worker, "计数")  # not committed: still queued
    services.cancel(job)
    services.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and RUNS == []


def test_it_records_a_failure_with_its_reason(cast, django_capture_on_commit_callbacks):
    job = _submit(cast, django_capture_on_commit_callbacks, fail=True)
    assert job.status == Status.FAILED and "the file vanished" in job.message


def test_it_fails_a_job_left_running_by_a_dead_worker_instead_of_requeueing_it(cast):
    job = services.submit("test.count", cast.grid_worker, "计数")
    old = timezone.now() - datetime.timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(status=Status.RUNNING, heartbeat=old, attempts=1)
    with translation.override("en"):
        assert services.recover_stale() == 1
    job.refresh_from_db()
    assert (job.status, RUNS) == (Status.FAILED, [])
    assert job.finished and "stopped unexpectedly" in job.message and "too large or damaged" in job.message


def test_it_leaves_a_job_with_a_fresh_heartbeat_alone(cast):
    job = services.submit("test.count", cast.grid_worker, "计数")
    Job.objects.filter(pk=job.pk).update(status=Status.RUNNING, heartbeat=timezone.now(), attempts=1)
    assert services.recover_stale() == 0


def test_it_fails_every_job_left_running_when_the_only_worker_starts(cast):
    job = services.submit("test.count", cast.grid_worker, "计数")
    Job.objects.filter(pk=job.pk).update(status=Status.RUNNING, heartbeat=timezone.now(), attempts=1)
    assert services.recover_stale(max_age=datetime.timedelta(0)) == 1
    job.refresh_from_db()
    assert job.status == Status.FAILED and RUNS == []


def test_it_requeues_a_job_whose_worker_was_told_to_stop(cast):
    job = services.submit("test.count", cast.grid_worker, "计数", {"stop_at_attempt": 1})
    with pytest.raises(SystemExit):
        services.execute(job.pk)  # the stop reaches the worker, which still exits
    job.refresh_from_db()
    assert (job.status, job.attempts, RUNS) == (Status.SUCCEEDED, 2, [job.pk, job.pk])


def test_it_gives_up_on_a_job_its_workers_were_told_to_stop_too_often(cast):
    job = services.submit("test.count", cast.grid_worker, "计数", {"stop_at_attempt": services.MAX_ATTEMPTS})
    Job.objects.filter(pk=job.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    with pytest.raises(SystemExit), translation.override("en"):
        services.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED and "stopped too often" in job.message


def test_it_fails_a_job_that_runs_out_of_memory_with_the_reason(cast, django_capture_on_commit_callbacks):
    with translation.override("en"):
        job = _submit(cast, django_capture_on_commit_callbacks, out_of_memory=True)
    assert job.status == Status.FAILED and "too large or damaged" in job.message


def test_it_shows_a_job_and_its_download_only_to_its_owner(cast, django_capture_on_commit_callbacks):
    job = _submit(cast, django_capture_on_commit_callbacks)
    owner, other = cast.client_for(cast.grid_worker), cast.client_for(cast.grid_worker_b)
    assert owner.get(job.get_absolute_url()).status_code == 200
    assert b"".join(owner.get(f"/jobs/{job.pk}/download/").streaming_content) == b"done"
    assert other.get(job.get_absolute_url()).status_code == 404
    assert other.get(f"/jobs/{job.pk}/download/").status_code == 404


def test_it_polls_the_progress_panel_while_the_job_runs(cast):
    job = services.submit("test.count", cast.grid_worker, "计数")
    html = (
        cast.client_for(cast.grid_worker).get(job.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    )
    assert 'hx-trigger="every 1s"' in html and "<html" not in html


def test_it_cancels_from_the_page(cast):
    job = services.submit("test.count", cast.grid_worker, "计数")
    cast.client_for(cast.grid_worker).post(f"/jobs/{job.pk}/cancel/")
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


@needs_redis("the production queue option")
def test_it_runs_a_job_through_the_redis_queue(cast, settings, django_capture_on_commit_callbacks):
    import django_rq
    from django_tasks_rq import Job as RQJob
    from rq import SimpleWorker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    queue = django_rq.get_queue("default")
    queue.empty()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.submit("test.count", cast.grid_worker, "计数", {"n": 2})
    job.refresh_from_db()
    assert job.status == Status.QUEUED  # waiting in Redis, not run inline
    SimpleWorker([queue], connection=queue.connection, job_class=RQJob).work(burst=True)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    assert [job.pk] == RUNS


# -- issue 8: progress that adds up, and the preview's rows -------------------------------------
def _preview(cast, capture, rows=None):
    from tests.test_import_residents import good_rows, xlsx

    client = cast.client_for(cast.community_officer)
    with capture(execute=True):
        client.post(
            "/jobs/import/residents/", {"area": cast.community.code, "file": xlsx(rows or good_rows())}
        )
    return client, Job.objects.get()


def test_it_counts_an_import_in_rows_and_drops_the_running_message_when_done(
    cast, django_capture_on_commit_callbacks
):
    client, preview = _preview(cast, django_capture_on_commit_callbacks)
    assert (preview.status, preview.done, preview.total, preview.message) == (Status.SUCCEEDED, 3, 3, "")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/jobs/{preview.pk}/confirm/")
    job = Job.objects.get(params__dry_run=False)
    assert (job.done, job.total, job.message) == (3, 3, "")  # no "正在写入 3 行" on a finished job
    html = client.get(job.get_absolute_url()).content.decode()
    assert "3 / 3" in html and "正在写入" not in html


def test_it_shows_no_count_for_a_job_that_counted_nothing(cast, django_capture_on_commit_callbacks):
    job = _submit(cast, django_capture_on_commit_callbacks, n=0)
    html = cast.client_for(cast.grid_worker).get(job.get_absolute_url()).content.decode()
    assert job.status == Status.SUCCEEDED and "0 / 0" not in html and 'data-testid="job-count"' not in html


def test_it_shows_the_previews_rows_masked_on_the_page_and_in_the_api(
    cast, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from tests.test_import_residents import ID1, ID2, good_rows

    client, preview = _preview(cast, django_capture_on_commit_callbacks)
    html = client.get(preview.get_absolute_url()).content.decode()
    assert 'data-testid="job-rows"' in html and "6201**********" + ID1[-4:] in html
    assert "138****5678" in html and "1941" in html
    api = APIClient()
    api.force_authenticate(cast.community_officer)
    result = api.get(f"/api/v1/jobs/{preview.pk}/").json()["result"]
    assert [r["row"] for r in result["rows"]] == [3, 4, 5]
    for body in (html, str(result)):
        assert ID1 not in body and ID2 not in body and "13812345678" not in body and "1941-03-08" not in body
    assert good_rows()[0][1] in html  # names are shown
